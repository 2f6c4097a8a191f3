"""Scale, sharded: the 1,000,000-sample run of bench_scale_1m.py again with verify and export as shards on a
local Ray cluster (split does not shard: it chooses over all samples at once), checked byte for byte
against the same run whole, in one project folder.

The whole run goes first; every file it writes (data/ and metrics/, the runtime timings aside) is hashed
and removed. Then a Ray head on 127.0.0.1 (tests/ray_head.py, stopped at the end) takes
`callforge shards verify|export --count 2 --engine ray`, split runs whole between them, and the same
files are hashed again. Disk: the whole run's outputs are removed before the sharded run writes its own,
whose shard files and merged outputs exist together for a while (about 2x the export folder).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from bench_scale import INPUTS, ROOT, TIMED, _disk_mib, _inputs, _params, _prefix, _stage  # noqa: E402
from bench_scale_1m import SCALE_1M  # noqa: E402
from ray_head import LOCAL_ONLY, ray_head  # noqa: E402

from callforge.core.io import md5_file  # noqa: E402

SHARDED = ("verify", "export")
SHARDS = 2


def _digests(work: Path) -> dict[str, str]:
    """md5 of every file the timed stages wrote, by path (the inputs and the untracked timings aside)."""
    out = {}
    for top in ("data", "metrics"):
        for p in sorted((work / top).rglob("*")):
            rel = str(p.relative_to(work))
            if p.is_file() and p.name not in INPUTS and not rel.startswith("data/runtime/"):
                out[rel] = md5_file(p)
    return out


def _clear(work: Path) -> None:
    for p in (work / "data").iterdir():
        if p.name not in INPUTS:
            shutil.rmtree(p) if p.is_dir() else p.unlink()
    shutil.rmtree(work / "metrics", ignore_errors=True)


def _shards(name: str, work: Path, address: str) -> dict:
    env = {**os.environ, **LOCAL_ONLY, "CI": "1", "MLFLOW_TRACKING_URI": f"sqlite:///{work / 'mlflow.db'}"}
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "callforge.cli", "shards", name, "--count", str(SHARDS),
                           "--engine", "ray", "--address", address], cwd=work, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"callforge shards {name} failed ({proc.returncode}): {proc.stderr[-3000:]}")
    return {"wall_s": round(time.perf_counter() - t0, 2)}


def run() -> dict:
    sc = SCALE_1M
    inputs, _ = _inputs(sc)
    with tempfile.TemporaryDirectory(prefix="callforge-scale-ray-", dir=ROOT / ".cache") as tmp:
        work = Path(tmp)
        _params(work, sc)
        shutil.copy(ROOT / "dvc.yaml", work / "dvc.yaml")    # `callforge shards` reads the stage's outs from it
        shutil.copytree(ROOT / "stages", work / "stages")     # and runs the project's stages/<stage>.py
        (work / "data").mkdir()
        for f in INPUTS:
            _prefix(inputs / f, work / "data" / f, None)
        os.sync()
        whole = {name: _stage(name, work) for name in TIMED}
        disk = _disk_mib(work / "data", skip=INPUTS)
        t0 = time.perf_counter()
        expected = _digests(work)
        hash_s = round(time.perf_counter() - t0, 2)
        _clear(work)
        with ray_head(num_cpus=os.cpu_count() or 2) as head:
            sharded = {}
            for name in TIMED:
                sharded[name] = _shards(name, work, head.address) if name in SHARDED else _stage(name, work)
        got = _digests(work)
    differ = sorted(k for k in expected.keys() | got.keys() if expected.get(k) != got.get(k))
    return {"samples_requested": sc.samples, "shards": SHARDS, "engine": "ray (local head on 127.0.0.1)",
            "sharded_stages": list(SHARDED), "whole": whole, "sharded": sharded,
            "whole_total_s": round(sum(s["wall_s"] for s in whole.values()), 2),
            "sharded_total_s": round(sum(s["wall_s"] for s in sharded.values()), 2),
            "files_compared": len(expected), "identical": not differ, "differ": differ[:20],
            "written_mib": disk, "hash_s": hash_s}


if __name__ == "__main__":
    from common import main
    main("scale_1m_ray", run)
