"""Rule-layer verification throughput at ToolACE's scale: 100,000 samples over a 26,507-API pool.

    .venv/bin/python bench/bench_verify_rules.py [--samples 100000] [--apis 26507] [--input data/dialogs.jsonl]

Base samples: --input if given, else the pipeline's data/dialogs.jsonl when present, else BFCL-derived
dialogs (../shared/bfcl, developer machines), else the hand-built test samples. They are scaled up by renaming each sample's tools per copy, so the run
sees about --apis distinct tool definitions (each normalised and compiled once) rather than a few
hot ones. Figures: samples/s of the rule layer alone (every check, every reason kept), and of the
whole stage minus disk (parse, rules, stats, output rows). Merged into bench/results.json under
"verify_rules". Issue 9 budgets 60 s for verify+split+export+stats on 100,000 samples.
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from common import main  # noqa: E402

SAMPLES, APIS = 100_000, 26_507


def base_samples(path: str | None) -> tuple[list[dict], str]:
    if path is None and (REPO / "data" / "dialogs.jsonl").is_file():
        path = str(REPO / "data" / "dialogs.jsonl")   # the pipeline's own dialogs: the most telling base
    if path:
        with open(path, encoding="utf-8") as f:
            return [json.loads(x) for x in f if x.strip()], path
    bfcl = REPO.parent / "shared" / "bfcl"
    if bfcl.is_dir():
        from bfcl_dialogs import bfcl_samples

        out = bfcl_samples(bfcl, per_category=200)
        for s in out:
            s["provenance"].update(prompt_version="bfcl", seed=0)
        return out, "bfcl ground-truth dialogs"
    sys.path.insert(0, str(REPO / "tests"))
    from verify_samples import good, non_tool, parallel

    return [good(), parallel(), non_tool()], "hand-built test samples"


def renamed(s: dict, i: int, k: int) -> dict:
    """Copy k of sample s: every tool (and every reference to it) gets the suffix _k; a fresh id."""
    s = copy.deepcopy(s)
    new = {t["name"]: f"{t['name']}_{k}" for t in s["tools"]}
    for t in s["tools"]:
        t["name"] = new[t["name"]]
    for m in s["messages"]:
        for c in m.get("tool_calls") or ():
            c["name"] = new.get(c["name"], c["name"])
        if m.get("role") == "tool":
            m["name"] = new.get(m["name"], m["name"])
    s["apis_used"] = [new.get(a, a) for a in s["apis_used"]]
    s["id"] = f"bench-{i:07d}"
    return s


def write_scaled(base: list[dict], n: int, apis: int, path: Path) -> int:
    """Write n samples to path (JSON lines); returns the number of distinct tool names."""
    distinct = len({json.dumps(t, sort_keys=True) for s in base for t in s["tools"]})
    variants = max(1, math.ceil(apis / max(distinct, 1)))
    names = set()
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            s = renamed(base[i % len(base)], i, (i // len(base)) % variants)
            names.update(t["name"] for t in s["tools"])
            f.write(json.dumps(s, ensure_ascii=False) + "\n")
    return len(names)


def _stage(path: Path, work: Path) -> dict:
    """stages/verify.py as DVC runs it (fresh process, params.yaml, files), tracking off."""
    from callforge.core.config import compose, validate, write_params

    shutil.copytree(REPO / "conf", work / "conf")
    cfg = compose(["tracking.enabled=false"], root=work)
    validate(cfg)
    write_params(cfg, work / "params.yaml")
    (work / "data").mkdir()
    path.rename(work / "data" / "dialogs.jsonl")
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, str(REPO / "stages" / "verify.py")], cwd=work,
                          env={"CI": "1", "PATH": "/usr/bin:/bin"}, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise RuntimeError(f"stage verify failed:\n{proc.stderr[-2000:]}")
    m = json.loads((work / "metrics" / "verify.json").read_text())
    return {"wall": wall, "metrics": m, "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
            "cpu_s": resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime}


def run(samples: int = SAMPLES, apis: int = APIS, input_path: str | None = None) -> dict:
    from callforge.verify.rules import RULES
    from callforge.verify.runner import parse_line
    from omegaconf import OmegaConf
    from callforge.core.config import compose, validate
    from callforge.verify.view import Context, SampleView
    from verify_mutants import catch_rates

    base, source = base_samples(input_path)
    with tempfile.TemporaryDirectory(prefix="bench-verify-") as tmp:
        path = Path(tmp) / "scaled.jsonl"
        distinct = write_scaled(base, samples, apis, path)
        with open(path, "rb") as f:
            outcomes = [parse_line(n, line) for n, line in enumerate(islice(f, 10_000), 1)]
        stage = _stage(path, Path(tmp) / "project")

    # Where the time goes: each check over the same 10,000 samples, tools already compiled.
    ctx = Context(OmegaConf.to_object(validate(compose([], root=REPO)).verify))
    views = [SampleView(o.sample, ctx) for o in outcomes]
    for v in views:
        v.tools
    per_check = {}
    for c in RULES:
        t0 = time.process_time()
        for v in views:
            c.fn(v)
        per_check[c.name] = round((time.process_time() - t0) / len(views) * 1e6, 2)

    m = stage["metrics"]
    return {
        "samples": samples, "workers": m["rules_workers"], "distinct_tools": distinct, "base_samples": len(base), "source": source,
        "samples_per_s": m["rules_samples_per_s"], "samples_per_cpu_s": m["rules_samples_per_cpu_s"],
        "rules_s": m["rules_s"], "stage_wall_s": round(stage["wall"], 2), "stage_cpu_s": round(stage["cpu_s"], 2),
        "stage_samples_per_s": round(samples / stage["wall"]), "stage_peak_rss_mib": stage["peak_rss_mib"],
        "verified": m["verified"], "rejected": m["rejected"], "drop_counts": m["drop_counts"],
        "per_check_cpu_us": per_check, "mutant_catch_rates": catch_rates(base, per_kind=500),
        "note": "samples_per_s: the rule layer in the stage (wall clock; tools compiled cold; every check, every "
                "reason). stage_*: stages/verify.py end to end in a fresh process (read, parse, rules, stats, both "
                "outputs written, metrics). Wall and CPU differ when other work shares the machine.",
    }


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=SAMPLES)
    ap.add_argument("--apis", type=int, default=APIS)
    ap.add_argument("--input", default=None)
    a = ap.parse_args()
    main("verify_rules", lambda: run(a.samples, a.apis, a.input))
