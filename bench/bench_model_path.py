"""The model path end to end: the dialogs and verify stages (judges on) against a local OpenAI-compatible
server that answers every request after a fixed 200 ms.

    .venv/bin/python bench/bench_model_path.py [--samples 3000] [--in-flight 64 256]

The server (bench/fastserver.py, its own process) answers as bench/shaped_model.py plays the roles: JSON
of each agent's and judge's shape, consistent enough that the samples pass the generation-time checks
and the rule layer, so the run does the work a real one does (votes, tool results, repairs none).
For each in-flight bound C (llm.concurrency = judge.concurrency = C, dialogs.batch = C * 8 samples), both
stages run as DVC runs them (fresh processes, an empty response cache, steering off so each request is a
dialog's own), and the figures are:

- efficiency: requests/s over the stage's whole wall time, divided by the ideal C / 0.2 s;
- the server's mean in-flight count while it had any (how full the client kept the pipe);
- CPU seconds per request of the client (the stage process) and of the server, and their share of the
  2 cores: where the cores, not the latency, become the limit;
- requests per kept sample (dialogs + judges, over the samples verify kept).

Figures merge into bench/results.json under "model_path".
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import run_stage, scratch_params  # noqa: E402
from fastserver import FastServer  # noqa: E402

LATENCY_S = 0.2
SAMPLES = 3000
IN_FLIGHT = (64, 256)
TARGET_AT_64 = 0.85
BATCH_PER_SLOT = 8      # dialogs.batch = in-flight x this: a batch keeps every slot busy until its tail


def _model_overrides(base_url: str, in_flight: int, samples: int, cache: Path, extra=()) -> list[str]:
    over = [f"dialogs.samples={samples}", f"dialogs.batch={in_flight * BATCH_PER_SLOT}", "dialogs.steering.scorer=none",
            "tracking.enabled=false", f"cache_dir={cache}"]
    for section in ("llm", "judge"):
        over += [f"{section}=compatible", f"{section}.base_url={base_url}", f"{section}.model=bench",
                 f"{section}.concurrency={in_flight}", f"{section}.timeout_s=120"]
    return over + list(extra)


def _stage(name: str, work: Path, srv: FastServer, in_flight: int) -> dict:
    before = srv.stats()
    ran = run_stage(name, work)
    after = srv.stats()
    requests = after["calls"] - before["calls"]
    busy = after["busy_s"] - before["busy_s"]
    rps = requests / ran["wall_s"]
    server_cpu = after["cpu_s"] - before["cpu_s"]
    return {"requests": requests, "wall_s": ran["wall_s"], "requests_per_s": round(rps, 1),
            "ideal_requests_per_s": round(in_flight / LATENCY_S, 1),
            "efficiency": round(rps / (in_flight / LATENCY_S), 3),
            "server_busy_s": round(busy, 2),
            "server_mean_in_flight": round((after["mean_in_flight"] * after["busy_s"]
                                            - before["mean_in_flight"] * before["busy_s"]) / busy, 1) if busy else 0.0,
            "client_cpu_s": ran["cpu_s"], "server_cpu_s": round(server_cpu, 2),
            "client_cpu_ms_per_request": round(ran["cpu_s"] * 1000 / max(1, requests), 3),
            "server_cpu_ms_per_request": round(server_cpu * 1000 / max(1, requests), 3),
            # cores busy on average: the machine has os.cpu_count(); near it, CPU is the limit
            "cores_used": {"client": round(ran["cpu_s"] / ran["wall_s"], 2),
                           "server": round(server_cpu / ran["wall_s"], 2)}}


def _count(path: Path) -> int:
    with open(path, "rb") as f:
        return sum(1 for _ in f)


def pool(work: Path) -> dict:
    """The default offline API pool in a scratch project (not timed against the model path)."""
    scratch_params(work, ["tracking.enabled=false"])
    return {s: run_stage(s, work)["wall_s"] for s in ("taxonomy", "apis")}


def at(in_flight: int, samples: int, work: Path, extra=()) -> dict:
    """Both stages at one in-flight bound, on a fresh server and an empty response cache.
    extra: more overrides (e.g. a dialogs.mix)."""
    with FastServer(latency=LATENCY_S, responder="shaped_model:answer") as srv:
        cache = work / f"cache-{in_flight}-{len(list(work.glob('cache-*')))}"
        scratch_params(work, _model_overrides(srv.base_url, in_flight, samples, cache, extra))
        dialogs = _stage("dialogs", work, srv, in_flight)
        verify = _stage("verify", work, srv, in_flight)
    written, kept = _count(work / "data" / "dialogs.jsonl"), _count(work / "data" / "verified.jsonl")
    drops = json.loads((work / "metrics" / "dialogs.json").read_text()).get("drop_reasons", {})
    rejected = json.loads((work / "metrics" / "verify.json").read_text())
    total = dialogs["requests"] + verify["requests"]
    return {"in_flight": in_flight, "dialogs": dialogs, "verify": verify,
            "samples_requested": samples, "samples_written": written, "samples_kept": kept,
            "dialog_drop_reasons": drops, "verify_rejected": rejected.get("rejected"),
            "requests_per_kept_sample": round(total / max(1, kept), 2),
            "efficiency": round(total / (dialogs["wall_s"] + verify["wall_s"]) / (in_flight / LATENCY_S), 3)}


def run(samples: int = SAMPLES, in_flight=IN_FLIGHT) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-model-path-") as tmp:
        work = Path(tmp)
        built = pool(work)
        runs = {str(c): at(c, samples, work) for c in in_flight}
    out = {"latency_s": LATENCY_S, "samples": samples, "pool_build_s": built, "by_in_flight": runs,
           "load_avg_1m_after": round(os.getloadavg()[0], 2), "cores": os.cpu_count()}
    if "64" in runs:
        out["efficiency_at_64"] = runs["64"]["efficiency"]
        out["target_at_64"] = TARGET_AT_64
        out["meets_target"] = runs["64"]["efficiency"] >= TARGET_AT_64
    return out


if __name__ == "__main__":
    from common import main

    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=SAMPLES)
    ap.add_argument("--in-flight", type=int, nargs="+", default=list(IN_FLIGHT))
    args = ap.parse_args()
    main("model_path", lambda: run(args.samples, tuple(args.in_flight)))
