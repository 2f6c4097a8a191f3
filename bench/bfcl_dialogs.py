"""Realistic dialog samples for benchmarks, built from BFCL tool definitions and ground-truth calls.

Used only when the dialog stage's output is not at hand. Each BFCL entry becomes a sample in
callforge's format: its tools (normalised), the user question, and an assistant turn with the
ground-truth calls (first allowed value per argument; optional ones left out). Every second sample
also gets tool results and a closing assistant answer, as a generated dialog would have.
"""
from __future__ import annotations

import json
from pathlib import Path

from callforge.calling.tools import normalise_tool


def _first_values(args: dict) -> dict:
    out = {}
    for k, allowed in args.items():
        if allowed and allowed[0] != "":
            out[k] = allowed[0]
    return out


def bfcl_samples(bfcl_dir: Path, categories=("multiple", "parallel", "simple_python"), per_category: int = 17) -> list[dict]:
    samples = []
    for cat in categories:
        answers = {}
        for line in (bfcl_dir / "possible_answer" / f"BFCL_v4_{cat}.json").read_text().splitlines():
            a = json.loads(line)
            answers[a["id"]] = a["ground_truth"]
        n = 0
        for line in (bfcl_dir / f"BFCL_v4_{cat}.json").read_text().splitlines():
            if n >= per_category:
                break
            e = json.loads(line)
            if e["id"] not in answers:
                continue
            calls = [{"id": f"call_{k}", "name": name, "arguments": _first_values(args)}
                     for k, gt in enumerate(answers[e["id"]]) for name, args in gt.items()]
            msgs = [{"role": m["role"], "content": m["content"]} for m in e["question"][0]]
            msgs.append({"role": "assistant", "content": None, "tool_calls": calls})
            if n % 2:
                for c in calls:
                    msgs.append({"role": "tool", "tool_call_id": c["id"], "name": c["name"],
                                 "content": json.dumps({"status": "ok", "result": f"{c['name']} done"})})
                msgs.append({"role": "assistant",
                             "content": "Done: " + "; ".join(f"{c['name']} finished successfully" for c in calls) + "."})
            samples.append({"id": e["id"], "data_type": "parallel" if len(calls) > 1 else "single",
                            "tools": [normalise_tool(t) for t in e["function"]], "messages": msgs,
                            "apis_used": sorted({c["name"] for c in calls}),
                            "provenance": {"provider": "import", "model": "bfcl-ground-truth", "stage": "bench"}})
            n += 1
    return samples
