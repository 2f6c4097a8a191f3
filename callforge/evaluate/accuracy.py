"""Scoring models on function-calling questions: per category, overall, base vs fine-tuned.

Questions are callforge.calling.bfcl.Entry objects: real BFCL categories, or callforge's own held-out
split, which the export stage writes in BFCL's layout (data/export/eval_bfcl, read by bfcl.Source). Each model answer is parsed as Python call
syntax and checked with callforge.calling.ast_checker; the report is a plain dict for metrics/evaluate.json:

  {"models": {"base": {"categories": {cat: {"n", "correct", "accuracy", "ci95"}}, "overall": {...},
                       "reasons": {reason: count}}, "finetuned": {...}},
   "delta": {"categories": {cat: paired}, "overall": paired, "macro": finetuned - base}}

"overall" is accuracy over all questions; "macro" the unweighted mean of the category accuracies
(BFCL's own summaries average categories, so a large category does not drown a small one).
Every accuracy carries its n and a 95% Wilson interval; every base-vs-tuned difference is paired on the
same questions: {"n", "delta", "ci95", "p_value", "significant", "tuned_only", "base_only"}
(callforge.evaluate.intervals).
"""
from __future__ import annotations

from collections import Counter

from callforge.calling import ast_checker
from callforge.evaluate.intervals import paired, wilson
from callforge.calling.bfcl import Entry
from callforge.evaluate.inference import bfcl_tools, parse_answer, question_sample


def question(entry: Entry) -> dict:
    return question_sample(entry.id, entry.messages, bfcl_tools(entry.functions))


def judge(entry: Entry, answer: str | None) -> dict:
    """One answer, checked: {"id", "category", "ok", "reason", "detail", "answer"}."""
    parsed = parse_answer(answer)
    res = ast_checker.check(parsed.calls, entry.ground_truth, entry.functions)
    reason, detail = res.reason, res.detail
    if not res.ok and parsed.error and not parsed.calls:
        reason, detail = "unparsed", parsed.error   # text that was not a call list where calls were due
    return {"id": entry.id, "category": entry.category, "ok": res.ok, "reason": reason, "detail": detail,
            "answer": answer}


def summarise(records: list[dict]) -> dict:
    cats: dict[str, dict] = {}
    for r in records:
        c = cats.setdefault(r["category"], {"n": 0, "correct": 0})
        c["n"] += 1
        c["correct"] += int(r["ok"])
    for c in cats.values():
        c["accuracy"] = round(c["correct"] / c["n"], 4)
        c["ci95"] = wilson(c["correct"], c["n"])
    n = sum(c["n"] for c in cats.values())
    correct = sum(c["correct"] for c in cats.values())
    return {
        "categories": dict(sorted(cats.items())),
        "overall": {"n": n, "correct": correct, "accuracy": round(correct / n, 4) if n else None,
                    "ci95": wilson(correct, n),
                    "macro": round(sum(c["accuracy"] for c in cats.values()) / len(cats), 4) if cats else None},
        "reasons": dict(sorted(Counter(r["reason"] for r in records if not r["ok"]).items())),
    }


def delta(base: list[dict], tuned: list[dict], base_summary: dict, tuned_summary: dict) -> dict:
    """Fine-tuned vs base on the same questions, per category and overall, paired question by question."""
    if [r["id"] for r in base] != [r["id"] for r in tuned]:
        raise ValueError("base and fine-tuned answers must be for the same questions in the same order")
    pairs = [(t["category"], b["ok"], t["ok"]) for b, t in zip(base, tuned)]
    cats = sorted({c for c, _, _ in pairs})
    macro = (None if base_summary["overall"]["macro"] is None or tuned_summary["overall"]["macro"] is None
             else round(tuned_summary["overall"]["macro"] - base_summary["overall"]["macro"], 4))
    return {
        "categories": {c: paired([b for k, b, _ in pairs if k == c], [t for k, _, t in pairs if k == c]) for c in cats},
        "overall": paired([b for _, b, _ in pairs], [t for _, _, t in pairs]),
        "macro": macro,
    }


def evaluate(generators: dict, entries: list[Entry]) -> tuple[dict, dict[str, list[dict]]]:
    """Run each named generator over `entries`; (report, per-model answer records).
    With models named "base" and "finetuned", the report carries their delta."""
    questions = [question(e) for e in entries]
    report: dict = {"models": {}}
    records: dict[str, list[dict]] = {}
    for name, gen in generators.items():
        answers = gen.generate(questions)
        records[name] = [judge(e, a) for e, a in zip(entries, answers)]
        report["models"][name] = summarise(records[name])
    if "base" in report["models"] and "finetuned" in report["models"]:
        report["delta"] = delta(records["base"], records["finetuned"], report["models"]["base"],
                                report["models"]["finetuned"])
    return report, records
