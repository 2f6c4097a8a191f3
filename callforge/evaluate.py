"""Scoring models on function-calling questions: per category, overall, base vs fine-tuned.

Questions are callforge.bfcl.Entry objects: real BFCL categories, or callforge's own held-out
split, which the export stage writes in BFCL's layout (data/export/eval_bfcl, read by bfcl.Source). Each model answer is parsed as Python call
syntax and checked with callforge.ast_checker; the report is a plain dict for metrics/evaluate.json:

  {"models": {"base": {"categories": {cat: {"n", "correct", "accuracy"}}, "overall": {...},
                       "reasons": {reason: count}}, "finetuned": {...}},
   "delta": {"categories": {cat: finetuned - base}, "overall": ..., "macro": ...}}

"overall" is accuracy over all questions; "macro" the unweighted mean of the category accuracies
(BFCL's own summaries average categories, so a large category does not drown a small one).
"""
from __future__ import annotations

from collections import Counter

from callforge import ast_checker
from callforge.bfcl import Entry
from callforge.inference import bfcl_tools, parse_answer, question_sample


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
    n = sum(c["n"] for c in cats.values())
    correct = sum(c["correct"] for c in cats.values())
    return {
        "categories": dict(sorted(cats.items())),
        "overall": {"n": n, "correct": correct, "accuracy": round(correct / n, 4) if n else None,
                    "macro": round(sum(c["accuracy"] for c in cats.values()) / len(cats), 4) if cats else None},
        "reasons": dict(sorted(Counter(r["reason"] for r in records if not r["ok"]).items())),
    }


def delta(base: dict, tuned: dict) -> dict:
    """Fine-tuned minus base accuracy, per category and overall (None where either is missing)."""
    def diff(a, b):
        return None if a is None or b is None else round(b - a, 4)
    cats = sorted(set(base["categories"]) | set(tuned["categories"]))
    return {
        "categories": {c: diff(base["categories"].get(c, {}).get("accuracy"),
                               tuned["categories"].get(c, {}).get("accuracy")) for c in cats},
        "overall": diff(base["overall"]["accuracy"], tuned["overall"]["accuracy"]),
        "macro": diff(base["overall"]["macro"], tuned["overall"]["macro"]),
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
        report["delta"] = delta(report["models"]["base"], report["models"]["finetuned"])
    return report, records
