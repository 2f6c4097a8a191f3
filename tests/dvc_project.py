"""A scratch copy of the project as a user's clone has it (its own git repo, small settings), for tests
that drive DVC and `callforge build` for real."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import REPO, stage_env

CLI = [sys.executable, "-m", "callforge.cli"]
DVC = str(Path(sys.executable).with_name("dvc"))
GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
# Small settings for a test project, written into its conf/config.yaml (`_self_` comes last, so these win):
# heuristic scoring, no BFCL decontamination, a one-step fine-tune, one BFCL question.
SMALL = """
split:
  decontam: {eval_set: none}
finetune: {max_steps: 1, max_seq_len: 1024, max_samples: 3, batch_size: 3, micro_batch: 3}
evaluate:
  bfcl: {categories: [simple_python], per_category: 1}
  heldout: false
  max_new_tokens: 24
"""


def scratch_project(tmp_path: Path, mlflow_template: Path) -> Path:
    """What a clone has (tracked files, tests and benches aside) with SMALL settings, as a git repo of its own."""
    proj = tmp_path / "proj"
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    for f in files:
        if (REPO / f).is_file() and not f.startswith(("tests/", "bench/")):
            (proj / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / f, proj / f)
    conf = proj / "conf" / "config.yaml"
    conf.write_text(conf.read_text().replace("  - scorer: local", "  - scorer: heuristic") + SMALL)
    shutil.copy(mlflow_template, proj / "mlflow.db")
    env = env_for(proj)
    subprocess.run([*CLI, "params"], cwd=proj, env=env, check=True, capture_output=True)
    subprocess.run(["git", "init", "-q"], cwd=proj, check=True)
    (proj / ".gitignore").write_text((proj / ".gitignore").read_text() + "mlflow.db\n")
    subprocess.run([*GIT, "add", "-A"], cwd=proj, check=True)
    subprocess.run([*GIT, "commit", "-qm", "init"], cwd=proj, check=True)
    return proj


def env_for(proj: Path) -> dict:
    env = stage_env(proj)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"   # dvc.yaml's `python` = this venv
    env.pop("CALLFORGE_ROOT", None)
    env.pop("CALLFORGE_PARENT_RUN_ID", None)
    return env


def sh(proj: Path, *cmd: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(list(cmd), cwd=proj, env=env_for(proj), capture_output=True, text=True, timeout=timeout)


