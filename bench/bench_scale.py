"""Scale: ToolACE's pool (26,507 APIs) and 100,000 samples through verify, split and export (each
stage computing and writing its stats), timed as DVC runs them: one fresh process per stage.

Inputs are made first, untimed, by the real offline stages (taxonomy, apis, dialogs) plus heuristic
complexity scores. The same stages then run on the first 10,000 samples (same pool), so the
10k → 100k time ratio shows whether the work grows linearly (target ≤ 12 for 10× the samples).
Targets for 100k: ≤ 60 s in all, ≤ 4 GB peak memory in any stage (its process tree's PSS, see _tree_memory).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
N_APIS = 26_507
TIMED = ("verify", "split", "export")


@dataclass(frozen=True)
class Scale:
    samples: int                # the timed run
    small: int                  # its prefix, timed too: the ratio shows whether work grows linearly
    target_s: float
    # Subset sizes: null grows every subset with the data (difficulty thirds, diversity levels as large
    # as the low level allows); bench_scale_1m sets ToolACE's sizes instead.
    subsets: tuple = ("split.difficulty.samples=null", "split.diversity.samples=null")
    store: str = "bench-scale"  # where the untimed inputs are kept, under .cache/callforge/
    # Keep inputs made by older offline-stage code (their stamp goes in the results): they take ~25 min
    # at 1M, and what is timed is verify, split and export, not the stages that made them.
    reuse_inputs: bool = False


SCALE = Scale(samples=100_000, small=10_000, target_s=60)


def _overrides(n_samples: int, subsets: tuple = SCALE.subsets) -> list[str]:
    out = [f"apis.pool_size={N_APIS}", f"dialogs.samples={n_samples}", *subsets]
    bfcl = ROOT.parent / "shared" / "bfcl"
    out += [f"split.decontam.bfcl_dir={bfcl}"] if bfcl.is_dir() else ["split.decontam.eval_set=none"]
    return out


def _tree(pid: int) -> list[int]:
    """A process and all its descendants (its worker processes), from /proc."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            pass
    return out


def _tree_memory(pid: int, with_pss: bool = True) -> tuple[int, int]:
    """(RSS, PSS) bytes summed over a process tree. The RSS sum counts a page shared by a parent and the
    workers it forked once per process (a 1.4 GB split process with two forked workers reads as 4.2 GB);
    PSS divides each shared page among its sharers, so its sum is the memory the tree occupies."""
    rss = pss = 0
    for p in _tree(pid):
        try:
            rss += int(Path(f"/proc/{p}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines() if with_pss else ():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1]) * 1024
                    break
        except (OSError, ValueError, IndexError):
            pass
    return rss, pss


def _stage(name: str, work: Path) -> dict:
    """Run stages/<name>.py in `work`; wall time, the stage process's own peak RSS (from wait4), and the
    peaks of its whole process tree (the stage and its workers together, sampled every 0.1 s) as RSS and PSS."""
    env = {**os.environ, "CI": "1", "MLFLOW_TRACKING_URI": f"sqlite:///{work / 'mlflow.db'}"}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(ROOT / "stages" / f"{name}.py")], cwd=work, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak, done = [0, 0], threading.Event()

    def sample() -> None:
        tick = 0
        while not done.wait(0.1):    # PSS every 2 s: the kernel walks every page table to sum it (~25 ms at 1M)
            tick += 1
            peak[:] = map(max, peak, _tree_memory(proc.pid, with_pss=tick % 20 == 0))
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"stage {name} failed ({proc.returncode}): {err.decode(errors='replace')[-2000:]}")
    return {"wall_s": round(wall, 2), "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
            "peak_tree_rss_mib": round(peak[0] / 2**20, 1), "peak_tree_pss_mib": round(peak[1] / 2**20, 1)}


def _params(work: Path, sc: Scale) -> None:
    from callforge.core.config import compose, validate, write_params

    shutil.copytree(ROOT / "conf", work / "conf", dirs_exist_ok=True)
    write_params(validate(compose(_overrides(sc.samples, sc.subsets), root=work)), work / "params.yaml")
    from mlflow.tracking import MlflowClient   # a store that exists already, as in a user's project
    MlflowClient(tracking_uri=f"sqlite:///{work / 'mlflow.db'}").search_experiments()


def _scores(work: Path) -> None:
    """Heuristic complexity scores for every sample (the complexity stage's output format)."""
    from callforge.core.io import dumps, iter_jsonl
    from callforge.complexity import HeuristicScorer

    scorer, batch = HeuristicScorer(), []
    with open(work / "data" / "scores.jsonl", "w", encoding="utf-8") as f:
        for s in iter_jsonl(work / "data" / "dialogs.jsonl"):
            batch.append(s)
            if len(batch) == 5000:
                f.writelines(dumps(r) + "\n" for r in scorer.score(batch))
                batch = []
        f.writelines(dumps(r) + "\n" for r in scorer.score(batch))


INPUTS = ("taxonomy.json", "apis.jsonl", "dialogs.jsonl", "scores.jsonl")


def _inputs(sc: Scale) -> tuple[Path, dict]:
    """The 100k inputs, made once by the offline stages and kept under .cache/ while the code that
    makes them is unchanged (making them takes minutes; they are not what is measured)."""
    from callforge.core.io import md5_file

    store = ROOT / ".cache" / "callforge" / sc.store
    stamp = json.dumps({"overrides": _overrides(sc.samples)[:2], "code": [
        md5_file(ROOT / "callforge" / d) for d in ("apis", "dialogs", "complexity")]})
    if (store / "stamp.json").exists() and (sc.reuse_inputs or (store / "stamp.json").read_text() == stamp) \
            and all((store / "data" / f).exists() for f in INPUTS):
        setup = json.loads((store / "setup.json").read_text())
        return store / "data", {**setup, "inputs_stamp": json.loads((store / "stamp.json").read_text())}
    shutil.rmtree(store, ignore_errors=True)
    store.mkdir(parents=True)
    _params(store, sc)
    t0 = time.perf_counter()
    setup = {name: _stage(name, store) for name in ("taxonomy", "apis", "dialogs")}
    _scores(store)
    setup["scores_s"] = round(time.perf_counter() - t0 - sum(s["wall_s"] for s in setup.values()), 2)
    (store / "setup.json").write_text(json.dumps(setup))
    (store / "stamp.json").write_text(stamp)
    return store / "data", setup


def _prefix(src: Path, dst: Path, n: int | None) -> int:
    if n is None:       # the whole file: a hard link (the stages only read it), not a 7 GB copy at 1M
        os.link(src, dst)
        return -1
    k = 0
    with open(src, encoding="utf-8") as fi, open(dst, "w", encoding="utf-8") as fo:
        for line in fi:
            if n is not None and k == n:
                break
            fo.write(line)
            k += 1
    return k


def _timed(inputs: Path, work: Path, n: int | None, sc: Scale) -> dict:
    _params(work, sc)
    (work / "data").mkdir()
    for f in INPUTS:
        _prefix(inputs / f, work / "data" / f, n if f in ("dialogs.jsonl", "scores.jsonl") else None)
    os.sync()   # the copies above are the harness's writes: flush them now, not during the timed stages
    stages = {name: _stage(name, work) for name in TIMED}
    return {"samples_in": sum(1 for _ in open(work / "data" / "dialogs.jsonl", encoding="utf-8")),
            "stages": stages, "total_s": round(sum(s["wall_s"] for s in stages.values()), 2),
            "peak_rss_mib": max(s["peak_rss_mib"] for s in stages.values()),
            "peak_tree_rss_mib": max(s["peak_tree_rss_mib"] for s in stages.values()),
            "peak_tree_pss_mib": max(s["peak_tree_pss_mib"] for s in stages.values()),
            "verified": sum(1 for _ in open(work / "data" / "verified.jsonl", encoding="utf-8")),
            "rejected": sum(1 for _ in open(work / "data" / "rejected.jsonl", encoding="utf-8")),
            # each stage's own runtime record: elapsed_s, and where it has them verify's rule-layer
            # throughput and export's CPU seconds per part (how evenly its formats were shared out)
            "stage_runtime": {k: json.loads((work / "data" / "runtime" / f"{k}.json").read_text()) for k in TIMED},
            "disk_mib": {"inputs": _disk_mib(work / "data", only=INPUTS),
                         "written": _disk_mib(work / "data", skip=INPUTS)}}


def _disk_mib(folder: Path, only: tuple = (), skip: tuple = ()) -> float:
    files = [p for p in folder.rglob("*") if p.is_file() and (not only or p.name in only) and p.name not in skip]
    return round(sum(p.stat().st_size for p in files) / 2**20, 1)


def run_scale(sc: Scale) -> dict:
    inputs, setup = _inputs(sc)
    apis = sum(1 for _ in open(inputs / "apis.jsonl", encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="callforge-scale-", dir=ROOT / ".cache") as tmp:
        small = _timed(inputs, Path(tmp) / "small", sc.small, sc)
        shutil.rmtree(Path(tmp) / "small")
        big = _timed(inputs, Path(tmp) / "big", None, sc)
    ratio = big["total_s"] / small["total_s"]
    linear = 1.2 * sc.samples / sc.small
    return {"apis": apis, "samples": big["samples_in"], "setup_untimed": setup, f"n{sc.small}": small,
            f"n{sc.samples}": big, f"time_ratio_{sc.small}_to_{sc.samples}": round(ratio, 2),
            "target_total_s": sc.target_s, "target_peak_tree_pss_mib": 4096, "target_time_ratio": linear,
            "meets_targets": {"time": big["total_s"] <= sc.target_s, "memory": big["peak_tree_pss_mib"] <= 4096,
                              "linear": ratio <= linear},
            "overrides": _overrides(sc.samples, sc.subsets)}


def run() -> dict:
    return run_scale(SCALE)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from common import main
    main("scale", run)
