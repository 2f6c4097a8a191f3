"""Stage `verify` (ToolACE §4's dual-layer check): data/dialogs.jsonl -> data/verified.jsonl + data/rejected.jsonl.

Rule layer always; model layer (three LLM judges) unless llm=offline, where metrics say "not run".
Rows stream to both outputs as they are decided (atomic files: a killed run leaves neither half-written).
"""
from __future__ import annotations

from callforge.core import io
from callforge.verify.judges import JUDGES, PROMPT_VERSION
from callforge.verify.runner import verify

IN, VERIFIED, REJECTED = "data/dialogs.jsonl", "data/verified.jsonl", "data/rejected.jsonl"


def run(cfg, ctx) -> dict:
    vc = cfg.verify
    judged = any(vc.judges[n] for n in JUDGES) and not ctx.offline
    with open(ctx.path(IN), "rb") as src, io.atomic_open(ctx.path(VERIFIED), "wb") as fv, \
            io.atomic_open(ctx.path(REJECTED)) as fr:
        bar = ctx.progress(None, desc="verify")
        _, _, stats = verify(src, vc, map_fn=ctx.map, gateway=ctx.gateway if judged else None, offline=ctx.offline,
                             progress=bar.update,
                             on_verified=lambda line: fv.writelines((line, b"\n")),   # the input line as it came
                             on_rejected=lambda row: fr.writelines((io.dumps(row), "\n")))
        bar.close()
    for path in (VERIFIED, REJECTED):
        ctx.outputs[path] = io.md5_file(path)
    return {**stats, "judges_prompt_version": PROMPT_VERSION if judged else None}
