"""Gold-call NLL (callforge.evaluate.gold_nll): the reference answer, written as fine-tuning writes answers,
scored by one forward pass per question.

The last test is the real thing: a LoRA adapter trained a few steps (finetune.train, the packaged
gemma-3-270m) on BFCL-format answers to a handful of BFCL questions must make those reference answers
more likely than the base model finds them, on the call tokens too, not only the end-of-turn marker.
"""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from callforge.calling import bfcl
from callforge.complexity.render import context_before_first_response, render
from callforge.evaluate import gold_nll
from callforge.finetune.train_data import IGNORE
from conftest import require_train_extra

TOOL = {"name": "book", "description": "Book a trip.", "parameters": {"type": "dict", "required": ["city", "when"],
        "properties": {"city": {"type": "string"}, "when": {"type": "dict", "properties": {
            "day": {"type": "integer"}, "month": {"type": "string"}}}, "seats": {"type": "integer"},
            "tags": {"type": "array", "items": {"type": "string"}}}}}


class CharTokenizer:
    """One id per character: label masks and prompts can be read back as text."""

    pad_token_id = 0

    def __call__(self, text, add_special_tokens=False):
        return {"input_ids": [ord(c) for c in text]}


def test_gold_calls_take_the_first_allowed_value_and_leave_optional_arguments_out():
    gt = [{"book": {"city": ["Paris", "paris"], "when": [{"day": [3], "month": ["", "May"]}], "seats": ["", 2],
                    "tags": [["a", "b"], ["b"]], "note": []}},
          {"book": {"city": ["Rome"], "when": [{"day": [4, 5], "month": ["June"]}]}}]
    assert gold_nll.gold_calls(gt) == [
        {"name": "book", "arguments": {"city": "Paris", "when": {"day": 3}, "tags": ["a", "b"]}},
        {"name": "book", "arguments": {"city": "Rome", "when": {"day": 4, "month": "June"}}}]


def test_the_gold_answer_is_laid_out_as_in_fine_tuning():
    e = bfcl.Entry("q1", "simple", [{"role": "user", "content": "Book Paris on the 3rd."}], [TOOL],
                   [{"book": {"city": ["Paris"], "when": [{"day": [3], "month": [""]}], "seats": ["", 1]}}])
    irrelevant = bfcl.Entry("q2", "irrelevance", [{"role": "user", "content": "Hi"}], [TOOL], None)
    wrong_key = bfcl.Entry("q3", "simple", [{"role": "user", "content": "?"}], [TOOL], [{"fly": {"to": ["Oslo"]}}])
    encoded, skipped = gold_nll.encode_gold([e, irrelevant, wrong_key], CharTokenizer(), "gemma")
    assert [x[0].id for x in encoded] == ["q1"] and dict(skipped) == {"unknown_function": 1}
    _, ex, text = encoded[0]
    assert text == '[book(city="Paris", when={"day": 3})]'
    full = "".join(chr(i) for i in ex.input_ids)
    learned = "".join(chr(i) for i, lab in zip(ex.input_ids, ex.labels) if lab != IGNORE)
    assert learned == text + "<end_of_turn>"                   # the answer and its end marker, as trained
    # the context is exactly the prompt the evaluation generates from
    question = {"id": "q1", "messages": e.messages, "tools": gold_nll.bfcl_tools(e.functions)}
    prompt = context_before_first_response(render({**question, "messages": e.messages + [
        {"role": "assistant", "content": "x"}]}, "gemma", "python"))
    assert full == prompt + learned


def test_a_server_backend_reports_gold_nll_as_not_available():
    class Server:
        def generate(self, samples):
            return []

    assert gold_nll.scorers_for({"base": Server(), "finetuned": Server()}, 1) is None
    assert gold_nll.not_available(gold_nll.SERVER_REASON) == {"available": False, "reason": gold_nll.SERVER_REASON}


@pytest.fixture(scope="module")
def trained(shared_bfcl, tmp_path_factory):
    """A LoRA adapter trained 3 steps, through fine-tuning's own path, on the gold answers of 6 BFCL questions."""
    require_train_extra()
    from callforge.core.config import compose, validate
    from callforge.finetune import base_model, train as finetune

    bench = bfcl.load_benchmark(["simple_python", "multiple", "parallel"], per_category=2, seed=0, source=shared_bfcl)
    entries = [e for v in bench.values() for e in v]
    c = validate(compose(["finetune=cpu", "finetune.device=cpu", "finetune.max_steps=3", "finetune.batch_size=6",
                          "finetune.max_seq_len=1024", "finetune.lr=2e-3", "finetune.dropout=0.0"])).finetune
    loaded = base_model.load(c.base_model, c.device, c.dtype)
    fmt = base_model.chat_format_for(loaded, c.chat_format)
    encoded, skipped = gold_nll.encode_gold(entries, loaded.tokenizer, fmt)
    assert len(encoded) == 6 and not skipped
    adapter = tmp_path_factory.mktemp("gold") / "adapter"
    res = finetune.train([ex for _, ex, _ in encoded], loaded, c, 0, adapter,
                         token_ids=finetune.chat_token_ids(loaded.tokenizer, fmt))
    return SimpleNamespace(res=res, loaded=loaded, fmt=fmt, entries=entries, encoded=encoded, adapter=adapter, cfg=c)


def hf_scores(t) -> tuple[dict, list[dict]]:
    """The peft model's gold-NLL report, scored once for the module (both tests read it, neither changes it)."""
    if getattr(t, "hf", None) is None:
        from callforge.evaluate.inference import HFGenerator

        gens = {name: HFGenerator(t.res.model, t.loaded.tokenizer, t.fmt, max_new_tokens=1, batch_size=1, adapter=on)
                for name, on in (("base", False), ("finetuned", True))}
        scorers = gold_nll.scorers_for(gens, 1)          # as the evaluate stage builds them
        t.hf = gold_nll.report(scorers, t.entries, t.fmt, t.loaded.tokenizer)
    return t.hf


@pytest.mark.slow
@pytest.mark.model
def test_a_few_lora_steps_on_bfcl_answers_lower_their_gold_nll(trained):
    t = trained
    rep, rows = hf_scores(t)
    base, tuned = rep["models"]["base"]["overall"], rep["models"]["finetuned"]["overall"]
    d = rep["delta"]["overall"]
    print("gold NLL base", base, "tuned", tuned, "delta", d, "calls only", rep["calls_only"]["delta"]["overall"])
    assert base["n"] == tuned["n"] == d["n"] == 6
    assert tuned["mean"] < base["mean"] and d["delta"] < 0 and d["ci95"][1] < 0 and d["significant"]
    assert all(r["nll"]["finetuned"] < r["nll"]["base"] for r in rows), rows
    # not only the end-of-turn marker (an untrained row in the base model): the calls themselves got likelier
    calls = rep["calls_only"]["delta"]["overall"]
    assert calls["n"] == 6 and calls["delta"] < 0 and calls["significant"], calls
    assert all(r["nll_call"]["finetuned"] < r["nll_call"]["base"] for r in rows), rows
    # the switched-off adapter really is the base model: the same figure as the bare model gives
    with t.res.model.disable_adapter():
        bare = gold_nll.NllScorer(t.res.model.get_base_model(), t.loaded.tokenizer, t.fmt).score([t.encoded[0][1]])
    assert abs(bare[0]["nll"] - rows[0]["nll"]["base"]) < 1e-6


@pytest.mark.slow
@pytest.mark.model
def test_the_merged_gguf_is_the_tuned_model_in_llama_cpp(trained, tmp_path):
    """base GGUF + adapter merged (evaluate.engine=llama_cpp) must score the gold answers as the peft model
    does, and the base GGUF as the switched-off adapter does: same tokens, NLLs within rounding."""
    pytest.importorskip("llama_cpp")
    import numpy as np

    from callforge.complexity.local import Encoded, LocalScorer
    from callforge.evaluate.llama_cpp_generate import llama_cpp_generators
    from callforge.evaluate.merged_gguf import merge
    from callforge.finetune.base_model import resolve

    t = trained
    _, rows = hf_scores(t)
    _, base, _ = resolve(t.cfg.base_model)
    info = merge(base, t.adapter, tmp_path / "tuned.gguf")
    assert info["lora_tensors"] == 18 * 7 and info["token_rows"] == [106]
    merged_bytes = (tmp_path / "tuned.gguf").read_bytes()
    merge(base, t.adapter, tmp_path / "again.gguf")
    assert (tmp_path / "again.gguf").read_bytes() == merged_bytes          # deterministic
    for name, path in (("base", base), ("finetuned", tmp_path / "tuned.gguf")):
        scorer = LocalScorer(str(path), None, chat_format=t.fmt)
        try:
            for (_, ex, _), row in zip(t.encoded, rows):
                nll = scorer._score_one(Encoded(np.asarray(ex.input_ids, dtype=np.int32),
                                                np.asarray([lab != IGNORE for lab in ex.labels])))
                print(name, ex.id, row["nll"][name], float(nll.mean()))
                assert abs(float(nll.mean()) - row["nll"][name]) < 0.05 + 0.02 * row["nll"][name], (name, ex.id)
        finally:
            scorer.close()
    # and the generators answer: the tuned model in BFCL's call syntax more often than not on its own questions
    gens, _ = llama_cpp_generators(t.cfg, str(t.adapter), t.loaded.tokenizer, t.fmt, tmp_path, max_new_tokens=48,
                                   batch_size=4, max_prompt_tokens=1024)
    try:
        from callforge.evaluate.accuracy import evaluate
        report, _ = evaluate(gens, t.entries)
    finally:
        for g in gens.values():
            g.close()
    print(report["models"])
    assert report["models"]["finetuned"]["overall"]["correct"] >= report["models"]["base"]["overall"]["correct"]
    assert gens["finetuned"].stats["prompts"] == len(t.entries)
