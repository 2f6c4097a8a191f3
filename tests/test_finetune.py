"""LoRA fine-tuning smoke test on the real packaged gemma-3-270m (runs only with the `train` extra).

A few steps on three short hand-written dialogs; the adapter must lower the model's loss on the
very batch it was trained on, and the adapter saved to disk must give the same loss back.
"""
from __future__ import annotations

import json

import pytest

from callforge.core.config import compose, validate
from callforge.finetune.train_data import IGNORE, BadLine, build_examples, encode, read_openai_jsonl, sample_from_openai
from conftest import require_train_extra

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
                   "required": ["city"]}}}


def row(city, unit="celsius"):
    args = json.dumps({"city": city, "unit": unit})
    return {"messages": [
        {"role": "user", "content": f"How warm is it in {city} right now, in {unit}?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": args}}]},
        {"role": "tool", "tool_call_id": "c1", "content": json.dumps({"temp": 21})},
        {"role": "assistant", "content": f"It is 21 degrees in {city}."}], "tools": [WEATHER]}


class CharTokenizer:
    """A stand-in tokenizer (one id per character) for checking label masks without a model."""

    def __call__(self, text, add_special_tokens=False):
        return {"input_ids": [ord(c) for c in text]}


def test_openai_rows_become_masked_examples(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text("\n".join([json.dumps(row("Paris")), "not json", json.dumps({"messages": "x"}),
                               json.dumps({"messages": [{"role": "assistant", "tool_calls": [
                                   {"function": {"name": "f", "arguments": "{bad"}}]}]})]) + "\n")
    samples, skipped = read_openai_jsonl(path)
    assert len(samples) == 1 and dict(skipped) == {"train.bad_json": 1, "train.bad_messages": 1,
                                                   "train.bad_tool_call": 1}
    s = samples[0]
    assert s["messages"][1]["tool_calls"][0]["arguments"] == {"city": "Paris", "unit": "celsius"}
    assert s["messages"][2]["name"] == "get_weather"          # filled in from the call id
    ex = encode(s, CharTokenizer(), "gemma", 10_000)
    text = "".join(chr(i) for i in ex.input_ids)
    learned = "".join(chr(i) for i, lab in zip(ex.input_ids, ex.labels) if lab != IGNORE)
    assert learned == ('[get_weather(city="Paris", unit="celsius")]<end_of_turn>'
                       "It is 21 degrees in Paris.<end_of_turn>")
    assert text.startswith("<bos><start_of_turn>user\n") and '"name": "get_weather"' in text
    with pytest.raises(BadLine) as e:
        encode(s, CharTokenizer(), "gemma", 50)
    assert e.value.code == "train.too_long"
    with pytest.raises(BadLine):
        sample_from_openai([1, 2], "x")
    examples, why = build_examples([s, {**s, "id": "b"}], CharTokenizer(), "gemma", 10_000, 1, seed=0)
    assert len(examples) == 1 and not why


@pytest.mark.slow
@pytest.mark.model
def test_lora_steps_lower_the_training_loss(tmp_path):
    require_train_extra()
    import torch

    from callforge.finetune import base_model, train as finetune

    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(row(c, u)) + "\n" for c, u in
                            (("Paris", "celsius"), ("Lima", "fahrenheit"), ("Oslo", "kelvin"))))
    samples, _ = read_openai_jsonl(path)
    c = validate(compose(["finetune=cpu", "finetune.device=cpu", "finetune.max_steps=3", "finetune.batch_size=3",
                          "finetune.max_seq_len=160", "finetune.lr=2e-3", "finetune.dropout=0.0"])).finetune
    loaded = base_model.load(c.base_model, c.device, c.dtype)
    fmt = base_model.chat_format_for(loaded, c.chat_format)
    assert fmt == "gemma"
    examples, skipped = build_examples(samples, loaded.tokenizer, fmt, c.max_seq_len, None, seed=0)
    assert len(examples) == 3 and not skipped
    end = finetune.chat_token_ids(loaded.tokenizer, fmt)
    assert loaded.tokenizer.convert_ids_to_tokens(end) == ["<end_of_turn>"]
    res = finetune.train(examples, loaded, c, 0, tmp_path / "adapter", token_ids=end)
    model = res.model
    pad = loaded.tokenizer.pad_token_id

    def loss():
        with torch.no_grad():
            return float(finetune.token_losses(model, examples, pad, "cpu").mean())

    tuned = loss()
    with model.disable_adapter():
        base = loss()
    assert tuned < base - 0.05, (base, tuned)
    assert len(res.metrics["loss_curve"]) == 3 and res.metrics["steps"] == 3
    assert res.metrics["trainable_params"] > 0
    # the adapter on disk is the one trained
    model.load_adapter(str(tmp_path / "adapter"), adapter_name="reloaded")
    model.set_adapter("reloaded")
    assert abs(loss() - tuned) < 1e-4
    cfg = json.loads((tmp_path / "adapter" / "adapter_config.json").read_text())
    assert cfg["r"] == 16 and cfg["lora_alpha"] == 32 and cfg["base_model_name_or_path"] == "packaged"
    # The base model's <end_of_turn> row is untrained: generation also stops on rows it cannot tell
    # apart from it (seen: a tuned model ending its calls with U+12312 instead), never on real text.
    from callforge.evaluate.inference import HFGenerator
    gen = HFGenerator(model, loaded.tokenizer, fmt, max_new_tokens=4, batch_size=1)
    tok = loaded.tokenizer
    end = tok.convert_tokens_to_ids("<end_of_turn>")
    glyph = tok("\U00012312", add_special_tokens=False)["input_ids"]
    assert end in gen.stop and len(glyph) == 1 and glyph[0] in gen.stop
    common = {i for w in ("[", "]", "(", "=", " the", "city", '"', "\n") for i in tok(w, add_special_tokens=False)["input_ids"]}
    assert not common & set(gen.stop)
