"""What the report tests plant and read: untrusted-looking text, a sample verify rejects, a drop row."""
from __future__ import annotations

import json
from pathlib import Path

import orjson

# markup that would run if the page ever put data into the DOM as HTML
PLANT = '<script>window.__cfPwned=1</script><img src=x onerror="window.__cfPwned=2"></script>'
PLANTED_ID = "dlg-00000000"
BROKEN_ID = "dlg-00000001"
DROPPED_ID = "dlg-99999999"
OVERRIDES = ["dialogs.samples=40", "apis.pool_size=300", "scorer=heuristic", "split.decontam.eval_set=none",
             "report.chunk_samples=7", "report.tool_chunk=16", "report.page_size=10"]


def plant(project: Path) -> None:
    """Injection text into one sample's user turn, a tool description and a tool result; a call to a tool
    the sample does not offer into another (verify rejects it); a drop row as dialog generation writes it."""
    path = project / "data" / "dialogs.jsonl"
    rows = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    for s in rows:
        if s["id"] == PLANTED_ID:
            user = next(m for m in s["messages"] if m["role"] == "user")
            user["content"] = f"{user['content']} {PLANT}"
            s["tools"][0]["description"] = f"{PLANT} {s['tools'][0]['description']}"
            for m in s["messages"]:
                if m["role"] == "tool":
                    m["content"] = json.dumps({"note": PLANT})
        if s["id"] == BROKEN_ID:
            calls = next(m for m in s["messages"] if m.get("tool_calls"))["tool_calls"]
            calls[0]["name"] = "no_such_tool_anywhere"
    path.write_bytes(b"".join(orjson.dumps(s) + b"\n" for s in rows))
    drop = {"id": DROPPED_ID, "index": 99999999, "data_type": "single", "reason": "dialogs.max_steps",
            "detail": f"no final answer {PLANT}", "provenance": rows[0]["provenance"]}
    (project / "data" / "dialogs_dropped.jsonl").write_bytes(orjson.dumps(drop) + b"\n")


def read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
