"""The chat export (messages with argument objects + tools) on a real offline run: it matches the
samples, loads with `datasets.load_dataset("json")` across many different tools, renders through
transformers' `apply_chat_template(messages, tools=...)`, and takes one TRL `SFTTrainer` step with the
packaged model. Also: ShareGPT calls of the run parse with `ast`, and thinking traces are opt-in and scored."""
from __future__ import annotations

import hashlib
import json
import math
import shutil

import datasets
import pyarrow.parquet as pq
import pytest
from omegaconf import OmegaConf

from callforge.core import records
from callforge.core.config import defaults
from callforge.export import chat, hf, thinking
from callforge.split import TRAIN_SUBSETS
from conftest import REPO, require_train_extra, run_stage, write_params
from splitdata import read_jsonl, samples_by_id
from test_export_names import original_calls

PIPELINE = ("taxonomy", "apis", "dialogs", "complexity", "verify", "split", "export")
# the shipped defaults, but no MLflow, no BFCL download, and the structural scorer (no local model)
RUN = ["scorer=heuristic", "split.decontam.eval_set=none", "tracking.enabled=false"]

# A tool-aware template in Gemma's turn layout (the packaged model ships none): tools as JSON in a
# system turn, calls as <tool_call> JSON, results as <tool_response>; assistant turns marked for
# TRL's assistant-only loss.
TOOL_TEMPLATE = """{{- bos_token -}}
{%- if tools -%}
<start_of_turn>system
You may call these tools. To call one, reply with <tool_call>{"name": ..., "arguments": {...}}</tool_call>.
{% for tool in tools %}{{ tool | tojson }}
{% endfor %}<end_of_turn>
{% endif -%}
{%- for message in messages -%}
{%- if message.role == "assistant" -%}
<start_of_turn>model
{% generation %}{{ message.content }}{% for call in message.tool_calls or [] -%}
<tool_call>{"name": {{ call.function.name | tojson }}, "arguments": {{ call.function.arguments | tojson }}}</tool_call>
{%- endfor %}<end_of_turn>{% endgeneration %}
{% elif message.role == "tool" -%}
<start_of_turn>user
<tool_response name={{ message.name | tojson }}>{{ message.content }}</tool_response><end_of_turn>
{% else -%}
<start_of_turn>{{ message.role }}
{{ message.content }}<end_of_turn>
{% endif -%}
{%- endfor -%}
{%- if add_generation_prompt %}<start_of_turn>model
{% endif -%}"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A small offline run (the default 32 samples) through every stage up to export."""
    root = tmp_path_factory.mktemp("offline_run")
    shutil.copytree(REPO / "conf", root / "conf")
    write_params(root, RUN)
    for stage in PIPELINE:
        run_stage(stage, root)
    return root


def subset_samples(root, subset: str) -> list[dict]:
    by_id = samples_by_id(root)
    return [by_id[r["id"]] for r in read_jsonl(root / "data" / "split" / f"{subset}.jsonl")]


def load_json(path, cache, **kw):
    datasets.disable_progress_bars()
    return datasets.load_dataset("json", data_files=str(path), split="train", cache_dir=str(cache), **kw)


def test_chat_records_hold_the_samples(run):
    stats = json.loads((run / "metrics" / "export.json").read_text())
    for s in TRAIN_SUBSETS:
        rows = read_jsonl(run / "data" / "export" / s / "chat.jsonl")
        samples = subset_samples(run, s)
        assert len(rows) == len(samples) == stats["records"][s]["chat"] > 0
        for rec, sample in zip(rows, samples, strict=True):
            assert records.validate("chat", rec) == []
            assert [t["function"]["name"] for t in rec["tools"]] == [t["name"] for t in sample["tools"]]
            assert [t["function"]["parameters"] for t in rec["tools"]] == [t["parameters"] for t in sample["tools"]]
            ours = [c for m in sample["messages"] for c in m.get("tool_calls") or ()]
            theirs = [c for m in rec["messages"] for c in m.get("tool_calls") or ()]
            assert [(c["id"], c["function"]["name"], c["function"]["arguments"]) for c in theirs] == \
                [(c["id"], c["name"], c["arguments"]) for c in ours]
            assert all(isinstance(c["function"]["arguments"], dict) for c in theirs)
            answers = [(m["tool_call_id"], m["name"]) for m in rec["messages"] if m["role"] == "tool"]
            assert answers == [(m["tool_call_id"], m["name"]) for m in sample["messages"] if m["role"] == "tool"]
            assert [m["role"] for m in rec["messages"]] == [m["role"] for m in sample["messages"]]
            assert not any("thinking" in m for m in rec["messages"])     # off by default


def test_chat_loads_with_datasets_as_written(run, tmp_path):
    """Every subset loads with the plain JSON loader, and each row reads back exactly as written: no
    schema error, and no argument or parameter key borrowed from another row."""
    for s in TRAIN_SUBSETS:
        path = run / "data" / "export" / s / "chat.jsonl"
        ds = load_json(path, tmp_path / "hf")
        assert ds.to_list() == read_jsonl(path), s


def varied_records(root) -> list[dict]:
    """A chat record per API of the run's pool (2,000 tools; the same parameter name is a string in
    one, an array or an object in another), each calling its API with values for every parameter, and
    offering two more tools."""
    apis = read_jsonl(root / "data" / "apis.jsonl")
    out = []
    for i, api in enumerate(apis):
        args = {k: value_for(p) for k, p in api["parameters"]["properties"].items()}
        call = {"id": f"call_{i}", "name": api["name"], "arguments": args}
        sample = {"tools": [api, apis[(i + 7) % len(apis)], apis[(i + 500) % len(apis)]],
                  "messages": [{"role": "user", "content": f"request {i}"},
                               {"role": "assistant", "content": None, "tool_calls": [call]},
                               {"role": "tool", "tool_call_id": call["id"], "name": api["name"], "content": "{}"},
                               {"role": "assistant", "content": "done"}]}
        out.append(chat.record(sample))
    return out


def value_for(schema: dict):
    kind = schema.get("type")
    kind = kind[0] if isinstance(kind, list) else kind
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "array":
        return [value_for(schema.get("items") or {"type": "string"})]
    if kind == "object":
        return {k: value_for(p) for k, p in (schema.get("properties") or {"note": {"type": "string"}}).items()}
    return {"integer": 3, "number": 2.5, "boolean": True, "null": None}.get(kind, "text")


def test_chat_loads_across_many_different_tools(run, tmp_path):
    rows = varied_records(run)
    names = {r["tools"][0]["function"]["name"] for r in rows}
    assert len(names) > 1000
    kinds = {}
    for r in rows:
        for k, v in r["messages"][1]["tool_calls"][0]["function"]["arguments"].items():
            kinds.setdefault(k, set()).add(type(v).__name__)
    assert any(len(k) > 1 for k in kinds.values()), "some parameter name should take values of different types"
    path = tmp_path / "varied.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    # read in many chunks, as a large file is (one chunk is 10 MB by default)
    ds = load_json(path, tmp_path / "hf", chunksize=64 << 10)
    assert ds.to_list() == rows
    # with the columns named up front, any order loads, also one whose first chunk shows a single tool
    same_first = [rows[0]] * 400 + rows
    path.write_text("".join(json.dumps(r) + "\n" for r in same_first))
    ds = load_json(path, tmp_path / "hf", chunksize=64 << 10, features=chat.features())
    assert ds.to_list() == same_first


def test_sharegpt_calls_of_the_run_are_python(run):
    """Every ShareGPT call list of the run parses with `ast`; the run's pool names tools with spaces and dots."""
    rows = read_jsonl(run / "data" / "export" / "full" / "sharegpt.jsonl")
    samples = subset_samples(run, "full")
    renamed = 0
    for rec, sample in zip(rows, samples, strict=True):
        calls = [[{"name": c["name"], "arguments": c["arguments"]} for c in m["tool_calls"]]
                 for m in sample["messages"] if m.get("tool_calls")]
        assert original_calls(rec) == calls
        renamed += sum(t["name"] != t["original"] for t in rec["tool_names"])
    assert renamed > 0


def export_again(run, tmp_path, overrides):
    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    shutil.rmtree(copy / "data" / "export")
    write_params(copy, RUN + overrides)
    run_stage("export", copy)
    return copy


def strip_thinking(obj):
    if isinstance(obj, dict):
        return {k: strip_thinking(v) for k, v in obj.items() if k not in ("thinking", "thinking_score")}
    if isinstance(obj, list):
        return [strip_thinking(v) for v in obj]
    return obj


def test_thinking_traces_are_opt_in(run, tmp_path):
    traced = export_again(run, tmp_path, ["export.thinking=true"])
    samples = subset_samples(run, "full")
    expected = [m["thinking"] for s in samples for m in s["messages"] if m["role"] == "assistant" and m.get("thinking")]
    assert expected, "the offline run writes thinking traces"
    for fmt in ("sharegpt", "openai", "chat"):
        plain = read_jsonl(run / "data" / "export" / "full" / f"{fmt}.jsonl")
        rows = read_jsonl(traced / "data" / "export" / "full" / f"{fmt}.jsonl")
        turns = [t for r in rows for t in (r["conversations"] if fmt == "sharegpt" else r["messages"])]
        assert [t["thinking"] for t in turns if "thinking" in t] == expected, fmt
        assert strip_thinking(rows) == plain, fmt          # the traces are all that changes
        assert all(records.validate({"openai": "openai_ft"}.get(fmt, fmt), r) == [] for r in rows)
    for root, want in ((run, []), (traced, expected)):
        table = pq.read_table(root / "data" / "export" / "full" / "hf" / hf.DATA_FILE)
        assert [m["thinking"] for msgs in table["messages"].to_pylist() for m in msgs if m["thinking"]] == want
    # exported traces are scored: per record (ShareGPT field, hf column) and in the stats
    rules = thinking.rules(OmegaConf.to_container(defaults("verify").degenerate))
    scores = [thinking.score_sample(s, rules).score for s in samples]
    assert all(x is not None for x in scores)
    assert [r.get("thinking_score") for r in read_jsonl(traced / "data" / "export" / "full" / "sharegpt.jsonl")] == scores
    assert pq.read_table(traced / "data" / "export" / "full" / "hf" / hf.DATA_FILE)["thinking_score"].to_pylist() == scores
    assert set(pq.read_table(run / "data" / "export" / "full" / "hf" / hf.DATA_FILE)["thinking_score"].to_pylist()) == {None}
    stats = json.loads((traced / "metrics" / "export.json").read_text())["thinking"]
    assert stats["exported"] and stats["samples"] == stats["samples_traced"] >= len(samples)
    assert stats["checks"]["names_tools"]["applied"] > 0 and 0 < stats["score_mean"] <= 1
    assert json.loads((run / "metrics" / "export.json").read_text())["thinking"] == {"exported": False}
    # and the default export is the same bytes again
    again = export_again(run, tmp_path / "again", [])
    assert digest(again) == digest(run)


def digest(root) -> dict:
    return {str(p.relative_to(root)): hashlib.md5(p.read_bytes()).hexdigest()
            for p in sorted((root / "data" / "export").rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def packaged():
    """The packaged gemma-3-270m and its tokenizer (optional `train` extra), on CPU."""
    require_train_extra()
    from callforge.finetune import base_model

    return base_model.load(base_model.PACKAGED, "cpu", "float32")


@pytest.mark.slow
@pytest.mark.model
def test_every_chat_record_renders_through_a_tool_aware_template(run, packaged, tmp_path):
    tok = packaged.tokenizer
    ds = load_json(run / "data" / "export" / "full" / "chat.jsonl", tmp_path / "hf")
    assert len(ds) > 0
    for row in ds:
        text = tok.apply_chat_template(row["messages"], tools=row["tools"], chat_template=TOOL_TEMPLATE,
                                       tokenize=False)
        for t in row["tools"]:
            assert json.dumps(t, ensure_ascii=False) in text
        for m in row["messages"]:
            assert m["content"] in text
            for c in m.get("tool_calls") or ():
                call = {"name": c["function"]["name"], "arguments": c["function"]["arguments"]}
                assert f"<tool_call>{json.dumps(call, ensure_ascii=False)}</tool_call>" in text
        assert text.count("<start_of_turn>model") == sum(m["role"] == "assistant" for m in row["messages"])


@pytest.mark.slow
@pytest.mark.model
def test_one_trl_sft_step_on_the_chat_export(run, packaged, tmp_path):
    trl = pytest.importorskip("trl", reason="TRL is part of the optional `train` extra")
    from peft import LoraConfig

    tok = packaged.tokenizer
    tok.chat_template = TOOL_TEMPLATE
    ds = load_json(run / "data" / "export" / "full" / "chat.jsonl", tmp_path / "hf")
    lengths = [len(tok.apply_chat_template(r["messages"], tools=r["tools"], tokenize=True)) for r in ds]
    calling = [i for i in range(len(ds)) if any(m.get("tool_calls") for m in ds[i]["messages"])]
    train = ds.select(sorted(calling, key=lambda i: (lengths[i], i))[:2])     # the two shortest: a short CPU step
    args = trl.SFTConfig(output_dir=str(tmp_path / "trl"), max_steps=1, per_device_train_batch_size=2,
                         learning_rate=1e-3, assistant_only_loss=True, max_length=4096, use_cpu=True,
                         report_to=[], save_strategy="no", logging_steps=1, seed=0, disable_tqdm=True,
                         gradient_checkpointing=False)
    trainer = trl.SFTTrainer(model=packaged.model, args=args, train_dataset=train, processing_class=tok,
                             peft_config=LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]))
    for example, row in zip(trainer.train_dataset, train, strict=True):    # the loss reads the assistant's turns only
        learnt = tok.decode([t for t, label in zip(example["input_ids"], example["labels"]) if label != -100])
        assert "<tool_call>" in learnt and "<end_of_turn>" in learnt
        assert not any(m["content"] and m["content"] in learnt for m in row["messages"] if m["role"] != "assistant")
    lora_b = {n: p.detach().clone() for n, p in trainer.model.named_parameters() if "lora_B" in n}
    assert lora_b and all(float(p.abs().sum()) == 0 for p in lora_b.values())
    result = trainer.train()
    assert result.global_step == 1
    assert math.isfinite(result.training_loss) and result.training_loss > 0
    moved = [n for n, p in trainer.model.named_parameters() if "lora_B" in n and float((p - lora_b[n]).abs().sum()) > 0]
    assert moved, "the step changed no adapter weight"
