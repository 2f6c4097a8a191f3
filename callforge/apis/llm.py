"""The model-driven API writer: one gateway request per job, a round at a time, concurrently.

The answer must match prompts.API_SCHEMA (the gateway asks for repairs when it does not); it is then
normalised (callforge.calling.tools) and left to the pool's rules. A request that still fails becomes a
Written with the gateway's reason code (llm.bad_json, llm.schema_invalid, llm.http_500, ...).
"""
from __future__ import annotations

from callforge.apis import prompts
from callforge.apis.pool import Job, Written
from callforge.apis.rules import Violation
from callforge.calling.tools import ToolError, normalise_tool


def make_writer(gw):
    def write_batch(jobs: list[Job]) -> list[Written]:
        results = gw.run_all([gw.complete(_messages(j), json_schema=prompts.API_SCHEMA, tag="apis.write",
                                          key=("apis.write", j.index)) for j in jobs])   # a job's own seed
        return [_to_written(j, res) for j, res in zip(jobs, results)]
    return write_batch


def _messages(job: Job) -> list[dict]:
    nodes = [(leaf.path, leaf.description, list(leaf.required + leaf.optional)) for leaf in job.leaves]
    return prompts.write_api(nodes, job.example, job.operators, job.scope)


def _to_written(job: Job, res) -> Written:
    meta = {"scope": job.scope, "nodes": [l.name for l in job.leaves],
            "example": job.example["name"] if job.example else None, "operators": job.operators}
    if not res.ok:
        return Written(None, meta, [Violation(res.reason or "llm.failed", (res.detail or "")[:300])],
                       raw=(res.text or "")[:2000] or None)
    raw = res.data
    raw.setdefault("parameters", {}).setdefault("type", "object")   # models often omit the outer type
    try:
        api = normalise_tool(raw, source="llm")
    except ToolError as e:
        return Written(None, meta, [Violation(e.code, e.message[:300])], raw=raw)
    primary = job.leaves[0]
    api["domain"], api["path"] = primary.domain, list(primary.path)
    return Written(api, meta, declared_params=raw.get("parameters"), raw=raw)
