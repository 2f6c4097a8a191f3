"""Gold-call NLL: how likely a model finds BFCL's reference answer, without generating anything.

For each BFCL question with an answer key, the reference answer is written exactly as fine-tuning taught
the model to answer: a callforge sample (the question, the tools as callforge.evaluate.inference shows
them) plus one assistant turn holding the gold calls, laid out by callforge.finetune.train_data.encode
(callforge.complexity.render: tools in the system prompt, calls in Python call syntax, the turn's
end-of-turn marker included). The gold calls take, per argument, the first value BFCL's key allows;
an argument the key lets be left out ("" among its values, or []) is left out, inside dict values too.

One forward pass per question (finetune.train.token_losses, the training loss itself) gives the negative
log-likelihood of each answer token given everything before it; a question's figure is the mean over its
answer tokens (nats per token). Per category and overall: the mean over questions with its 95% Student t
interval, for base and for base + adapter, and the paired difference tuned - base with its paired t
interval and verdict (callforge.evaluate.intervals.mean_interval / paired_mean). Lower is better: a
negative delta means fine-tuning made the reference answers more likely. The report (metrics/evaluate.json,
bfcl.gold_nll):

  {"available", "method", "skipped": {code: n}, "tokens": {"prompt", "answer"},
   "models": {"base" | "finetuned": {"categories": {cat: {"n", "mean", "ci95"}}, "overall": {...}}},
   "delta": {"categories": {cat: {"n", "delta", "ci95", "p_value", "significant"}}, "overall": {...}},
   "calls_only": {"models": ..., "delta": ...}}      # the same without the end-of-turn marker

"calls_only" matters for base vs tuned: a base model never trained its end-of-turn row (finetune trains it),
so that one token costs the base model ~30 nats and dominates the whole-answer delta.

Needs the model's weights (backend=local); an OpenAI-compatible chat server gives no likelihood of a
given answer, so there the report says gold NLL is not available, and why.
"""
from __future__ import annotations

import contextlib
import sys
import time
from collections import Counter

from callforge.calling import ast_checker
from callforge.calling.bfcl import Entry
from callforge.complexity.render import FORMATS, calls_text
from callforge.evaluate.inference import bfcl_tools, question_sample
from callforge.evaluate.intervals import mean_interval, paired_mean
from callforge.finetune.train_data import BadLine, Example, encode

SERVER_REASON = ("backend=server: an OpenAI-compatible chat server returns no likelihood of a given answer; "
                 "gold NLL needs the model weights (backend=local)")
METHOD = ("mean NLL per answer token (nats; the reference calls rendered as in fine-tuning, end-of-turn marker "
          "included), averaged over questions; 95% Student t interval over questions; delta = finetuned - base "
          "with a paired t interval; significant = the interval excludes 0; calls_only: the same without the "
          "end-of-turn marker")


# -- the reference answer -------------------------------------------------------------------------------

def gold_value(allowed):
    """One concrete value out of an allowed value of BFCL's key: a dict in answer form ({key: [allowed...]})
    becomes a dict of first choices (keys that may be left out are left out); lists element by element."""
    if isinstance(allowed, dict):
        out = {}
        for k, opts in allowed.items():
            opts = opts if isinstance(opts, list) else [opts]
            if not ast_checker.may_omit(opts):
                out[k] = gold_value(opts[0])
        return out
    if isinstance(allowed, list):
        return [gold_value(v) for v in allowed]
    return allowed


def gold_calls(ground_truth: list[dict]) -> list[dict]:
    """BFCL's [{name: {arg: [allowed...]}}] as calls [{"name", "arguments"}]: the first allowed value of
    each argument; arguments the key lets be left out are left out."""
    calls = []
    for g in ground_truth:
        (name, params), = g.items()
        calls.append({"name": name, "arguments": {k: gold_value(opts[0]) for k, opts in params.items()
                                                  if not ast_checker.may_omit(opts)}})
    return calls


def gold_sample(entry: Entry) -> dict:
    """The question as fine-tuning data: its turns, its tools, and the gold calls as the assistant's answer."""
    s = question_sample(entry.id, entry.messages, bfcl_tools(entry.functions))
    s["messages"].append({"role": "assistant", "content": None, "tool_calls": gold_calls(entry.ground_truth)})
    return s


def encode_gold(entries: list[Entry], tokenizer, chat_format: str) -> tuple[list[tuple[Entry, Example, str]], Counter]:
    """[(entry, example, answer text)] for the entries with an answer key whose gold answer can be written,
    and {reason code: count} for the others (callforge/core/reasons.py): an AST verdict (the derived calls
    fail callforge's own check against the key) or a train.* code (e.g. not writable as Python calls)."""
    out, skipped = [], Counter()
    for e in entries:
        if not e.ground_truth:
            continue                     # irrelevance: no reference answer to score
        sample = gold_sample(e)
        calls = sample["messages"][-1]["tool_calls"]
        verdict = ast_checker.check(calls, e.ground_truth, sample["tools"])
        if not verdict.ok:
            skipped[verdict.reason] += 1
            continue
        try:
            ex = encode(sample, tokenizer, chat_format, sys.maxsize)     # no length cap: nothing is cut
        except BadLine as err:
            skipped[err.code] += 1
            continue
        out.append((e, ex, calls_text(calls, "python")))
    return out, skipped


# -- scoring --------------------------------------------------------------------------------------------

class NllScorer:
    """Per-question answer-token NLL from a transformers model (optionally a peft model)."""

    def __init__(self, model, tokenizer, chat_format: str, *, adapter: bool = True, batch_size: int = 1):
        self.model, self.tok, self.fmt = model, tokenizer, chat_format
        self.adapter = adapter          # False on a peft model: score as the base model (adapter switched off)
        self.batch_size = batch_size
        self.end_ids = tokenizer(FORMATS[chat_format].end, add_special_tokens=False)["input_ids"]
        self.stats = {"nll_s": 0.0}

    def score(self, examples: list[Example]) -> list[dict]:
        """{"tokens", "nll", "nll_call"} per example, in order: answer tokens (end marker included), their
        mean NLL, and the mean over the call tokens alone (the end-of-turn marker left out)."""
        import torch

        from callforge.finetune.train import token_losses

        out: list[dict | None] = [None] * len(examples)
        order = sorted(range(len(examples)), key=lambda i: (len(examples[i].input_ids), i))   # less padding
        device = next(self.model.parameters()).device
        pad = self.tok.pad_token_id
        peft = hasattr(self.model, "disable_adapter")
        mode = (self.model.disable_adapter() if not self.adapter else tokens_merged(self.model)) if peft \
            else contextlib.nullcontext()
        t0 = time.perf_counter()
        with torch.inference_mode(), mode:
            for a in range(0, len(order), self.batch_size):
                idx = order[a:a + self.batch_size]
                batch = [examples[i] for i in idx]
                flat = token_losses(self.model, batch, pad, device).double().cpu()
                for i, nll in zip(idx, torch.split(flat, [e.n_labels for e in batch])):
                    out[i] = self._one(examples[i], nll.tolist())
        self.stats["nll_s"] = round(self.stats["nll_s"] + time.perf_counter() - t0, 2)
        return out

    def _one(self, ex: Example, nll: list[float]) -> dict:
        labels = [t for t in ex.labels[1:] if t >= 0]       # the targets token_losses scored, in order
        k = len(self.end_ids)
        call = nll[:-k] if k and len(nll) > k and labels[-k:] == self.end_ids else nll
        return {"tokens": len(nll), "nll": sum(nll) / len(nll), "nll_call": sum(call) / len(call)}


@contextlib.contextmanager
def tokens_merged(model):
    """A peft model's trained embedding rows (finetune trains the end-of-turn row: peft's trainable tokens)
    written into the embedding matrix for the duration. Unmerged, peft copies the whole matrix (262k x 640
    for gemma-3-270m, and again for the tied output layer) on every forward pass; merged, the rows are
    replaced in place and unmerge puts the original rows back, so the figures are the same, bit for bit.
    LoRA's low-rank updates stay unmerged (adding them into bf16 weights would round them away)."""
    try:
        from peft.tuners.trainable_tokens.layer import TrainableTokensLayer
    except ImportError:
        yield
        return
    layers = [m for m in model.modules() if isinstance(m, TrainableTokensLayer) and not m.merged]
    for m in layers:
        m.merge()
    try:
        yield
    finally:
        for m in layers:
            if m.merged:
                m.unmerge()


def scorers_for(generators: dict, batch_size: int) -> dict | None:
    """NLL scorers on the models behind local generators (callforge.evaluate.inference.HFGenerator),
    sharing their loaded model; None when a generator has no weights here (a server)."""
    if not all(hasattr(g, "model") and hasattr(g, "tok") for g in generators.values()):
        return None
    return {name: NllScorer(g.model, g.tok, g.fmt, adapter=getattr(g, "adapter", True), batch_size=batch_size)
            for name, g in generators.items()}


# -- the report -----------------------------------------------------------------------------------------

def summarise(values: list[tuple[str, float]]) -> dict:
    """[(category, value)] -> {"categories": {cat: mean_interval}, "overall": mean_interval}."""
    cats = sorted({c for c, _ in values})
    return {"categories": {c: mean_interval([v for k, v in values if k == c]) for c in cats},
            "overall": mean_interval([v for _, v in values])}


def report(scorers: dict, entries: list[Entry], chat_format: str, tokenizer) -> tuple[dict, list[dict]]:
    """Gold NLL of each scorer's model on the `entries` that have an answer key: (report, per-question rows).
    "models" (and, with scorers named "base" and "finetuned", their paired "delta") score the whole answer as
    trained; "calls_only" the same without the end-of-turn marker, whose row a base model never trained (it
    costs gemma-3-270m ~30 nats), so that view shows what fine-tuning did to the calls themselves."""
    encoded, skipped = encode_gold(entries, tokenizer, chat_format)
    examples = [ex for _, ex, _ in encoded]
    scores = {name: s.score(examples) for name, s in scorers.items()}
    cats = [e.category for e, _, _ in encoded]
    rep: dict = {"available": True, "method": METHOD, "skipped": dict(sorted(skipped.items())),
                 "tokens": {"prompt": sum(len(x.input_ids) - x.n_labels for x in examples),
                            "answer": sum(x.n_labels for x in examples)},
                 **_view(scores, cats, "nll"), "calls_only": _view(scores, cats, "nll_call"),
                 "time": {f"{name}_s": s.stats["nll_s"] for name, s in scorers.items()}}   # runtime, not data
    rows = [{"id": e.id, "category": e.category, "answer": text, "prompt_tokens": len(ex.input_ids) - ex.n_labels,
             "answer_tokens": ex.n_labels,
             "nll": {name: round(sc[i]["nll"], 6) for name, sc in scores.items()},
             "nll_call": {name: round(sc[i]["nll_call"], 6) for name, sc in scores.items()}}
            for i, (e, ex, text) in enumerate(encoded)]
    return rep, rows


def _view(scores: dict, cats: list[str], key: str) -> dict:
    out = {"models": {name: summarise([(c, r[key]) for c, r in zip(cats, sc)]) for name, sc in scores.items()}}
    if "base" in scores and "finetuned" in scores:
        b, t = [x[key] for x in scores["base"]], [x[key] for x in scores["finetuned"]]
        out["delta"] = {
            "categories": {c: paired_mean([v for k, v in zip(cats, b) if k == c], [v for k, v in zip(cats, t) if k == c])
                           for c in sorted(set(cats))},
            "overall": paired_mean(b, t)}
    return out


def not_available(reason: str) -> dict:
    return {"available": False, "reason": reason}
