"""The benchmark convention, shared by every bench/bench_<key>.py.

A bench module exposes `run() -> dict` (figures, each ratio measured side by side in the same run)
and may end with `if __name__ == "__main__": main("<key>", run)`. `callforge bench` runs each
module in a fresh process (so peak memory is its own) and merges its dict under "<key>" (the file
name minus "bench_") into bench/results.json, next to "machine": what the figures were measured on.
Benches are not tests: they report figures and targets, they do not fail on a missed target.
"""
from __future__ import annotations

import importlib
import json
import os
import platform
import resource
import runpy
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = Path("bench") / "results.json"


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = None
    try:
        mem = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        pass
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True).stdout.strip() or "unknown"
    except OSError:
        commit = "unknown"
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": mem, "python": platform.python_version(),
            "platform": platform.platform(), "git_commit": commit}


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def scratch_params(work: Path, overrides: list[str]) -> None:
    """A scratch project in `work`: conf/ copied (once), params.yaml composed from it with `overrides`."""
    import shutil

    from callforge.core.config import compose, validate, write_params

    if not (work / "conf").is_dir():
        shutil.copytree(ROOT / "conf", work / "conf")
    write_params(validate(compose(overrides, root=work)), work / "params.yaml")


def run_stage(stage: str, work: Path) -> dict:
    """stages/<stage>.py as DVC runs it (a fresh process reading work/params.yaml): its wall and CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, str(ROOT / "stages" / f"{stage}.py")], cwd=work,
                          env={"CI": "1", "PATH": "/usr/bin:/bin"}, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        raise RuntimeError(f"stage {stage} failed:\n{proc.stderr[-3000:]}")
    return {"wall_s": round(wall, 3),
            "cpu_s": round(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, 3)}


def merge(key: str, result: dict, path: Path | str = RESULTS) -> dict:
    """Put `result` under `key` in bench/results.json (atomically), keeping the other keys."""
    from callforge.core.io import write_json

    path = Path(path)
    data = {}
    if path.exists():
        try:
            data = json.loads(path.read_text())
        except ValueError:
            data = {}
    data[key] = result
    data["machine"] = machine()
    write_json(path, data)
    return data


def key_of(module_name: str) -> str:
    return module_name.removeprefix("bench_")


def run_module(module_name: str) -> dict:
    """Import bench/<module_name>.py, call run(), merge the figures; what `callforge bench` does per module."""
    if str(BENCH_DIR) not in sys.path:
        sys.path.insert(0, str(BENCH_DIR))
    t0 = time.perf_counter()
    mod = importlib.import_module(module_name)
    if not hasattr(mod, "run"):   # a script that merges its own figures when run as __main__
        sys.argv = [str(BENCH_DIR / f"{module_name}.py")]
        try:
            runpy.run_path(str(BENCH_DIR / f"{module_name}.py"), run_name="__main__")
        except SystemExit as e:
            if e.code not in (0, None):
                raise
        return {}
    result = dict(mod.run())
    result.setdefault("bench_wall_s", round(time.perf_counter() - t0, 2))
    merge(key_of(module_name), result)
    return result


def main(key: str, run) -> None:
    result = dict(run())
    merge(key, result)
    print(json.dumps({key: result}, indent=2))


if __name__ == "__main__":   # python bench/common.py bench_gateway
    print(json.dumps(run_module(sys.argv[1]), indent=2))
