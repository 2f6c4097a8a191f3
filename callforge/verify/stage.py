"""Stage `verify` (ToolACE §4's dual-layer check): data/dialogs.jsonl -> data/verified.jsonl + data/rejected.jsonl.

Rule layer always; model layer (LLM judges) on the model of the `judge` section, not the generator's
`llm`: the stage reads `judge`, never `llm`, so another judge re-runs verify alone. Under judge=offline
the metrics say "not run". Rows stream to both outputs as they are decided (atomic files: a killed run
leaves neither half-written). Sharded (callforge/core/shards.py), each shard verifies its block of lines;
`merge` concatenates them, adds their tallies and settles duplicate ids across blocks.
"""
from __future__ import annotations

import shutil
from contextlib import contextmanager

from omegaconf import OmegaConf

from callforge.core import io
from callforge.core.errors import CallforgeError
from callforge.core.gateway import OFFLINE, Gateway, GatewayError, api_key
from callforge.verify.judges import JUDGES, PROMPT_VERSION
from callforge.verify.runner import judge_status, summary, verify
from callforge.verify.tally import Tally

IN, VERIFIED, REJECTED = "data/dialogs.jsonl", "data/verified.jsonl", "data/rejected.jsonl"


@contextmanager
def judge_gateway(cfg, ctx, needed: bool):
    """The judge's gateway (None when no judge runs), closed at the end; its usage is recorded as every
    model-calling stage's is (StageContext.record_usage), and judge.budget caps it."""
    if not needed:
        yield None
        return
    try:
        api_key(cfg.judge)    # a missing key stops here, naming the judge's setting, before any work
    except GatewayError as e:
        raise CallforgeError("judge.no_api_key", str(e).replace("llm.", "judge.", 1)) from None
    gateway = Gateway(cfg.judge, stage=ctx.name, cache_dir=ctx.cache_dir, seed=cfg.seed, section="judge")
    try:
        yield gateway
    finally:
        ctx.record_usage(gateway)
        gateway.close()


def run(cfg, ctx) -> dict:
    vc, offline, judged = _judging(cfg)
    first_line, lines = ctx.numbered_lines(ctx.path(IN))     # this shard's lines (all of them when whole)
    tally, seen = Tally(), set()
    verified, rejected = ctx.out_path(ctx.path(VERIFIED)), ctx.out_path(ctx.path(REJECTED))
    with judge_gateway(cfg, ctx, judged) as gateway, io.md5_output(verified) as fv, io.md5_output(rejected) as fr:
        outs = fv, fr
        stats = _verify(vc, ctx, gateway, offline, lines, first_line, *outs, seen, tally)
    for path, out in zip((verified, rejected), outs):
        ctx.outputs[str(path)] = out.hexdigest()
    ctx.kept = stats["verified"]
    if ctx.sharded:    # the merge adds the tallies and looks for ids that more than one block holds
        stats["shard"] = {"tally": tally.state(), "ids": sorted(seen)}
    return {**stats, "judge": _judge(cfg, judged)}


def merge(cfg, ctx) -> dict:
    """The shards' files concatenated in order and their tallies added. A block holding an id that an
    earlier block holds has a duplicate its shard could not see: that block is verified again here, with
    those ids marked seen (the judges' answers come from the response cache), into the merged files."""
    vc, offline, judged = _judging(cfg)
    parts = ctx.shard_stats
    earlier: set[str] = set()
    seen_before = []
    for part in parts:
        ids = part["shard"]["ids"]
        seen_before.append(earlier.intersection(ids))
        earlier.update(ids)
    again = [k for k, ids in enumerate(seen_before) if ids]
    tally, redone = Tally(), Tally()
    shards = zip(parts, ctx.shard_files(ctx.path(VERIFIED)), ctx.shard_files(ctx.path(REJECTED)))
    with judge_gateway(cfg, ctx, judged and bool(again)) as gateway, \
            io.md5_output(ctx.path(VERIFIED)) as fv, io.md5_output(ctx.path(REJECTED)) as fr:
        outs = fv, fr
        for k, (part, verified, rejected) in enumerate(shards):
            if k in again:
                block, lines = ctx.shard_lines(ctx.path(IN), k)
                _verify(vc, ctx, gateway, offline, lines, block.start + 1, fv, fr, seen_before[k], redone)
            else:
                for src, dst in ((verified, fv), (rejected, fr)):
                    with open(src, "rb") as f:
                        shutil.copyfileobj(f, dst, 1 << 20)
                tally.absorb(part["shard"]["tally"])
    tally.absorb(redone.state())
    for path, out in zip((VERIFIED, REJECTED), outs):
        ctx.outputs[path] = out.hexdigest()
    if judged:
        ctx.merge_usage(cfg.judge, "judge", [p for k, p in enumerate(parts) if k not in again],
                        gateway.budget if again else None)
    settings = OmegaConf.to_object(vc)
    stats = summary(tally, settings, judge_status(settings, offline))
    ctx.kept = stats["verified"]
    return {**stats, "judge": _judge(cfg, judged)}


def _judging(cfg) -> tuple:
    """(the verify section, whether the judge is offline, whether judges run)."""
    vc = cfg.verify
    offline = cfg.judge.provider == OFFLINE
    return vc, offline, any(vc.judges[n] for n in JUDGES) and not offline


def _judge(cfg, judged: bool) -> dict | None:
    return {"provider": cfg.judge.provider, "model": cfg.judge.model, "prompt_version": PROMPT_VERSION} if judged else None


def _verify(vc, ctx, gateway, offline: bool, lines, first_line: int, fv, fr, seen: set, tally: Tally) -> dict:
    """Verify `lines` (numbered from first_line) into the open binary outputs: fv takes the verified
    input lines as they came, fr the rejected rows."""
    bar = ctx.progress(None, desc="verify")
    _, _, stats = verify(lines, vc, map_fn=ctx.map, gateway=gateway, offline=offline, progress=bar.update,
                         on_verified=lambda line: (fv.write(line), fv.write(b"\n")),   # the input line as it came
                         on_rejected=lambda row: fr.write(io.dumps(row).encode() + b"\n"),
                         first_line=first_line, seen=seen, tally=tally)
    bar.close()
    return stats
