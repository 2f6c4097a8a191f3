"""Scale: ToolACE's pool (26,507 APIs) and 100,000 samples through verify, split and export (each
stage computing and writing its stats), timed as DVC runs them: one fresh process per stage.

Inputs are made first, untimed, by the real offline stages (taxonomy, apis, dialogs) plus heuristic
complexity scores. The same stages then run on the first 10,000 samples (same pool), so the
10k → 100k time ratio shows whether the work grows linearly (target ≤ 12 for 10× the samples).
Targets for 100k: ≤ 60 s in all, ≤ 4 GB peak resident memory in any stage.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
N_APIS, N_SAMPLES, N_SMALL = 26_507, 100_000, 10_000
TIMED = ("verify", "split", "export")


def _overrides(n_samples: int) -> list[str]:
    out = [f"apis.pool_size={N_APIS}", f"dialogs.samples={n_samples}",
           "split.difficulty.samples=null", "split.diversity.samples=null"]   # subsets scale with the data
    bfcl = ROOT.parent / "shared" / "bfcl"
    out += [f"split.decontam.bfcl_dir={bfcl}"] if bfcl.is_dir() else ["split.decontam.eval_set=none"]
    return out


def _stage(name: str, work: Path) -> dict:
    """Run stages/<name>.py in `work`; wall time and the child's own peak RSS (from wait4)."""
    env = {**os.environ, "CI": "1", "MLFLOW_TRACKING_URI": f"sqlite:///{work / 'mlflow.db'}"}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(ROOT / "stages" / f"{name}.py")], cwd=work, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"stage {name} failed ({proc.returncode}): {err.decode(errors='replace')[-2000:]}")
    return {"wall_s": round(wall, 2), "peak_rss_mib": round(usage.ru_maxrss / 1024, 1)}


def _params(work: Path, n_samples: int) -> None:
    from callforge.core.config import compose, validate, write_params

    shutil.copytree(ROOT / "conf", work / "conf", dirs_exist_ok=True)
    write_params(validate(compose(_overrides(n_samples), root=work)), work / "params.yaml")
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


def _inputs() -> tuple[Path, dict]:
    """The 100k inputs, made once by the offline stages and kept under .cache/ while the code that
    makes them is unchanged (making them takes minutes; they are not what is measured)."""
    from callforge.core.io import md5_file

    store = ROOT / ".cache" / "callforge" / "bench-scale"
    stamp = json.dumps({"overrides": _overrides(N_SAMPLES)[:2], "code": [
        md5_file(ROOT / "callforge" / d) for d in ("apis", "dialogs", "complexity")]})
    if (store / "stamp.json").exists() and (store / "stamp.json").read_text() == stamp \
            and all((store / "data" / f).exists() for f in INPUTS):
        return store / "data", json.loads((store / "setup.json").read_text())
    shutil.rmtree(store, ignore_errors=True)
    store.mkdir(parents=True)
    _params(store, N_SAMPLES)
    t0 = time.perf_counter()
    setup = {name: _stage(name, store) for name in ("taxonomy", "apis", "dialogs")}
    _scores(store)
    setup["scores_s"] = round(time.perf_counter() - t0 - sum(s["wall_s"] for s in setup.values()), 2)
    (store / "setup.json").write_text(json.dumps(setup))
    (store / "stamp.json").write_text(stamp)
    return store / "data", setup


def _prefix(src: Path, dst: Path, n: int | None) -> int:
    k = 0
    with open(src, encoding="utf-8") as fi, open(dst, "w", encoding="utf-8") as fo:
        for line in fi:
            if n is not None and k == n:
                break
            fo.write(line)
            k += 1
    return k


def _timed(inputs: Path, work: Path, n: int | None) -> dict:
    _params(work, N_SAMPLES)
    (work / "data").mkdir()
    for f in INPUTS:
        _prefix(inputs / f, work / "data" / f, n if f in ("dialogs.jsonl", "scores.jsonl") else None)
    os.sync()   # the copies above are the harness's writes: flush them now, not during the timed stages
    stages = {name: _stage(name, work) for name in TIMED}
    m = {name: json.loads((work / "metrics" / f"{name}.json").read_text()) for name in TIMED}
    return {"samples_in": sum(1 for _ in open(work / "data" / "dialogs.jsonl", encoding="utf-8")),
            "stages": stages, "total_s": round(sum(s["wall_s"] for s in stages.values()), 2),
            "peak_rss_mib": max(s["peak_rss_mib"] for s in stages.values()),
            "verified": sum(1 for _ in open(work / "data" / "verified.jsonl", encoding="utf-8")),
            "rejected": sum(1 for _ in open(work / "data" / "rejected.jsonl", encoding="utf-8")),
            "stage_elapsed_s": {k: v.get("elapsed_s") for k, v in m.items()}}


def run() -> dict:
    inputs, setup = _inputs()
    apis = sum(1 for _ in open(inputs / "apis.jsonl", encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="callforge-scale-") as tmp:
        r10 = _timed(inputs, Path(tmp) / "n10k", N_SMALL)
        r100 = _timed(inputs, Path(tmp) / "n100k", None)
    ratio = r100["total_s"] / r10["total_s"]
    return {"apis": apis, "samples": r100["samples_in"], "setup_untimed": setup, "n10k": r10, "n100k": r100,
            "time_ratio_10k_to_100k": round(ratio, 2), "target_total_s": 60, "target_peak_rss_mib": 4096,
            "target_time_ratio": 12,
            "meets_targets": {"time": r100["total_s"] <= 60, "memory": r100["peak_rss_mib"] <= 4096,
                              "linear": ratio <= 12},
            "overrides": _overrides(N_SAMPLES)}


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from common import main
    main("scale", run)
