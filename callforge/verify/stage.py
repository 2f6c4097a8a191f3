"""Stage `verify` (ToolACE §4's dual-layer check): data/dialogs.jsonl -> data/verified.jsonl + data/rejected.jsonl.

Rule layer always; model layer (LLM judges) on the model of the `judge` section, not the generator's
`llm`: the stage reads `judge`, never `llm`, so another judge re-runs verify alone. Under judge=offline
the metrics say "not run". Rows stream to both outputs as they are decided (atomic files: a killed run
leaves neither half-written).
"""
from __future__ import annotations

from contextlib import contextmanager

from callforge.core import io
from callforge.core.errors import CallforgeError
from callforge.core.gateway import OFFLINE, Gateway, GatewayError, api_key
from callforge.verify.judges import JUDGES, PROMPT_VERSION
from callforge.verify.runner import verify

IN, VERIFIED, REJECTED = "data/dialogs.jsonl", "data/verified.jsonl", "data/rejected.jsonl"


@contextmanager
def judge_gateway(cfg, ctx, needed: bool):
    """The judge's gateway (None when no judge runs), closed at the end; its usage goes to the runtime
    record under `llm`, as every model-calling stage's does."""
    if not needed:
        yield None
        return
    try:
        api_key(cfg.judge)    # a missing key stops here, naming the judge's setting, before any work
    except GatewayError as e:
        raise CallforgeError("judge.no_api_key", str(e).replace("llm.", "judge.", 1)) from None
    gateway = Gateway(cfg.judge, stage=ctx.name, cache_dir=ctx.cache_dir, seed=cfg.seed)
    try:
        yield gateway
    finally:
        ctx.runtime["llm"] = gateway.usage()
        gateway.close()


def run(cfg, ctx) -> dict:
    vc = cfg.verify
    offline = cfg.judge.provider == OFFLINE
    judged = any(vc.judges[n] for n in JUDGES) and not offline
    with judge_gateway(cfg, ctx, judged) as gateway, open(ctx.path(IN), "rb") as src, \
            io.atomic_open(ctx.path(VERIFIED), "wb") as fv, io.atomic_open(ctx.path(REJECTED)) as fr:
        bar = ctx.progress(None, desc="verify")
        _, _, stats = verify(src, vc, map_fn=ctx.map, gateway=gateway, offline=offline, progress=bar.update,
                             on_verified=lambda line: fv.writelines((line, b"\n")),   # the input line as it came
                             on_rejected=lambda row: fr.writelines((io.dumps(row), "\n")))
        bar.close()
    for path in (VERIFIED, REJECTED):
        ctx.outputs[path] = io.md5_file(path)
    judge = {"provider": cfg.judge.provider, "model": cfg.judge.model, "prompt_version": PROMPT_VERSION} if judged else None
    return {**stats, "judge": judge}
