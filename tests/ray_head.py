"""A real single-node Ray cluster on 127.0.0.1 for tests: `ray start --head` in a session of its own, every
port and the temp folder its own (other Ray clusters may run on the machine), stopped by its process id.

Ray replaces 127.0.0.1 by the machine's outward address unless RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 (Ray's
switch for a local-only cluster), so the head and every client of it get that variable: traffic stays on
the loopback address.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

LOCAL_ONLY = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
PORT_FLAGS = ("port", "node-manager-port", "object-manager-port", "dashboard-agent-listen-port",
              "dashboard-agent-grpc-port", "runtime-env-agent-port", "metrics-export-port", "ray-client-server-port")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class RayHead:
    address: str
    temp_dir: Path
    pid: int

    def worker_output(self) -> str:
        """What the cluster's worker processes printed (Ray keeps it per worker under the session's logs)."""
        logs = self.temp_dir / "session_latest" / "logs"
        return "".join(p.read_text(errors="replace") for p in sorted(logs.glob("worker-*.out")))

    def processes(self) -> list[str]:
        """The processes still in the head's session (the raylet, the GCS, workers, ...)."""
        out = subprocess.run(["ps", "-o", "pid=,args=", "-s", str(self.pid)], capture_output=True, text=True).stdout
        return [line for line in out.splitlines() if line.strip()]


@contextmanager
def ray_head(num_cpus: int = 2, timeout_s: float = 120):
    """Start a head, wait until it takes clients, yield it; stop it (and anything left in its session)."""
    ray = Path(sys.executable).with_name("ray")
    temp_dir = Path(tempfile.mkdtemp(prefix="rayh", dir="/tmp"))   # short: Ray's socket paths have a length limit
    ports = {flag: _free_port() for flag in PORT_FLAGS}
    cmd = [str(ray), "start", "--head", "--block", "--node-ip-address=127.0.0.1", f"--num-cpus={num_cpus}",
           "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp_dir}",
           "--object-store-memory=100000000", *[f"--{flag}={port}" for flag, port in ports.items()]]
    log = open(temp_dir / "head.log", "w")
    proc = subprocess.Popen(cmd, cwd=temp_dir, env={**os.environ, **LOCAL_ONLY}, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    head = RayHead(f"127.0.0.1:{ports['port']}", temp_dir, proc.pid)
    try:
        deadline = time.time() + timeout_s
        while "block forever" not in (temp_dir / "head.log").read_text():
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"ray head did not start:\n{(temp_dir / 'head.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield head
    finally:
        proc.terminate()                  # `ray start --block` drains the node and stops what it started
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        time.sleep(1)
        if head.processes():
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        log.close()
        shutil.rmtree(temp_dir, ignore_errors=True)
