"""The API context tree: the built-in offline tree, tree utilities, and speciation through a real
OpenAI-compatible server on 127.0.0.1 (malformed answers recorded with reasons, never a crash)."""
from __future__ import annotations

import json
import re

from callforge.taxonomy import context_tree as tx
from callforge.apis import offline
from callforge.calling.offline import schemas as vocab
from callforge.apis.rules import check_api
from callforge.core.seeds import rng_for
from conftest import run_stage, write_params, stage_record
from llm_server import llm_overrides
from callforge.core.config import defaults
from callforge.apis.rules import Rules

RULES = Rules.of(defaults("apis"))

NO_TRACKING = ["tracking.enabled=false"]


def test_builtin_tree_has_toolace_scale_and_usable_leaves():
    root = tx.load_offline()
    counts = tx.level_counts(root)
    assert counts["primary_domains"] >= 30 and counts["leaves"] >= 390 and counts["depth"] == 3
    assert tx.check_tree(root) == []
    leaves = tx.leaves(root)
    assert len({l.name for l in leaves}) == len(leaves), "functionality names are unique across the tree"
    for leaf in leaves:
        assert leaf.description and leaf.required, leaf.path
        assert re.fullmatch(r"[a-z][a-z0-9_]*", leaf.name), leaf.name
        for p in leaf.required + leaf.optional:
            s = vocab.schema_for(p)
            assert s.get("type") and s.get("description"), p


def test_every_leaf_yields_an_api_that_passes_the_rules():
    root = tx.load_offline()
    leaves = tx.leaves(root)
    for i, leaf in enumerate(leaves):
        api, meta = offline.write_api([leaf], "simple", [], None, [], rng_for(0, "t", i))
        assert check_api(api, RULES) == [], (leaf.path, check_api(api, RULES))
        assert api["path"] == list(leaf.path) and api["domain"] == leaf.domain


def test_level_counts_and_check_tree_on_a_small_tree():
    root = tx.node("root", "", [tx.node("A", "", [tx.node("a1", ""), tx.node("a2", "")]), tx.node("B", "")])
    c = tx.level_counts(root)
    assert c["nodes_per_level"] == {"level_1": 2, "level_2": 2} and c["leaves"] == 3
    assert [l.path for l in tx.leaves(root)] == [("A", "a1"), ("A", "a2"), ("B",)]
    dup = tx.node("root", "", [tx.node("A", ""), tx.node("A", "")])
    assert any("duplicate" in e for e in tx.check_tree(dup))
    assert any("no functionality" in e for e in tx.check_tree(tx.node("root", "")))


def test_clean_children_trims_dedups_and_caps():
    items = [{"name": "  Flight   search. ", "description": "x"}, {"name": "flight search", "description": "y"},
             {"name": "", "description": "z"}, {"name": "Hotels", "description": "h"}, {"name": "Cars", "description": "c"}]
    out = tx.clean_children(items, breadth=2)
    assert [n["name"] for n in out] == ["Flight search", "Hotels"]


def test_offline_stage_writes_the_builtin_tree(project):
    write_params(project, NO_TRACKING)
    run_stage("taxonomy", project)
    doc = json.loads((project / "data" / "taxonomy.json").read_text())
    assert doc["source"] == "builtin" and doc["provenance"]["provider"] == "offline"
    m = json.loads((project / "metrics" / "taxonomy.json").read_text())
    assert m["nodes_per_level"]["level_1"] >= 30 and m["leaves"] >= 390 and m["failures"] == 0


# -- the model path ----------------------------------------------------------------------------------
def tree_responder(req: dict):
    """A scripted 'model': children named after the area; one area answers garbage, one the wrong shape."""
    user = req["messages"][-1]["content"]
    if user.startswith("That answer could not be used"):
        user = req["messages"][1]["content"]        # a repair request: answer as the first time
    if user.startswith("Read the document"):
        doc = user.split("--- document ---\n", 1)[1]
        title = doc.splitlines()[0].strip()
        return json.dumps({"domain": {"name": title, "description": f"From a {title} manual."},
                           "functionalities": [{"name": f"{title} task {i}", "description": "Does a thing."} for i in range(2)]})
    area = re.search(r"^Area: (.*)$", user, re.M).group(1)
    breadth = int(re.search(r"List up to (\d+)", user).group(1))
    last = area.split(" > ")[-1]
    if last == "Broken":
        return "I'd be happy to help! Here are some ideas: {children: [oops"
    if last == "Odd":
        return json.dumps({"kids": ["not", "the", "shape"]})
    return json.dumps({"children": [{"name": f"{last} {i}", "description": f"Part {i} of {last}."}
                                    for i in range(breadth + 1)]})   # one too many: the stage caps it


def test_speciation_through_a_real_server(project, llm_server):
    llm_server.set_responder(tree_responder)
    doc = project / "manual.txt"
    doc.write_text("Parcel Lockers\nA manual for parcel lockers: deposit, collect, extend storage time.\n")
    write_params(project, llm_overrides(llm_server) + NO_TRACKING + [
        "taxonomy.root_domains=[Travel,Broken,Odd]", f"taxonomy.seed_docs=['{doc}']",
        "taxonomy.depth=3", "taxonomy.breadth=3", "llm.repair_retries=1"])
    run_stage("taxonomy", project)
    doc_out = json.loads((project / "data" / "taxonomy.json").read_text())
    assert doc_out["source"] == "llm"
    assert doc_out["provenance"]["provider"] == "compatible" and doc_out["provenance"]["prompt_version"] == "taxonomy-v1"
    root = doc_out["root"]
    names = [d["name"] for d in root["children"]]
    assert names == ["Travel", "Broken", "Odd", "Parcel Lockers"]
    travel = root["children"][0]
    assert [c["name"] for c in travel["children"]] == ["Travel 0", "Travel 1", "Travel 2"]     # breadth cap
    assert all(len(c["children"]) == 3 and not c["children"][0]["children"] for c in travel["children"])  # depth 3
    lockers = root["children"][3]
    assert lockers["children"][0]["name"] == "Parcel Lockers task 0" and lockers["children"][0]["children"]
    reasons = {tuple(f["path"]): f["reason"] for f in doc_out["failures"]}
    assert reasons == {("Broken",): "llm.bad_json", ("Odd",): "llm.schema_invalid"}
    m = stage_record(project, "taxonomy")
    assert m["failures_by_reason"] == {"llm.bad_json": 1, "llm.schema_invalid": 1}
    assert m["nodes_per_level"] == {"level_1": 4, "level_2": 5, "level_3": 15}
    assert m["llm"]["calls"] > 0


def test_speciation_respects_max_nodes(project, llm_server):
    llm_server.set_responder(tree_responder)
    write_params(project, llm_overrides(llm_server) + NO_TRACKING + [
        "taxonomy.root_domains=[A,B,C,D]", "taxonomy.depth=3", "taxonomy.breadth=4", "taxonomy.max_nodes=12"])
    run_stage("taxonomy", project)
    m = json.loads((project / "metrics" / "taxonomy.json").read_text())
    assert sum(m["nodes_per_level"].values()) <= 12 and m["leaves"] > 0
