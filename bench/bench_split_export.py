"""Split + export at ToolACE's pool scale: 26,507 APIs and 100,000 verified samples (issue 9's scale
figure for these two stages), and 10,000 samples for the growth ratio.

Inputs come from tests/samplegen.py (the stand-in for the apis / verify / complexity outputs). Each
stage runs as DVC runs it: a fresh process reading params.yaml. Per stage: wall and CPU seconds, and
peak memory of its whole process tree (the export workers included), sampled from /proc. MLflow
tracking is off: it adds a fixed few seconds per stage that do not grow with the data. Decontamination
reads ../shared/bfcl when it is there (stated in the figures). Two size settings: the default
config's subset sizes, and ToolACE's proportions (every sample written 2-3 times).
Targets (verify + split + export + stats, 100k samples): <= 60 s, <= 4 GB; 100k/10k ratio <= 12.
"""
from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BFCL = ROOT.parent / "shared" / "bfcl"


def _tree_rss_kib(root: int) -> int:
    """Resident memory of `root` and all its descendants (KiB)."""
    parent, rss = {}, {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = Path(f"/proc/{d}/stat").read_text()
            parent[int(d)] = int(stat.rsplit(")", 1)[1].split()[1])
            for line in Path(f"/proc/{d}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss[int(d)] = int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
    total = 0
    for pid, kib in rss.items():
        p = pid
        while p and p != root:
            p = parent.get(p, 0)
        total += kib if p == root else 0
    return total


def run_stage(name: str, workdir: Path) -> dict:
    env = {**os.environ, "CI": "1"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(ROOT / "stages" / f"{name}.py")], cwd=workdir, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = [0]

    def watch():
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss_kib(proc.pid))
            time.sleep(0.05)
    w = threading.Thread(target=watch, daemon=True)
    w.start()
    err = proc.communicate()[1]
    wall = time.perf_counter() - t0
    w.join()
    if proc.returncode:
        raise RuntimeError(f"stage {name} failed: {err[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "peak_rss_mib": round(peak[0] / 1024, 1)}


def prepare(n_samples: int, workdir: Path) -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from samplegen import make_dataset

    shutil.copytree(ROOT / "conf", workdir / "conf")
    make_dataset(workdir, n_samples, n_apis=26_507, n_domains=40)


def measure(workdir: Path, sizes: list[str]) -> dict:
    """split then export on the data in `workdir`, with the given subset-size overrides."""
    from callforge.core.config import compose, validate, write_params

    overrides = ["tracking.enabled=false", *sizes,
                 f"split.decontam.bfcl_dir={BFCL}" if BFCL.is_dir() else "split.decontam.eval_set=none"]
    cfg = compose(overrides, root=workdir)
    validate(cfg)
    write_params(cfg, workdir / "params.yaml")
    out = {"input_mib": round((workdir / "data" / "verified.jsonl").stat().st_size / 2**20, 1)}
    for name in ("split", "export"):
        out[name] = run_stage(name, workdir)
    out["total_wall_s"] = round(out["split"]["wall_s"] + out["export"]["wall_s"], 2)
    out["total_cpu_s"] = round(out["split"]["cpu_s"] + out["export"]["cpu_s"], 2)
    out["peak_rss_mib"] = max(out["split"]["peak_rss_mib"], out["export"]["peak_rss_mib"])
    out["records_written"] = sum(n for s in json.loads((workdir / "metrics" / "export.json").read_text())["records"].values()
                                 for n in s.values())
    out["output_mib"] = round(sum(p.stat().st_size for p in (workdir / "data" / "export").rglob("*")
                                  if p.is_file()) / 2**20, 1)
    return out


DEFAULT = []                                                              # conf/split: 600 / 250 per subset
TOOLACE = ["split.difficulty.samples=null", "split.diversity.samples=null"]     # thirds; diversity as large as it goes


def run() -> dict:
    res = {}
    with tempfile.TemporaryDirectory(prefix="bench_split_10k_") as d:
        prepare(10_000, Path(d))
        res["n10k_default_sizes"] = measure(Path(d), DEFAULT)
    with tempfile.TemporaryDirectory(prefix="bench_split_100k_") as d:
        prepare(100_000, Path(d))
        res["n100k_default_sizes"] = measure(Path(d), DEFAULT)
        res["n100k_toolace_sizes"] = measure(Path(d), TOOLACE)
    big, small = res["n100k_default_sizes"], res["n10k_default_sizes"]
    return {
        **res,
        "apis": 26_507,
        "decontam_eval_set": "../shared/bfcl" if BFCL.is_dir() else "none",
        "ratio_100k_10k_wall": round(big["total_wall_s"] / small["total_wall_s"], 2),
        "ratio_100k_10k_cpu": round(big["total_cpu_s"] / small["total_cpu_s"], 2),
        "target_ratio": 12,
        "target_total_s_with_verify_and_stats": 60,
        "target_peak_mib": 4096,
        "meets_memory_target": max(r["peak_rss_mib"] for r in res.values()) <= 4096,
        "load_average_after": round(os.getloadavg()[0], 2),
        "note": "wall time depends on other load on the machine (load_average_after); cpu_s is the steadier figure",
    }


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from common import main

    main("split_export", run)
