"""Stage `split`: the subsets show the contrast they exist for, held-out APIs never train,
decontamination drops what copies an eval question, and bad input loses nothing else."""
from __future__ import annotations

import json
import random
import statistics
from collections import Counter

import numpy as np
import pyarrow.parquet as pq
import pytest

from callforge.core.parallel import ordered_map
from callforge.split import clusters as C
from callforge.split import decontam as D
from callforge.split import DIFFICULTY, DIVERSITY, SUBSETS, TRAIN_SUBSETS
from callforge.split.difficulty import difficulty
from callforge.split.diversity import diversity
from callforge.split.holdout import choose_eval_apis, holdout
from callforge.split.samples import Rejects, SampleMeta, SplitError, _line_ranges, read_samples
from conftest import run_stage, write_params
from samplegen import make_dataset, single_call_sample
from splitdata import EVAL_QUESTIONS, build, contaminated, read_jsonl, samples_by_id

pytest_plugins = ["split_fixture"]       # its session fixture `split_project`, built once for both test files


def manifests(project) -> dict[str, list[dict]]:
    return {name: read_jsonl(project / "data" / "split" / f"{name}.jsonl") for name in SUBSETS}


def test_difficulty_subsets_rise_in_complexity(split_project):
    m = manifests(split_project)
    means = [statistics.fmean(r["loss"] for r in m[k]) for k in DIFFICULTY]
    assert means[0] < means[1] < means[2]
    sizes = {len(m[k]) for k in DIFFICULTY}
    assert sizes == {min(600, len([r for r in m["full"] if r["loss"] is not None]) // 3)}
    ids = [r["id"] for k in DIFFICULTY for r in m[k]]
    assert len(ids) == len(set(ids))                       # disjoint levels
    easy_max = max(r["loss"] for r in m["easy"])
    hard_min = min(r["loss"] for r in m["hard"])
    assert easy_max <= hard_min
    stats = json.loads((split_project / "metrics" / "split.json").read_text())
    assert stats["contrast"]["difficulty"] is True
    assert [stats["subsets"][k]["complexity"]["mean"] for k in DIFFICULTY] == pytest.approx(means, abs=1e-5)


def test_diversity_subsets_widen_in_clusters_at_equal_size(split_project):
    m = manifests(split_project)
    sizes = [len(m[k]) for k in DIVERSITY]
    assert len(set(sizes)) == 1 and sizes[0] > 0
    covered = [len({c for r in m[k] for c in r["clusters"]}) for k in DIVERSITY]
    assert covered[0] < covered[1] < covered[2]
    summary = json.loads((split_project / "data" / "split" / "summary.json").read_text())
    drawn = summary["drawn_clusters"]
    assert set(drawn["div_low"]) < set(drawn["div_medium"]) < set(drawn["div_high"])
    for k in DIVERSITY:                                  # every sample stays inside its level's clusters
        assert all(set(r["clusters"]) <= set(drawn[k]) for r in m[k])
    assert summary["contrast"]["diversity"] is True
    assert [summary["subsets"][k]["clusters"] for k in DIVERSITY] == covered


def test_held_out_apis_never_train(split_project):
    summary = json.loads((split_project / "data" / "split" / "summary.json").read_text())
    held = set(summary["eval_apis"])
    assert held
    by_id = samples_by_id(split_project)
    m = manifests(split_project)
    for name in TRAIN_SUBSETS:
        for r in m[name]:
            s = by_id[r["id"]]
            assert held.isdisjoint(t["name"] for t in s["tools"]), (name, r["id"])
    assert m["eval"]
    for r in m["eval"]:
        s = by_id[r["id"]]
        called = {c["name"] for msg in s["messages"] for c in msg.get("tool_calls") or ()}
        assert called <= held and (called or {t["name"] for t in s["tools"]} <= held)
    train_ids = {r["id"] for r in m["full"]}
    assert train_ids.isdisjoint(r["id"] for r in m["eval"])


def test_decontamination_drops_the_injected_samples_only(split_project):
    dropped = read_jsonl(split_project / "data" / "split" / "decontam.jsonl")
    eval_ids = {r["id"] for r in manifests(split_project)["eval"]}
    injected = {f"inject_{j:02d}" for j in range(20)}
    assert {d["id"] for d in dropped} == injected - eval_ids   # every injected training sample, nothing else
    assert len(dropped) >= 15
    assert {d["eval_id"] for d in dropped} == {"simple_python:simple_1"}
    assert all(d["overlap"] == 1.0 for d in dropped)
    stats = json.loads((split_project / "metrics" / "split.json").read_text())
    assert stats["decontam"]["dropped"] == len(dropped) and stats["decontam"]["questions"] == len(EVAL_QUESTIONS)


def test_decontamination_against_real_bfcl(project, shared_bfcl):
    """A real BFCL question pasted into a request is caught; generated requests are not flagged."""
    first = json.loads((shared_bfcl / "BFCL_v4_simple_python.json").open().readline())
    question = first["question"][0][0]["content"]
    pool = make_dataset(project, 600, n_apis=200, n_domains=10)["pool"]
    with open(project / "data" / "verified.jsonl", "a") as f:
        f.write(json.dumps(single_call_sample("copied", pool[0], f"{question} Please answer quickly.")) + "\n")
    write_params(project, [f"split.decontam.bfcl_dir={shared_bfcl}", "split.holdout.fraction=0",
                           "split.holdout.min_units=0", "tracking.enabled=false"])
    run_stage("split", project)
    dropped = read_jsonl(project / "data" / "split" / "decontam.jsonl")
    assert [(d["id"], d["eval_id"]) for d in dropped] == [("copied", f"simple_python:{first['id']}")]
    stats = json.loads((project / "metrics" / "split.json").read_text())
    assert stats["decontam"]["questions"] > 1000           # all four shared categories were read


def test_same_seed_same_bytes_other_seed_other_draw(split_project, tmp_path, mlflow_template):
    again = build(tmp_path / "again", mlflow_template, overrides=["tracking.enabled=false"],
                  extra_fn=lambda pool, by: contaminated(pool, by, EVAL_QUESTIONS["simple_1"]), stages=("split",))
    for name in [*SUBSETS, "summary", "clusters", "decontam"]:
        suffix = ".json" if name in ("summary", "clusters") else ".jsonl"
        a = (split_project / "data" / "split" / f"{name}{suffix}").read_bytes()
        assert a == (again / "data" / "split" / f"{name}{suffix}").read_bytes(), name
    write_params(again, [f"split.decontam.bfcl_dir={again / 'bfcl'}", "seed=7", "tracking.enabled=false"])
    run_stage("split", again)
    other = manifests(again)
    first = manifests(split_project)
    assert [r["id"] for r in other["div_high"]] != [r["id"] for r in first["div_high"]]


def test_bad_lines_are_rejected_with_reasons_and_the_rest_kept(project):
    make_dataset(project, 300, n_apis=120, n_domains=8)
    lines = (project / "data" / "verified.jsonl").read_text().splitlines()
    broken = json.loads(lines[6])                          # an invalid record carrying a valid sample's id,
    del broken["messages"]                                 # placed before it: export must read the valid one
    lines[6:6] = [json.dumps(broken), "{not json"]
    lines.append(lines[8])                                 # a repeated id
    (project / "data" / "verified.jsonl").write_text("\n".join(lines) + "\n")
    with open(project / "data" / "scores.jsonl", "a") as f:
        f.write('{"id": "s0000001", "loss": "high"}\n')
    write_params(project, ["split.decontam.eval_set=none", "tracking.enabled=false"])
    run_stage("split", project)
    rejected = read_jsonl(project / "data" / "split" / "rejected.jsonl")
    assert sorted(r["reason"] for r in rejected) == ["split.bad_json", "split.bad_record", "split.bad_score",
                                                     "split.duplicate_id"]
    stats = json.loads((project / "metrics" / "split.json").read_text())
    assert stats["input"]["valid"] == 300
    m = manifests(project)
    assert len(m["full"]) + len(m["eval"]) + stats["holdout"]["spilled"] == 300
    run_stage("export", project)
    rows = pq.read_table(project / "data" / "export" / "full" / "hf" / "data" / "train-00000-of-00001.parquet").to_pylist()
    assert [r["id"] for r in rows] == [r["id"] for r in m["full"]]
    assert all(r["messages"] for r in rows)


def test_missing_required_eval_set_is_a_clear_error(project):
    make_dataset(project, 50, n_apis=40, n_domains=4)
    write_params(project, ["split.decontam.required=true", "split.decontam.fetch=false", "tracking.enabled=false"])
    proc = run_stage("split", project, check=False)
    assert proc.returncode != 0
    assert "decontam.eval_set_unavailable" in proc.stderr


def test_embedding_clusters_give_the_same_contrast(tmp_path, mlflow_template):
    project = build(tmp_path / "emb", mlflow_template, stages=("split",),
                    overrides=["split.diversity.cluster_by=embedding", "split.diversity.k=12", "tracking.enabled=false"])
    summary = json.loads((project / "data" / "split" / "summary.json").read_text())
    assert summary["clusters"]["by"] == "embedding"
    assert summary["clusters"]["total"] == 12
    assert summary["contrast"] == {"difficulty": True, "diversity": True}
    assert all(len(words) == 5 for words in summary["cluster_words"].values())


# ---------------------------------------------------------------- units

def meta(i, loss=None, clusters=("a",), tools=("t",), used=("t",)):
    return SampleMeta(i, i + 1, f"m{i:03d}", "single", tuple(tools), tuple(used), "", loss, tuple(clusters), ())


def test_difficulty_thirds_are_disjoint_and_ordered():
    rng = random.Random(1)
    pool = [meta(i, loss=rng.random()) for i in range(100)] + [meta(100 + i) for i in range(5)]  # 5 unscored
    parts = difficulty(pool, None)
    assert [len(parts[k]) for k in DIFFICULTY] == [33, 33, 33]
    assert max(m.loss for m in parts["easy"]) < min(m.loss for m in parts["medium"])
    assert max(m.loss for m in parts["medium"]) < min(m.loss for m in parts["hard"])
    assert [len(v) for v in difficulty(pool, 10).values()] == [10, 10, 10]
    assert [len(v) for v in difficulty(pool, 1000).values()] == [33, 33, 33]   # clipped to a third
    assert all(a.index < b.index for v in parts.values() for a, b in zip(v, v[1:]))  # input order kept


def test_diversity_levels_are_nested_and_round_robin():
    names = [f"c{j}" for j in range(10)]
    pool = [meta(i, clusters=(names[i % 10],), tools=(f"t{i % 10}",), used=(f"t{i % 10}",)) for i in range(200)]
    cmap = {f"t{j}": names[j] for j in range(10)}
    out, chosen = diversity(pool, cmap, (0.2, 0.5, 1.0), None, seed=3)
    assert [len(chosen[k]) for k in DIVERSITY] == [2, 5, 10]
    assert [len(out[k]) for k in DIVERSITY] == [40, 40, 40]
    per_cluster = [sorted(Counter(m.clusters[0] for m in out[k]).values()) for k in DIVERSITY]
    assert per_cluster == [[20, 20], [8] * 5, [4] * 10]


def test_choose_eval_apis_is_seeded_and_whole_units():
    tools = {f"t{j}": {"name": f"t{j}", "domain": f"D{j % 4}", "path": [f"D{j % 4}", "S", "x"]} for j in range(40)}
    pool = [meta(i, tools=(f"t{i % 40}",), used=(f"t{i % 40}",)) for i in range(80)]
    a = choose_eval_apis(pool, tools, "api", 0.1, 1, seed=0)
    assert len(a) == 4 and a == choose_eval_apis(pool, tools, "api", 0.1, 1, seed=0)
    assert a != choose_eval_apis(pool, tools, "api", 0.1, 1, seed=1)
    d = choose_eval_apis(pool, tools, "domain", 0.25, 1, seed=0)
    assert len({tools[t]["domain"] for t in d}) == 1 and len(d) == 10
    train, ev, spill = holdout(pool, d)
    assert len(ev) == 20 and not spill and len(train) == 60
    with pytest.raises(SplitError) as e:
        choose_eval_apis(pool, tools, "planet", 0.1, 1, seed=0)
    assert e.value.code == "split.bad_holdout_unit"


def test_ngram_index_matches_containment_not_topic():
    idx = D.NgramIndex({"q1": "Find the area of a triangle with base 10 and height 5 in square meters",
                        "q2": "Who wrote Hamlet"}, n=8, min_overlap=0.5)
    assert idx.match("hello! Find the area of a triangle with base 10 and height 5 in square meters, thanks")[0] == "q1"
    assert idx.match("Compute the area of my triangular garden; base is 10 and height 5") is None
    assert idx.match("Tell me: who wrote Hamlet?") == ("q2", 1.0)     # shorter than n: the whole question
    assert idx.match("who wrote the play") is None


def test_decontamination_in_worker_processes_drops_the_same_samples():
    questions = {"q1": "Find the area of a triangle with base 10 and height 5 in square meters",
                 "q2": "Book a table for two at an Italian restaurant tonight at eight"}
    rng = random.Random(3)
    train = [SampleMeta(i, i + 1, f"s{i}", "single", (), (), rng.choice(list(questions.values()) + [
        f"Please find the weather in city number {i}", f"Convert {i} euros to dollars today"]))
             for i in range(60)]
    cfg = type("Decontam", (), {"ngram": 4, "min_overlap": 0.5})
    alone = D.decontaminate(train, questions, cfg, workers=1)
    forked = D.decontaminate(train, questions, cfg, workers=2, map_fn=ordered_map, chunk=7)   # 9 chunks, 2 processes
    assert [m.id for m in forked[0]] == [m.id for m in alone[0]] and forked[1] == alone[1]
    assert 0 < len(alone[1]) < len(train)


def test_kmeans_separates_distinct_vocabularies():
    topics = [["flight", "airport", "boarding", "runway"], ["invoice", "payment", "ledger", "refund"],
              ["tumour", "biopsy", "oncology", "scan"]]
    tools = {}
    rng = random.Random(0)
    for t, vocab in enumerate(topics):
        for j in range(15):
            w = rng.sample(vocab, 3)
            tools[f"api_{t}_{j}"] = {"name": f"api_{t}_{j}", "description": " ".join(w), "parameters": {}}
    key, top = C.embed_clusters(tools, 3, seed=0, iters=30, vocab_size=2048)
    for t in range(3):
        assert len({key[f"api_{t}_{j}"] for j in range(15)}) == 1
    assert len(set(key.values())) == 3
    assert key == C.embed_clusters(tools, 3, seed=0, iters=30, vocab_size=2048)[0]
    x, vocab = C.tfidf([{"a", "b"}, {"a"}, set()], 10)
    assert np.allclose(np.linalg.norm(x, axis=1), [1, 1, 0]) and vocab == ["a", "b"]


def test_stats_reach_mlflow(split_project):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{split_project / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("callforge").experiment_id])
    metrics = {k: v for r in runs for k, v in r.data.metrics.items()}
    stats = json.loads((split_project / "metrics" / "split.json").read_text())
    for k in ("easy", "hard", "div_low", "div_high"):
        assert metrics[f"split.subsets.{k}.samples"] == stats["subsets"][k]["samples"]
        assert metrics[f"split.subsets.{k}.clusters"] == stats["subsets"][k]["clusters"]
    assert metrics["split.subsets.hard.complexity.mean"] == pytest.approx(stats["subsets"]["hard"]["complexity"]["mean"])
    assert metrics["split.decontam.dropped"] == stats["decontam"]["dropped"]


def test_parallel_read_equals_sequential_read(tmp_path):
    """Byte ranges cut lines apart only at line starts; ids repeated across ranges, bad lines and blank
    lines come out exactly as one sequential pass gives them."""
    make_dataset(tmp_path, 1500, n_apis=200, n_domains=8)
    path = tmp_path / "data" / "verified.jsonl"
    lines = path.read_text().splitlines()
    n = len(lines)
    lines[n // 2:n // 2] = ["{not json", "", lines[3], json.dumps({"id": "x"})]   # a bad line, a blank one,
    lines.append(lines[n // 3])                                                    # repeats across ranges
    path.write_text("\n".join(lines) + "\n")
    assert path.stat().st_size > (1 << 20)          # big enough to be cut
    ranges = _line_ranges(path, 3)
    assert len(ranges) == 3 and ranges[0][0] == 0 and ranges[-1][1] == path.stat().st_size
    data = path.read_bytes()
    assert all(data[a - 1:a] == b"\n" for a, _ in ranges[1:])

    skip = json.loads(lines[0])["tools"][0]["name"]

    def read(workers):
        rejects = Rejects()
        metas, tools = read_samples(path, rejects, skip_tools={skip}, workers=workers, map_fn=ordered_map)
        return [(m.index, m.line, m.id, m.tools, m.used, m.request) for m in metas], rejects.rows, tools
    one, three = read(1), read(3)
    assert one == three
    assert Counter(r["reason"] for r in one[1]) == {"split.duplicate_id": 2, "split.bad_json": 1,
                                                     "split.bad_record": 1}
    assert len(one[0]) == 1500 and skip not in one[2]
    assert set(one[2]) == {name for m in one[0] for name in m[3]} - {skip}
