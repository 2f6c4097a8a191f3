"""Scratch projects with realistic upstream data (tests/samplegen.py), split and exported, for
test_split.py and test_export.py: samples whose requests copy an evaluation question, and a small
eval set in BFCL's layout written for these tests."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import REPO, run_stage, write_params
from samplegen import make_dataset, make_pool, single_call_sample

N_SAMPLES = 1200
EVAL_QUESTIONS = {
    "simple_0": "Work out the monthly repayment on a 250000 dollar mortgage over 30 years at an annual rate of 4.5 percent.",
    "simple_1": "Which three moons of Jupiter have the largest diameter, and how far is each from the planet?",
    "simple_2": "Translate the phrase good morning into Japanese and give the romanised reading as well.",
}


def write_bfcl(folder: Path) -> Path:
    """A small eval set in BFCL's layout (questions written for these tests)."""
    (folder / "possible_answer").mkdir(parents=True, exist_ok=True)
    with open(folder / "BFCL_v4_simple_python.json", "w") as q, \
            open(folder / "possible_answer" / "BFCL_v4_simple_python.json", "w") as a:
        for qid, text in EVAL_QUESTIONS.items():
            q.write(json.dumps({"id": qid, "question": [[{"role": "user", "content": text}]],
                                "function": [{"name": "f", "description": "", "parameters": {"type": "dict", "properties": {}}}]}) + "\n")
            a.write(json.dumps({"id": qid, "ground_truth": [{"f": {}}]}) + "\n")
    return folder


def contaminated(pool: list[dict], by_domain: dict[str, list[int]], question: str) -> list[dict]:
    """One sample per domain whose request embeds an eval question (wrapped in other words)."""
    return [single_call_sample(f"inject_{j:02d}", pool[by_domain[d][0]], f"Hi there. {question} Thanks a lot!")
            for j, d in enumerate(sorted(by_domain))]


def build(folder: Path, mlflow_template: Path, overrides=(), extra_fn=None, stages=("split", "export")) -> Path:
    shutil.copytree(REPO / "conf", folder / "conf")
    shutil.copy(mlflow_template, folder / "mlflow.db")
    pool = make_pool(300, 20, 0)
    by_domain: dict[str, list[int]] = {}
    for j, a in enumerate(pool):
        by_domain.setdefault(a["domain"], []).append(j)
    extra = extra_fn(pool, by_domain) if extra_fn else []
    make_dataset(folder, N_SAMPLES, n_apis=300, n_domains=20, extra=extra)
    bfcl = write_bfcl(folder / "bfcl")
    # sizes the tests were written for (the shipped defaults are sized for the 32-sample default run)
    write_params(folder, [f"split.decontam.bfcl_dir={bfcl}", "split.decontam.required=true", "split.holdout.fraction=0.05",
                          "split.difficulty.samples=600", "split.diversity.samples=250", *overrides])
    for name in stages:
        run_stage(name, folder)
    return folder


def read_jsonl(path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def samples_by_id(project: Path) -> dict[str, dict]:
    return {s["id"]: s for s in read_jsonl(project / "data" / "verified.jsonl")}
