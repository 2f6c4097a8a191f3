"""The sample browser's data: one compact index row per sample, and the full samples in sidecar chunks.

Every sample the pipeline made or lost is here: verified (data/verified.jsonl), rejected by verify (with
its reason codes and details) and dropped by dialog generation (a reason, no dialog). They stream
through once, so memory holds the index and the tool table, never the samples.

Files beside index.html, loaded by the page with <script src> (file:// allows no fetch):
  samples/index.js        CF.index({...}): one row per sample, what the filters and the search read
  samples/s-NNNNN.js      CF.chunk(n, [...]): `chunk_samples` full samples, loaded when one is opened
  samples/t-NNNNN.js      CF.tools(n, [...]): `tool_chunk` tool definitions, each written once
All of it is JSON (JavaScript literals); the page puts every string into the DOM as text.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import orjson

from .sources import DROPPED, REJECTED, VERIFIED, Sources

SAMPLES_DIR = "samples"
VERDICTS = ("verified", "rejected", "dropped")
MESSAGE_KEYS = ("role", "content", "thinking", "tool_calls", "tool_call_id", "name")


class Vocab:
    """Strings the index repeats (types, domains, reason codes) stored once, rows holding their numbers."""

    def __init__(self):
        self.items: list[str] = []
        self._at: dict[str, int] = {}

    def __call__(self, s: str) -> int:
        at = self._at.get(s)
        if at is None:
            at = self._at[s] = len(self.items)
            self.items.append(s)
        return at


@dataclass
class Browse:
    """Writes the sidecar files as samples arrive; `summary()` is what the page and the stage stats need."""
    out_dir: Path
    chunk_samples: int
    tool_chunk: int
    search_chars: int
    subsets: list[str]
    membership: dict[str, int]
    losses: dict[str, float]
    split_rejects: dict[str, tuple[str, str]]
    rows: list = field(default_factory=list)
    types: Vocab = field(default_factory=Vocab)
    domains: Vocab = field(default_factory=Vocab)
    reasons: Vocab = field(default_factory=Vocab)
    verdict_counts: dict = field(default_factory=lambda: dict.fromkeys(VERDICTS, 0))
    domain_counts: dict = field(default_factory=dict)       # verified samples per domain (a chart)
    apis_called: set = field(default_factory=set)           # distinct APIs the verified samples call
    files: list = field(default_factory=list)
    _chunk: list = field(default_factory=list)
    _tools: list = field(default_factory=list)
    _tool_at: dict = field(default_factory=dict)
    _tools_written: int = 0

    def add(self, verdict: str, sample: dict | None, *, sid=None, dtype=None, reasons=(), details=()) -> None:
        sample = sample if isinstance(sample, dict) else {}
        sid = sample.get("id", sid)
        sid = sid if isinstance(sid, str) else ""
        reasons, details = list(reasons), [str(d) for d in details]
        if sid in self.split_rejects:
            code, detail = self.split_rejects[sid]
            reasons.append(code)
            details.append(f"{code}: {detail}")
        dtype = sample.get("data_type", dtype)
        messages = [{k: m[k] for k in MESSAGE_KEYS if k in m} for m in sample.get("messages") or []
                    if isinstance(m, dict)]
        loss = self.losses.get(sid)
        card = {"id": sid, "verdict": verdict, "data_type": dtype, "domain": sample.get("domain"), "loss": loss,
                "subsets": [n for i, n in enumerate(self.subsets) if self.membership.get(sid, 0) >> i & 1],
                "reasons": reasons, "details": details, "messages": messages,
                "tools": [self._tool(t) for t in sample.get("tools") or []],
                "apis_used": sample.get("apis_used") or [], "steering": sample.get("steering")}
        text = " ".join([sid, *(str(m.get("content") or "") for m in messages if m.get("role") == "user"),
                         *(str(a) for a in card["apis_used"]), *reasons])
        self.rows.append([sid, VERDICTS.index(verdict), self.types(str(dtype or "")),
                          self.domains(str(sample.get("domain") or "")), self.membership.get(sid, 0),
                          [self.reasons(r) for r in reasons], loss, text[:self.search_chars].lower()])
        self.verdict_counts[verdict] += 1
        if verdict == "verified":
            domain = str(sample.get("domain") or "")
            self.domain_counts[domain] = self.domain_counts.get(domain, 0) + 1
            self.apis_called.update(str(a) for a in card["apis_used"])
        self._chunk.append(card)
        if len(self._chunk) == self.chunk_samples:
            self._flush_chunk()

    def _tool(self, tool) -> int:
        key = orjson.dumps(tool)
        at = self._tool_at.get(key)
        if at is None:
            at = self._tool_at[key] = len(self._tool_at)
            self._tools.append(tool)
            if len(self._tools) == self.tool_chunk:
                self._flush_tools()
        return at

    def _write(self, name: str, call: str, *args) -> None:
        path = self.out_dir / SAMPLES_DIR / name
        path.parent.mkdir(parents=True, exist_ok=True)
        body = b",".join(orjson.dumps(a) for a in args)
        path.write_bytes(b"CF." + call.encode() + b"(" + body + b");\n")
        self.files.append(path)

    def _flush_chunk(self) -> None:
        n = (len(self.rows) - 1) // self.chunk_samples
        self._write(f"s-{n:05d}.js", "chunk", n, self._chunk)
        self._chunk = []

    def _flush_tools(self) -> None:
        n = self._tools_written // self.tool_chunk
        self._write(f"t-{n:05d}.js", "tools", n, self._tools)
        self._tools_written += len(self._tools)
        self._tools = []

    def finish(self, reason_text) -> dict:
        """Write what is left and the index; the page's settings for the browser (`reason_text`: code -> meaning)."""
        if self._chunk:
            self._flush_chunk()
        if self._tools:
            self._flush_tools()
        index = {"rows": self.rows, "types": self.types.items, "domains": self.domains.items,
                 "reasons": self.reasons.items, "subsets": self.subsets, "verdicts": list(VERDICTS)}
        self._write("index.js", "index", index)
        return {"samples": len(self.rows), "chunk_samples": self.chunk_samples, "tool_chunk": self.tool_chunk,
                "reason_text": {c: reason_text(c) for c in self.reasons.items}}


def collect(src: Sources, out_dir: Path, cfg) -> Browse:
    """Stream every sample (verified, rejected, dropped) into the browser's files under out_dir."""
    subsets, membership = src.memberships()
    b = Browse(out_dir, cfg.chunk_samples, cfg.tool_chunk, cfg.search_chars, subsets, membership,
               src.losses(), src.split_rejects())
    for s in src.rows(VERIFIED):
        b.add("verified", s)
    for r in src.rows(REJECTED):
        b.add("rejected", r.get("sample"), sid=r.get("id"), reasons=r.get("reasons") or [],
              details=r.get("details") or [])
    for r in src.rows(DROPPED):
        b.add("dropped", None, sid=r.get("id"), dtype=r.get("data_type"), reasons=[r.get("reason", "")],
              details=[r.get("detail", "")])
    return b
