"""`callforge shards` on real engines: each per-sample stage (dialogs, complexity, verify, export) run as
three shards on local processes, on a Ray head started here on 127.0.0.1, and on submitit's local
executor gives the unsharded run's bytes, outputs and metrics alike. A shard killed mid-run is run
again alone (and a later --resume runs only the missing shard); a duplicate id across shards is found
at the merge; a stage that does not shard stops before it touches a file; the merge logs the stage to
MLflow once; the response cache takes writes from several processes at once."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from callforge.core.pipeline import load_pipeline
from dvc_project import env_for, scratch_project
from llm_server import TestServer, judge_overrides

STAGES = ("dialogs", "complexity", "verify", "export")
# the installed command, as a user runs it (`python -m` in the project would import its copy of the package)
CLI = [str(Path(sys.executable).with_name("callforge"))]
UPSTREAM = ("taxonomy", "apis", "dialogs", "complexity", "verify", "split", "export")
# small and quick: no worker pools (shards are the parallelism here), several parquet row groups per
# subset (so the merge must cut the shards' rows into the unsharded groups), the heuristic scorer
SMALL = ["apis.pool_size=120", "dialogs.samples=30", "dialogs.workers=1", "dialogs.steering.scorer=heuristic",
         "verify.workers=1", "export.workers=1", "export.hf.row_group_size=4", "tracking.enabled=false"]


def sh(proj: Path, *args: str, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), cwd=proj, env={**env_for(proj), **(env or {})}, capture_output=True,
                          text=True, timeout=timeout)


def ok(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc


def params(proj: Path, *overrides: str) -> None:
    """params.yaml from SMALL and `overrides` (which win)."""
    chosen = {o.split("=", 1)[0]: o for o in (*SMALL, *overrides)}
    ok(sh(proj, *CLI, "params", *chosen.values()))


def stage(proj: Path, name: str) -> None:
    ok(sh(proj, sys.executable, f"stages/{name}.py"))


def shards(proj: Path, name: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = sh(proj, *CLI, "shards", name, "--count", "3", *args)
    return ok(proc) if check else proc


def outputs(proj: Path, name: str) -> dict[str, bytes]:
    """Every file the stage writes (dvc.yaml's outs, metrics and plots; folders file by file) → bytes."""
    spec = next(s for s in load_pipeline(proj) if s.name == name)
    files = {}
    for out in spec.written:
        path = proj / out
        for f in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if f.is_file():
                files[str(f.relative_to(proj))] = f.read_bytes()
    return files


def leftovers(proj: Path) -> list[str]:
    return sorted(str(p.relative_to(proj)) for d in ("data", "metrics") for p in (proj / d).rglob("*.shard-*"))


def assert_same(proj: Path, name: str, expected: dict[str, bytes]) -> None:
    got = outputs(proj, name)
    assert got.keys() == expected.keys(), (name, sorted(got.keys() ^ expected.keys()))
    differ = [p for p in expected if got[p] != expected[p]]
    assert not differ, (name, differ)
    assert not leftovers(proj), leftovers(proj)


@pytest.fixture(scope="module")
def built(tmp_path_factory, mlflow_template):
    """A scratch DVC project with every stage up to export run whole: (project, stage → its output bytes)."""
    proj = scratch_project(tmp_path_factory.mktemp("shards"), mlflow_template)
    params(proj)
    for name in UPSTREAM:
        stage(proj, name)
    whole = {name: outputs(proj, name) for name in STAGES}
    assert len(whole["export"]) > 30 and all(whole[n] for n in STAGES)
    return proj, whole


def test_local_processes_give_the_unsharded_bytes_and_the_merge_logs_once(built):
    proj, whole = built
    for name in STAGES:
        if name == "complexity":       # the merge logs the stage to MLflow, as a whole run does; shards do not
            params(proj, "tracking.enabled=true")
        log = shards(proj, name, "--engine", "local", "--workers", "3").stderr
        assert f"{name}: running shards 0-2 of 3 on local" in log and "re-running" not in log
        assert_same(proj, name, whole[name])
        if name == "complexity":
            params(proj)
            from mlflow.tracking import MlflowClient
            client = MlflowClient(tracking_uri=f"sqlite:///{proj / 'mlflow.db'}")
            runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
            assert len(runs) == 1 and runs[0].info.status == "FINISHED"
            assert runs[0].data.tags.get("callforge.stage.complexity") == "ran"
            m = json.loads(whole["complexity"]["metrics/complexity.json"])
            assert runs[0].data.metrics["complexity.scored"] == m["scored"] > 0


@pytest.fixture(scope="module")
def ray_head(tmp_path_factory):
    """A Ray head on 127.0.0.1 (a cluster of one node), as a user's cluster would be; stopped at the end."""
    pytest.importorskip("ray")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    ray = Path(sys.executable).with_name("ray")
    head = subprocess.Popen([str(ray), "start", "--head", f"--port={port}", "--num-cpus=2", "--include-dashboard=false",
                             "--node-ip-address=127.0.0.1", "--disable-usage-stats", "--block",
                             f"--temp-dir={tmp_path_factory.mktemp('ray')}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert head.poll() is None and time.monotonic() < deadline, "the Ray head did not start"
                time.sleep(0.3)
        yield f"127.0.0.1:{port}"
    finally:
        _stop_session(head)


def _stop_session(leader: subprocess.Popen) -> None:
    """Stop a process started in a session of its own, then whatever it started there and left (Ray's
    raylet, GCS and workers), by their ids."""
    def members() -> list[int]:
        pids = []
        for d in Path("/proc").iterdir():
            try:
                if d.name.isdigit() and os.getsid(int(d.name)) == leader.pid:
                    pids.append(int(d.name))
            except OSError:
                pass
        return pids
    leader.send_signal(signal.SIGTERM)      # `ray start --block` stops the processes it started
    try:
        leader.wait(timeout=30)
    except subprocess.TimeoutExpired:
        leader.kill()
        leader.wait()
    deadline = time.monotonic() + 10
    while members() and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in members():
        os.kill(pid, signal.SIGKILL)


def test_a_ray_cluster_gives_the_unsharded_bytes(built, ray_head):
    proj, whole = built
    for name in STAGES:
        log = shards(proj, name, "--engine", "ray", "--address", ray_head).stderr
        assert f"{name}: running shards 0-2 of 3 on ray" in log
        assert_same(proj, name, whole[name])


def test_submitit_local_executor_gives_the_unsharded_bytes(built):
    proj, whole = built
    for name in STAGES:
        log = shards(proj, name, "--engine", "submitit", "--cluster", "local").stderr
        assert f"{name}: running shards 0-2 of 3 on submitit" in log
        assert_same(proj, name, whole[name])
    assert list((proj / ".cache" / "submitit").iterdir()), "submitit kept its job logs"


def test_a_stage_that_does_not_shard_stops_before_it_touches_a_file(built):
    proj, _ = built
    before = {p: (p.stat().st_mtime_ns, p.stat().st_size) for d in ("data", "metrics") for p in (proj / d).rglob("*")}
    proc = shards(proj, "split", check=False)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines()[-1] == ("callforge shards: stage split does not run in shards "
                                                     "(callforge/split/stage.py has no merge(cfg, ctx)); run it whole")
    # the stage itself refuses a shard before it reads its config
    direct = sh(proj, sys.executable, "stages/split.py", env={"CALLFORGE_SHARD": "0/2"})
    assert direct.returncode == 2
    assert direct.stderr.strip().splitlines() == [
        "callforge split: the stage does not run in shards (CALLFORGE_SHARD is set, and callforge/split/stage.py "
        "has no merge); run it whole"]
    after = {p: (p.stat().st_mtime_ns, p.stat().st_size) for d in ("data", "metrics") for p in (proj / d).rglob("*")}
    assert after == before


def test_a_shard_that_stops_on_an_error_is_not_run_again(built):
    proj, _ = built
    params_yaml = proj / "params.yaml"
    good = params_yaml.read_bytes()
    params_yaml.write_bytes(good + b"no_such_key: 1\n")     # every shard stops on it, in one line
    try:
        proc = shards(proj, "complexity", "--retries", "3", check=False)
    finally:
        params_yaml.write_bytes(good)
    assert proc.returncode != 0 and "re-running" not in proc.stderr
    assert "config error" in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        "callforge shards: complexity: shards 0-2 stopped on an error (above); the complete shards are kept: "
        "once it is fixed, `callforge shards complexity --count 3 --resume`")


# ------------------------------------------------------------------ a dead shard; duplicates across shards

class HeldJudge:
    """A judge that passes every sample, but holds every answer until `release` (so a shard can be
    killed while it waits), and notes that a request came."""

    def __init__(self):
        self.asked, self.release = threading.Event(), threading.Event()

    def __call__(self, req: dict) -> str:
        self.asked.set()
        self.release.wait(120)
        return json.dumps({"reasons": [], "verdict": "pass"})


def _kill_shard(proj: Path, index: int, count: int) -> None:
    """SIGKILL the running shard `index` of this project (found by its CALLFORGE_SHARD and folder)."""
    want = f"CALLFORGE_SHARD={index}/{count}".encode()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for d in Path("/proc").iterdir():
            try:
                if d.name.isdigit() and want in (d / "environ").read_bytes().split(b"\0") \
                        and Path(os.readlink(d / "cwd")) == proj.resolve():
                    os.kill(int(d.name), signal.SIGKILL)
                    return
            except (OSError, ValueError):
                pass
        time.sleep(0.1)
    raise AssertionError(f"shard {index} of {count} never ran")


def _sharded_with_a_kill(proj: Path, judge: HeldJudge, *args: str) -> subprocess.CompletedProcess:
    """`callforge shards verify` while shard 1 is killed as it waits for its judge."""
    judge.asked.clear()
    judge.release.clear()
    proc = subprocess.Popen([*CLI, "shards", "verify", "--count", "3", "--workers", "3", *args], cwd=proj,
                            env=env_for(proj), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert judge.asked.wait(120), "no shard asked its judge"
        _kill_shard(proj, 1, 3)
    finally:
        judge.release.set()
    out, err = proc.communicate(timeout=300)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_a_killed_shard_runs_again_alone_and_duplicates_across_shards_are_found(built, tmp_path):
    proj = tmp_path / "proj"
    shutil.copytree(built[0], proj, symlinks=True)
    dialogs = proj / "data" / "dialogs.jsonl"
    lines = dialogs.read_bytes().splitlines(keepends=True)
    # the last block holds a sample of the first block again (no shard sees both), a broken line, a blank one
    dialogs.write_bytes(b"".join(lines) + lines[0] + b'{"id": "broken\n' + b"\n")
    judge = HeldJudge()
    with TestServer(judge) as server:
        judged = judge_overrides(server, **{"judge.timeout_s": 120.0})
        params(proj, *judged)
        run = _sharded_with_a_kill(proj, judge)
        ok(run)
        assert "verify: running shards 0-2 of 3 on local" in run.stderr
        assert "verify: shards 1 failed (exit [-9])" in run.stderr
        assert "verify: re-running shards 1 of 3 on local" in run.stderr
        sharded = outputs(proj, "verify")

        # --retries 0: the run stops and keeps shards 0 and 2; --resume runs shard 1 alone, then merges
        params(proj, *judged, "cache_dir=.cache/second")      # a cold cache: shard 1 waits for its judge again
        failed = _sharded_with_a_kill(proj, judge, "--retries", "0")
        assert failed.returncode != 0
        assert failed.stderr.strip().splitlines()[-1] == (
            "callforge shards: verify: shards 1 still failed after 1 attempt; the 2 complete shards are kept: "
            "`callforge shards verify --count 3 --resume` runs the rest")
        kept = leftovers(proj)
        assert "metrics/verify.shard-0000-of-0003.json" in kept and "metrics/verify.shard-0002-of-0003.json" in kept
        assert not any("shard-0001" in p for p in kept if p.startswith("metrics/"))
        resumed = shards(proj, "verify", "--resume")
        assert "verify: running shards 1 of 3 on local" in resumed.stderr
        assert outputs(proj, "verify") == sharded and not leftovers(proj)

        stage(proj, "verify")                     # whole, from the judges' cached answers
    assert outputs(proj, "verify") == sharded
    rejected = [json.loads(x) for x in (proj / "data" / "rejected.jsonl").read_text().splitlines()]
    assert [r["reasons"] for r in rejected if r["line"] > len(lines)] == [["input.duplicate_id"], ["input.bad_json"]]
    m = json.loads(sharded["metrics/verify.json"])
    assert m["layers"]["model"]["status"] == "run" and m["layers"]["model"]["checked"] == m["verified"] > 20


def test_the_response_cache_takes_writes_from_several_processes_at_once(tmp_path):
    script = """
import sys, time
from callforge.core.cache import ResponseCache
start, me = float(sys.argv[1]), sys.argv[2]
time.sleep(max(0.0, start - time.time()))          # all open and write together
cache = ResponseCache(sys.argv[3])
for i in range(300):
    cache.put(f"{me}-{i}", {"text": f"answer {i} of {me}", "n": i})
    assert cache.get(f"{me}-{i}")["n"] == i
cache.close()
"""
    db = tmp_path / "responses.sqlite"
    start = time.time() + 2
    procs = [subprocess.Popen([sys.executable, "-c", script, str(start), f"w{k}", str(db)]) for k in range(4)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    from callforge.core.cache import ResponseCache
    cache = ResponseCache(db)
    assert len(cache) == 1200
    assert all(cache.get(f"w{k}-{i}") == {"text": f"answer {i} of w{k}", "n": i} for k in range(4) for i in range(300))
    cache.close()
