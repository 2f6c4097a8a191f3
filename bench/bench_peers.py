"""callforge beside its peer, in one run, on one server, machine and concurrency: distilabel 1.5 (in a
virtualenv of its own, .cache/venvs/distilabel, made on first use; never a callforge dependency), callforge's
gateway, and the raw `AsyncOpenAI` client.

    .venv/bin/python bench/bench_peers.py [--prompts 2000] [--functions 500] [--concurrency 64]

1. Text generation, the same N prompts: distilabel's TextGeneration step with its OpenAILLM; callforge's
   Gateway.complete (production path: response cache on, in a fresh folder); AsyncOpenAI's
   chat.completions.create under a semaphore, on its default httpx transport (as a user writes it) and on
   aiohttp (the gateway's transport: the gateway's own overhead, the transport aside). Against
   bench/fastserver.py answering after 200 ms (can each keep `concurrency` requests in flight?) and after
   0 ms (what a request costs the client's CPU). Throughput is requests over the wall time of the work
   (distilabel: `pipeline.run`, its worker processes included); CPU is the client's, per request.
   Ratios are callforge / peer: above 1 is better for throughput, below 1 for CPU.
2. APIGen-style, the same N functions of the default API pool: distilabel's APIGenGenerator then
   APIGenSemanticChecker (its execution checker needs the functions as code, which described APIs are not)
   against callforge's dialogs (single and parallel calls, the types APIGen makes) then verify with its
   judges. Both against bench/shaped_model.py's answers after 200 ms. The pipelines do different work per
   sample (callforge: user, voted assistant decisions, tool results, three judges; APIGen: one generation,
   one check), so the comparison is per request (throughput, CPU) beside requests per kept sample.

Figures merge into bench/results.json under "peers", with the versions.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_model_path import at, pool  # noqa: E402
from common import ROOT  # noqa: E402
from fastserver import FastServer  # noqa: E402

DISTILABEL = "distilabel[openai]==1.5.3"
VENV = ROOT / ".cache" / "venvs" / "distilabel"
DRIVER = Path(__file__).resolve().parent / "peers" / "distilabel_run.py"
PROMPTS, FUNCTIONS, CONCURRENCY, ROUNDS = 2000, 500, 64, 3
GOAL_VS_RAW = 0.9


def distilabel_python() -> Path:
    """The distilabel virtualenv's python, made with pip on first use (distilabel 1.5.3 imports requests
    without declaring it)."""
    py = VENV / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", DISTILABEL, "requests"], check=True)
    return py


def _distilabel(mode: str, rows: list[dict], base_url: str, concurrency: int, work: Path) -> dict:
    job = work / f"job-{mode}.json"
    job.write_text(json.dumps({"mode": mode, "base_url": base_url, "concurrency": concurrency, "rows": rows,
                               "cache_dir": str(work / "distilabel-cache")}))
    env = {"PATH": "/usr/bin:/bin", "HOME": str(work), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    proc = subprocess.run([str(distilabel_python()), str(DRIVER), str(job)], capture_output=True, text=True, env=env)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode or not lines:
        raise RuntimeError(f"distilabel {mode} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1])


def _prompts(n: int) -> list[list[dict]]:
    return [[{"role": "user", "content": f"Write one sentence that a user might send to a travel assistant, "
                                         f"number {i}, naming a city and a date."}] for i in range(n)]


def _callforge(base_url: str, prompts: list, concurrency: int, work: Path) -> dict:
    from callforge.core.config import compose, validate
    from callforge.core.gateway import Gateway

    cfg = validate(compose(["llm=compatible", f"llm.base_url={base_url}", "llm.model=bench",
                            f"llm.concurrency={concurrency}", "llm.timeout_s=120", "llm.max_tokens=1024"], root=ROOT))
    with tempfile.TemporaryDirectory(dir=work) as cache:
        gw = Gateway(cfg.llm, stage="bench", cache_dir=cache, seed=cfg.seed)
        try:
            t0, c0 = time.perf_counter(), time.process_time()
            res = gw.run_all([gw.complete(m, key=("peer", i)) for i, m in enumerate(prompts)])
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        finally:
            gw.close()
    return {"wall_s": wall, "cpu_s": cpu, "kept": sum(r.ok for r in res)}


def _raw(base_url: str, prompts: list, concurrency: int, aiohttp: bool = False) -> dict:
    """aiohttp: the client on the transport callforge's gateway uses (its own overhead, transport aside)."""
    import openai

    async def go() -> dict:
        http = {"http_client": openai.DefaultAioHttpClient(timeout=120)} if aiohttp else {}
        client = openai.AsyncOpenAI(api_key="unset", base_url=base_url, max_retries=0, timeout=120, **http)
        sem = asyncio.Semaphore(concurrency)

        async def one(i: int, messages: list) -> str | None:
            async with sem:
                r = await client.chat.completions.create(model="bench", messages=messages, max_tokens=1024,
                                                         temperature=0.7, seed=i)
            return r.choices[0].message.content

        t0, c0 = time.perf_counter(), time.process_time()
        out = await asyncio.gather(*[one(i, m) for i, m in enumerate(prompts)])
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        await client.close()
        return {"wall_s": wall, "cpu_s": cpu, "kept": sum(1 for x in out if x)}
    return asyncio.run(go())


def _figures(runs: list[dict], n: int) -> dict:
    wall = statistics.median(r["wall_s"] for r in runs)
    cpu = statistics.median(r["cpu_s"] for r in runs)
    return {"requests_per_s": round(n / wall, 1), "cpu_ms_per_request": round(cpu * 1000 / n, 3),
            "kept": min(r["kept"] for r in runs), "rounds_wall_s": [round(r["wall_s"], 2) for r in runs]}


def text_generation(n: int, concurrency: int, latency: float, work: Path, rounds: int = ROUNDS) -> dict:
    """The three clients over the same prompts, rounds alternating their order; medians."""
    prompts = _prompts(n)
    rows = [{"instruction": m[0]["content"]} for m in prompts]
    got: dict[str, list] = {"distilabel": [], "callforge": [], "raw": [], "raw_aiohttp": []}
    with FastServer(latency=latency) as srv:
        _raw(srv.base_url, prompts[:concurrency], concurrency)     # the server's first connections, untimed
        for r in range(rounds):
            order = ["distilabel", "callforge", "raw", "raw_aiohttp"]
            order = order if r % 2 == 0 else order[::-1]
            for who in order:
                if who == "distilabel":
                    got[who].append(_distilabel("textgen", rows, srv.base_url, concurrency, work))
                elif who == "callforge":
                    got[who].append(_callforge(srv.base_url, prompts, concurrency, work))
                else:
                    got[who].append(_raw(srv.base_url, prompts, concurrency, aiohttp=who == "raw_aiohttp"))
    fig = {who: _figures(runs, n) for who, runs in got.items()}
    cf = fig["callforge"]
    out = {"prompts": n, "concurrency": concurrency, "latency_s": latency, "rounds": rounds, **fig,
           "callforge_vs_distilabel": {"throughput": round(cf["requests_per_s"] / fig["distilabel"]["requests_per_s"], 3),
                                       "cpu_per_request": round(cf["cpu_ms_per_request"] / fig["distilabel"]["cpu_ms_per_request"], 3)},
           **{f"callforge_vs_{raw}": {"throughput": round(cf["requests_per_s"] / fig[raw]["requests_per_s"], 3),
                                       "cpu_per_request": round(cf["cpu_ms_per_request"] / fig[raw]["cpu_ms_per_request"], 3)}
              for raw in ("raw", "raw_aiohttp")}}
    if latency:
        out["ideal_requests_per_s"] = round(concurrency / latency, 1)
    return out


def apigen(n: int, concurrency: int, work: Path) -> dict:
    """distilabel's APIGen steps against callforge's dialogs + verify, over the same functions."""
    pool(work)
    tools = [json.loads(line) for line in open(work / "data" / "apis.jsonl", encoding="utf-8")][:n]
    example = 'QUERY:\nWhat is the weather in Oslo?\nANSWER:\n[{"name": "get_weather", "arguments": {"city": "Oslo"}}]'
    rows = [{"examples": example, "func_name": t["name"], "func_desc": t["description"],
             "tools": json.dumps([{"type": "function", "function": {k: t[k] for k in ("name", "description", "parameters")}}]),
             "execution_result": "['ok']", "keep_row_after_execution_check": True} for t in tools]
    with FastServer(latency=0.2, responder="shaped_model:answer") as srv:
        before = srv.stats()
        d = _distilabel("apigen", rows, srv.base_url, concurrency, work)
        requests = srv.stats()["calls"] - before["calls"]
    distil = {"requests": requests, "wall_s": d["wall_s"], "requests_per_s": round(requests / d["wall_s"], 1),
              "cpu_ms_per_request": round(d["cpu_s"] * 1000 / max(1, requests), 3), "kept": d["kept"],
              "requests_per_kept_sample": round(requests / max(1, d["kept"]), 2),
              "kept_per_s": round(d["kept"] / d["wall_s"], 2)}
    mix = [f"dialogs.mix.{k}={1.0 if k in ('single', 'parallel') else 0.0}"
           for k in ("single", "parallel", "dependent", "non_tool", "clarify", "multi_turn")]
    cf = at(concurrency, n, work, extra=mix)
    requests = cf["dialogs"]["requests"] + cf["verify"]["requests"]
    wall = cf["dialogs"]["wall_s"] + cf["verify"]["wall_s"]
    cpu = cf["dialogs"]["client_cpu_s"] + cf["verify"]["client_cpu_s"]
    mine = {"requests": requests, "wall_s": round(wall, 3), "requests_per_s": round(requests / wall, 1),
            "cpu_ms_per_request": round(cpu * 1000 / max(1, requests), 3), "kept": cf["samples_kept"],
            "requests_per_kept_sample": cf["requests_per_kept_sample"],
            "kept_per_s": round(cf["samples_kept"] / wall, 2)}
    return {"functions": n, "concurrency": concurrency, "latency_s": 0.2, "distilabel": distil, "callforge": mine,
            "callforge_vs_distilabel": {"throughput": round(mine["requests_per_s"] / distil["requests_per_s"], 3),
                                        "cpu_per_request": round(mine["cpu_ms_per_request"] / distil["cpu_ms_per_request"], 3)}}


def run(prompts: int = PROMPTS, functions: int = FUNCTIONS, concurrency: int = CONCURRENCY) -> dict:
    distilabel_python()
    versions = json.loads(subprocess.run(
        [str(distilabel_python()), "-c", "import json; from importlib.metadata import version as v; "
                                         "print(json.dumps({p: v(p) for p in ('distilabel', 'openai', 'httpx')}))"],
        capture_output=True, text=True, check=True).stdout)
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as tmp:
        work = Path(tmp)
        latency = text_generation(prompts, concurrency, 0.2, work)
        cpu_bound = text_generation(prompts, concurrency, 0.0, work)
        pipelines = apigen(functions, concurrency, work)
    return {"versions": {"distilabel_venv": versions,
                         "callforge_venv": {p: version(p) for p in ("openai", "aiohttp", "httpx2")}},
            "text_generation_200ms": latency, "text_generation_0ms": cpu_bound, "apigen_style": pipelines,
            "goal": {"ahead_of_distilabel": latency["callforge_vs_distilabel"]["throughput"] >= 1.0,
                     "vs_raw_at_least": GOAL_VS_RAW,
                     "meets_vs_raw": latency["callforge_vs_raw"]["throughput"] >= GOAL_VS_RAW}}


if __name__ == "__main__":
    from common import main

    ap = argparse.ArgumentParser()
    ap.add_argument("--prompts", type=int, default=PROMPTS)
    ap.add_argument("--functions", type=int, default=FUNCTIONS)
    ap.add_argument("--concurrency", type=int, default=CONCURRENCY)
    args = ap.parse_args()
    main("peers", lambda: run(args.prompts, args.functions, args.concurrency))
