"""The preview's printout: each sample as a dialog with its checks, judge verdicts and complexity score,
then what the model use cost, stage by stage (from the stages' own outputs in the preview's folder)."""
from __future__ import annotations

import json
from pathlib import Path

from callforge.core import io
from callforge.verify.judges import JUDGES

WIDTH = 100
JUDGED = ("judge.", "budget.")   # reasons the model layer gives; any other comes from the rule layer
TEXT_MAX = 600        # characters of one message shown; the rest is cut with an ellipsis


def _read(workdir: Path, path: str) -> list[dict]:
    p = workdir / path
    return io.read_jsonl(p) if p.is_file() else []


def _json(workdir: Path, path: str) -> dict:
    p = workdir / path
    return json.loads(p.read_text()) if p.is_file() else {}


def _cut(text, limit: int = TEXT_MAX) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _args(arguments: dict) -> str:
    return ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in arguments.items())


def dialog_lines(sample: dict) -> list[str]:
    """The dialog, one line per message (role, then text; calls as name(arg=value, ...))."""
    lines = []
    for m in sample.get("messages", []):
        role = m["role"]
        if m.get("thinking"):
            lines.append(f"  {'thinking':<10} {_cut(m['thinking'], 300)}")
        if role == "assistant" and m.get("tool_calls"):
            for c in m["tool_calls"]:
                lines.append(f"  {'assistant':<10} → {c['name']}({_cut(_args(c['arguments']), 300)})")
        elif role == "tool":
            lines.append(f"  {'tool':<10} {m.get('name')}: {_cut(m.get('content'), 300)}")
        else:
            lines.append(f"  {role:<10} {_cut(m.get('content') or '')}")
    return lines


def judge_line(sample: dict, rejected: dict | None, verify_stats: dict) -> str:
    """Each judge that was asked about the sample, with its verdict (fail reasons in full)."""
    checks = verify_stats.get("checks", {})
    status = {n: checks.get(f"judge.{n}", {}).get("status", "off") for n in JUDGES}
    if "run" not in status.values():
        why = "not run (judge=offline)" if "not run" in status.values() else "off"
        return f"  {'judges':<10} {why}"
    details = (rejected or {}).get("details", [])
    if any(not d.startswith(JUDGED) for d in details):     # judges only see what the rule layer kept
        return f"  {'judges':<10} not asked (the rule layer rejected the sample)"
    parts = []
    for name, judge in JUDGES.items():
        if status[name] == "run" and judge.applies(sample):
            own = [d for d in details if d.split(": ", 2)[1:2] == [name]]
            parts.append(f"{name} " + ("; ".join(_cut(d, 300) for d in own) if own else "pass"))
    return f"  {'judges':<10} " + (" | ".join(parts) or "none applies")


def sample_block(sample: dict, outcome: str, rejected: dict | None, score: dict | None, verify_stats: dict) -> str:
    head = f"── {sample['id']} · {sample.get('data_type')} · {sample.get('domain', '')} · {outcome} "
    lines = [head + "─" * max(3, WIDTH - len(head)), *dialog_lines(sample)]
    if rejected is not None:
        rules = [d for d in rejected.get("details", []) if not d.startswith(JUDGED)]
        lines.append(f"  {'rules':<10} " + ("; ".join(_cut(r, 300) for r in rules) if rules else "passed"))
    else:
        lines.append(f"  {'rules':<10} passed")
    lines.append(judge_line(sample, rejected, verify_stats))
    if rejected is not None and any(d.startswith("budget.") for d in rejected.get("details", [])):
        lines.append(f"  {'budget':<10} some judges were not asked: judge.budget was spent")
    if score is not None:
        loss = "—" if score.get("loss") is None else f"{score['loss']:.3f}"
        lines.append(f"  {'complexity':<10} loss {loss} ({score.get('backend')}"
                     + (f", {score['error']}" if score.get("error") else "") + ")")
    return "\n".join(lines)


def usage_lines(workdir: Path, reused: list[str]) -> list[str]:
    """Model use per stage: what the data cost (requests, tokens, $, per kept item) and what this run paid."""
    lines = ["", "── model use " + "─" * (WIDTH - 13)]
    for stage in ("taxonomy", "apis", "dialogs", "complexity", "verify"):
        if stage in reused:
            lines.append(f"  {stage:<10} reused from the workspace (no requests)")
            continue
        u = _json(workdir, f"metrics/{stage}.json").get("llm_usage")
        if not u:
            lines.append(f"  {stage:<10} no model requests")
            continue
        paid = _json(workdir, f"data/runtime/{stage}.json").get("llm", {})
        text = (f"{u['requests']:,} requests · {u['prompt_tokens']:,} prompt + {u['completion_tokens']:,} completion "
                f"tokens" + (f" · ${u['usd']:.4f}" if u.get("usd") is not None else ""))
        if u.get("per_kept"):
            pk = u["per_kept"]
            text += f" · per kept item ({u['kept']}): {pk['requests']} requests, {pk['tokens']:,.0f} tokens"
            text += f", ${pk['usd']:.5f}" if pk.get("usd") is not None else ""
        text += f" · paid now: {paid.get('calls', 0)} calls, {paid.get('cache_hits', 0)} from the cache"
        if u["budget"]["stopped"]:
            text += f" · STOPPED by {u['budget']['cap']}={u['budget']['limit']}"
        lines.append(f"  {stage:<10} {text}")
    return lines


def render(workdir: Path, cfg, reused: list[str]) -> str:
    """The whole printout of a preview run in `workdir`."""
    made = {r["id"]: r for r in _read(workdir, "data/dialogs.jsonl")}
    dropped = _read(workdir, "data/dialogs_dropped.jsonl")
    verified = {r["id"] for r in _read(workdir, "data/verified.jsonl")}
    rejected = {r["id"]: r for r in _read(workdir, "data/rejected.jsonl")}
    scores = {r["id"]: r for r in _read(workdir, "data/scores.jsonl")}
    verify_stats = _json(workdir, "metrics/verify.json")
    src = (f"taxonomy and APIs from the workspace ({', '.join(f'data/{Path(p).name}' for p in ('taxonomy.json', 'apis.jsonl'))})"
           if reused else "taxonomy and APIs made by this preview")
    llm = f"{cfg.llm.model}" + (f", {cfg.llm.structured_output}" if cfg.llm.provider != "offline" else "")
    blocks = [f"callforge preview: {cfg.dialogs.samples} samples · llm={cfg.llm.provider} ({llm}) · "
              f"judge={cfg.judge.provider} ({cfg.judge.model}) · {src}"]
    entries = sorted([(r["id"], None, r) for r in dropped] + [(i, s, None) for i, s in made.items()])
    for sid, sample, drop in entries:            # ids are zero-padded sample indices: index order
        if drop is not None:
            head = f"── {sid} · {drop.get('data_type')} · dropped at generation "
            blocks.append(head + "─" * max(3, WIDTH - len(head)) + f"\n  {'reason':<10} {drop['reason']}: "
                          + _cut(drop.get("detail") or "", 300))
            continue
        if sid in verified:
            outcome = "verified"
        else:
            outcome = "rejected: " + ", ".join(rejected[sid]["reasons"]) if sid in rejected else "not verified"
        blocks.append(sample_block(sample, outcome, rejected.get(sid), scores.get(sid), verify_stats))
    kept = len(verified)
    blocks.append(f"\n{len(made)} of {cfg.dialogs.samples} samples generated, {len(dropped)} dropped; "
                  f"{kept} verified, {len(rejected)} rejected")
    return "\n\n".join(blocks) + "\n" + "\n".join(usage_lines(workdir, reused)) + "\n"
