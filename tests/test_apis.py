"""The API pool: rules with reason codes, near-duplicate removal, diversity operators, adaptation and
evolution, imports (OpenAI / BFCL / OpenAPI 3), the offline stage on the default config, and the
model path against a real OpenAI-compatible server on 127.0.0.1."""
from __future__ import annotations

import copy
import hashlib
import json
import re

import pytest

from callforge.core import records
from callforge.taxonomy import context_tree as tx
from callforge.apis import importers, offline, self_evolution as operators, stats
from callforge.apis.dedup import NearDuplicateIndex, shingles
from callforge.apis.pool import Pool
from callforge.apis.rules import CODES, Rules, check_api
from callforge.core.config import defaults
from callforge.core.seeds import rng_for
from conftest import run_stage, write_params, stage_record
from llm_server import llm_overrides

RULES = Rules.of(defaults("apis"))

NO_TRACKING = ["tracking.enabled=false"]
PROV = {"provider": "offline", "model": "procedural-v1", "prompt_version": "t", "seed": 0, "stage": "apis"}


def good_api() -> dict:
    return {"name": "get_weather", "description": "Current weather for a city.",
            "parameters": {"type": "object", "required": ["city"], "properties": {
                "city": {"type": "string", "description": "City name."},
                "days": {"type": "integer", "minimum": 1, "maximum": 7, "description": "Days ahead."}}},
            "returns": {"type": "object", "properties": {"temp_c": {"type": "number"}}}}


def _set(path, value):
    def edit(api):
        node = api
        for k in path[:-1]:
            node = node[k]
        if value is _DEL:
            del node[path[-1]]
        else:
            node[path[-1]] = value
    return edit


_DEL = object()
P = ("parameters", "properties")


@pytest.mark.parametrize("edit, code", [
    (_set(("name",), ""), "api.missing_name"),
    (_set(("name",), "get weather!"), "api.bad_name"),
    (_set(("name",), "9lives"), "api.bad_name"),
    (_set(("description",), "  "), "api.missing_description"),
    (_set(("parameters",), _DEL), "api.missing_parameters"),
    (_set(("parameters", "type"), "array"), "api.params_not_object"),
    (_set(P + ("days", "minimum"), "one"), "api.schema_invalid"),
    (_set(("returns",), _DEL), "api.missing_returns"),
    (_set(("returns",), {"type": "strnig"}), "api.returns_invalid"),
    (_set(("returns",), {"description": "whatever"}), "api.returns_untyped"),
    (_set(("parameters", "required"), ["city", "country"]), "api.required_not_subset"),
    (_set(P + ("city",), {"description": "City name."}), "api.property_untyped"),
    (_set(P + ("city", "description"), ""), "api.property_undescribed"),
    (_set(P + ("bad name",), {"type": "string", "description": "x"}), "api.bad_param_name"),
    (_set(P + ("city", "pattern"), "([a-z"), "api.bad_pattern"),
    (_set(P + ("days", "maximum"), 0), "api.bad_bounds"),
    (_set(P + ("city", "enum"), ["Oslo", 3]), "api.enum_type_mismatch"),
])
def test_each_rule_rejects_with_its_code(edit, code):
    assert check_api(good_api(), RULES) == []
    api = good_api()
    edit(api)
    got = [v.code for v in check_api(api, RULES)]
    assert code in got, got
    assert code in CODES


def test_declared_any_counts_as_typed_and_nested_descriptions_are_optional():
    api = good_api()
    api["parameters"]["properties"]["data"] = {"description": "Anything."}          # BFCL "any", normalised
    declared = copy.deepcopy(api["parameters"])
    declared["properties"]["data"]["type"] = "any"
    assert [v.code for v in check_api(api, RULES)] == ["api.property_untyped"]
    assert check_api(api, RULES, declared_params=declared) == []
    api = good_api()
    api["parameters"]["properties"]["where"] = {"type": "object", "description": "Place.",
                                                "properties": {"lat": {"type": "number"}}}
    assert check_api(api, RULES) == []
    assert [v.code for v in check_api(api, Rules.of(defaults('apis', describe_nested=True)))] == ["api.property_undescribed"]


def test_near_duplicates_found_by_name_and_description_not_by_accident():
    idx = NearDuplicateIndex(defaults('apis.dedup', threshold=0.8))
    base = ("searchFlights", "Find scheduled flights between two airports on a given day, with cabin class.")
    j, _, sh, sig = idx.find(*base)
    assert j is None
    idx.add(base[0], sh, sig)
    j, sim, _, _ = idx.find("search_flights", base[1])            # same words, another spelling
    assert j == 0 and sim == 1.0
    j, _, _, _ = idx.find("book_hotel_room", "Book a specific room type at a hotel for the given nights.")
    assert j is None
    assert shingles("getWeather", "x") == shingles("get_weather", "x") == shingles("Get Weather", "x")


def test_dedup_is_linear_in_practice():
    """Thousands of near-identical texts: candidate checks stay bounded (no n^2 blow-up)."""
    idx = NearDuplicateIndex(defaults('apis.dedup', threshold=0.99, max_candidates=8))
    kept = 0
    for i in range(3000):
        j, _, sh, sig = idx.find(f"tool_{i}", "Look up the current exchange rate between two currencies now " + str(i))
        if j is None:
            idx.add(f"tool_{i}", sh, sig)
            kept += 1
    assert kept == 3000


@pytest.mark.parametrize("op", operators.NAMES)
def test_each_operator_changes_the_api_and_keeps_it_valid(op):
    leaves = tx.leaves(tx.load_offline())
    changed = 0
    for i in range(60):
        rng = rng_for(1, "op", op, i)
        leaf = leaves[rng.randrange(len(leaves))]
        sibs = [l for l in leaves if l.path[:-1] == leaf.path[:-1] and l != leaf]
        api, _ = offline.write_api([leaf], "simple", sibs, None, [], rng)
        before = copy.deepcopy(api)
        ctx = operators.Ctx(siblings=sibs, covered=[leaf.name])
        if operators.OPERATORS[op](api, rng, ctx):
            assert api != before
            changed += 1
        assert check_api(api, RULES) == [], (op, check_api(api, RULES))
    assert changed >= 30


def test_mutate_types_reaches_nested_arrays_and_objects():
    leaves = tx.leaves(tx.load_offline())
    nested = 0
    for i in range(200):
        rng = rng_for(2, "mut", i)
        api, _ = offline.write_api([leaves[i % len(leaves)]], "simple", [], None, ["mutate_types", "mutate_types"], rng)
        nested += any(stats.is_nested(p) for p in api["parameters"]["properties"].values())
    assert nested > 10


def _pool(size=300, seed=0, **kw):
    leaves = tx.leaves(tx.load_offline())
    p = Pool(defaults('apis', pool_size=size, **kw), seed, PROV)
    p.run(leaves, offline.make_writer(16))
    return p


def test_pool_is_valid_unique_deterministic_and_evolves_from_its_buffer():
    p = _pool()
    assert len(p.apis) == 300 and p.generated == 300
    assert len({a["name"] for a in p.apis}) == 300
    for a in p.apis:
        assert check_api(a, RULES) == [] and records.validate("tool", a) == []
    metas = [a["meta"] for a in p.apis]
    for m in metas:   # the first round starts from an empty buffer; every later attempt draws an example
        assert (m["example"] is None) == (int(m["origin"].split("#")[1]) < 64)
    names = {a["name"] for a in p.apis}
    assert all(m["example"] in names for m in metas if m["example"]), "examples come from the pool's own buffer"
    assert {m["scope"] for m in metas} == {"simple", "detailed"}
    assert all(len(m["nodes"]) >= 2 for m in metas if m["scope"] == "detailed")
    again = _pool()
    assert json.dumps(p.apis) == json.dumps(again.apis) and json.dumps(p.rejected) == json.dumps(again.rejected)
    assert json.dumps(_pool(seed=1).apis) != json.dumps(p.apis)


def test_detailed_ratio_controls_adaptation():
    simple = _pool(100, detailed_ratio=0.0)
    detailed = _pool(100, detailed_ratio=1.0)
    assert {a["meta"]["scope"] for a in simple.apis} == {"simple"}
    assert {a["meta"]["scope"] for a in detailed.apis} == {"detailed"}


def test_pool_rejects_duplicate_names_with_a_pointer():
    p = Pool(defaults('apis', pool_size=1), 0, PROV)
    from callforge.apis.pool import Written
    assert p.admit(Written(good_api()), "a")
    other = good_api()
    other["description"] = "A totally different text about tides and harbours."
    assert not p.admit(Written(other), "b")
    assert p.rejected[-1]["reasons"] == ["api.duplicate_name"] and "#0" in p.rejected[-1]["details"][0]
    twin = good_api()
    twin["name"] = "GetWeather"
    assert not p.admit(Written(twin), "c")
    assert p.rejected[-1]["reasons"] == ["api.near_duplicate"] and p.rejected[-1]["duplicate_of"] == "get_weather"


# -- imports ---------------------------------------------------------------------------------------
IMPORT_RULES = Rules.of(defaults('apis'), require_typed_returns=False)


def test_bfcl_simple_python_imports_400_valid_tools(shared_bfcl):
    ok, bad = importers.import_file(shared_bfcl / "BFCL_v4_simple_python.json", "bfcl", IMPORT_RULES)
    assert len(ok) == 400 and bad == []
    for origin, api, _ in ok:
        assert records.validate("tool", api) == [] and api["source"] == "import:bfcl"
        assert all(p.get("type") != "dict" for p in api["parameters"]["properties"].values())


def test_bfcl_rejections_are_explained(shared_bfcl):
    ok, bad = importers.import_file(shared_bfcl / "BFCL_v4_irrelevance.json", "bfcl", IMPORT_RULES)
    assert bad and all(r["reasons"] == ["api.property_undescribed"] for r in bad)
    assert all(r["details"][0].startswith("api.property_undescribed: parameters.") for r in bad)
    assert len(ok) + len(bad) == sum(len(json.loads(l)["function"]) for l in open(shared_bfcl / "BFCL_v4_irrelevance.json"))


def test_openai_tools_json_import(tmp_path):
    tools = [{"type": "function", "function": {"name": "get_time", "description": "Current time in a zone.",
                                               "parameters": {"type": "object", "properties": {
                                                   "tz": {"type": "string", "description": "IANA zone."}},
                                                   "required": ["tz"]}}},
             {"type": "function", "function": {"name": "broken", "description": "Bad required.",
                                               "parameters": {"type": "object", "properties": {},
                                                              "required": ["ghost"]}}},
             {"type": "function", "function": {"description": "No name."}},
             "not a tool", 42]
    f = tmp_path / "tools.json"
    f.write_text(json.dumps({"tools": tools}))
    ok, bad = importers.import_file(f, "openai", IMPORT_RULES)
    assert [a["name"] for _, a, _ in ok] == ["get_time"]
    assert [r["reasons"] for r in bad] == [["api.required_not_subset"], ["tool.missing_name"], ["tool.bad_json"],
                                         ["tool.not_object"]]


OPENAPI = """
openapi: 3.0.3
info: {title: Pets, version: "1"}
paths:
  /pets/{petId}:
    parameters:
      - {name: petId, in: path, required: true, description: Pet identifier., schema: {type: string}}
    get:
      operationId: getPet
      summary: Fetch one pet
      parameters:
        - {name: fields, in: query, description: Fields to include., schema: {type: array, items: {type: string}}}
      responses:
        "200":
          description: ok
          content: {application/json: {schema: {$ref: "#/components/schemas/Pet"}}}
  /pets:
    post:
      summary: Add a pet
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [name]
              properties:
                name: {type: string, description: Pet name.}
                tags: {type: array, description: Labels., items: {type: string}, maxItems: 5}
      responses:
        "201": {description: created, content: {application/json: {schema: {$ref: "#/components/schemas/Pet"}}}}
  /loops:
    get:
      operationId: loop
      summary: Recursive schema
      responses:
        "200": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/Node"}}}}
  /nodesc:
    get:
      operationId: undocumented
      summary: A parameter without a description
      parameters:
        - {name: q, in: query, schema: {type: string}}
      responses: {"204": {description: empty}}
components:
  schemas:
    Pet:
      type: object
      properties: {id: {type: string}, name: {type: string}}
    Node:
      type: object
      properties: {child: {$ref: "#/components/schemas/Node"}}
"""


def test_openapi3_import(tmp_path):
    f = tmp_path / "pets.yaml"
    f.write_text(OPENAPI)
    ok, bad = importers.import_file(f, "openapi", IMPORT_RULES)
    got = {a["name"]: a for _, a, _ in ok}
    assert set(got) == {"getPet", "post_pets"}
    get = got["getPet"]
    assert get["parameters"]["required"] == ["petId"]
    assert set(get["parameters"]["properties"]) == {"petId", "fields"}
    assert get["returns"]["properties"]["name"] == {"type": "string"}          # $ref inlined
    post = got["post_pets"]
    assert post["parameters"]["required"] == ["name"] and post["parameters"]["properties"]["tags"]["maxItems"] == 5
    why = {r["origin"].split("#")[1]: r["reasons"] for r in bad}
    assert why == {"GET /loops": ["tool.recursive_ref"], "GET /nodesc": ["api.property_undescribed"]}


def test_unreadable_import_is_a_clear_error(tmp_path):
    with pytest.raises(importers.ImportError_) as e:
        importers.import_file(tmp_path / "nope.json", "bfcl", IMPORT_RULES)
    assert e.value.code == "import.missing_file"
    (tmp_path / "x.yaml").write_text("swagger: '2.0'\n")
    with pytest.raises(importers.ImportError_) as e:
        importers.import_file(tmp_path / "x.yaml", "openapi", IMPORT_RULES)
    assert e.value.code == "import.not_openapi3"


# -- the stage -------------------------------------------------------------------------------------
def _read(project, name):
    return [json.loads(l) for l in (project / "data" / name).read_text().splitlines()]


def test_default_stage_pool_shows_every_parameter_type_and_constraint(project):
    write_params(project)
    run_stage("taxonomy", project)
    run_stage("apis", project)
    m = json.loads((project / "metrics" / "apis.json").read_text())
    assert m["apis_total"] == m["apis_generated"] == 2000 and m["target_reached"]
    for t in ("string", "integer", "number", "boolean", "array", "object", "nested"):
        assert m["param_types"][t] > 0, t
    for c in ("enum", "minimum", "maximum", "pattern", "format", "minItems", "maxItems"):
        assert m["constraints"][c] > 0, c
    assert m["primary_domains"] >= 30 and sum(m["apis_per_domain"].values()) == 2000
    assert set(m["rejected_by_reason"]) <= set(CODES)
    apis = _read(project, "apis.jsonl")
    assert len(apis) == 2000 and len({a["name"] for a in apis}) == 2000
    assert all(check_api(a, RULES) == [] for a in apis)
    assert all(a["provenance"]["provider"] == "offline" and a["provenance"]["model"] == "procedural-v1" for a in apis)
    rejected = _read(project, "apis_rejected.jsonl")
    assert len(rejected) == m["rejected_total"] and all(r["reasons"] and r["details"] for r in rejected)
    assert m["duplicates_removed"] == sum("api.near_duplicate" in r["reasons"] for r in rejected)
    # the same figures in the variant's MLflow run
    from mlflow.tracking import MlflowClient
    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    run = client.search_runs([e.experiment_id for e in client.search_experiments()])[0]
    logged = run.data.metrics
    assert logged["apis.apis_total"] == 2000 and logged["apis.param_types.nested"] == m["param_types"]["nested"]
    assert logged["apis.constraints.pattern"] == m["constraints"]["pattern"] and logged["taxonomy.leaves"] >= 390


def test_stage_imports_bfcl_and_seeds_the_buffer(project, shared_bfcl):
    path = shared_bfcl / "BFCL_v4_simple_python.json"
    write_params(project, NO_TRACKING + ["apis.pool_size=50", f"apis.imports=[{{path:'{path}',format:bfcl,domain:BFCL}}]"])
    run_stage("taxonomy", project)
    run_stage("apis", project)
    m = json.loads((project / "metrics" / "apis.json").read_text())
    apis, rejected = _read(project, "apis.jsonl"), _read(project, "apis_rejected.jsonl")
    imported = [a for a in apis if a["source"] == "import:bfcl"]
    from_import = [r for r in rejected if r["origin"].startswith("import:bfcl:")]
    assert len(imported) == m["apis_imported"] and len(imported) + len(from_import) == 400
    assert all(set(r["reasons"]) <= {"api.duplicate_name", "api.near_duplicate"} for r in from_import)
    assert m["apis_per_domain"]["BFCL"] == len(imported) and m["apis_generated"] == 50
    assert imported[0]["provenance"]["provider"] == "import"
    first_written = next(a for a in apis if a["source"] == "offline")
    assert first_written["meta"]["example"] in {a["name"] for a in imported}


def test_missing_import_file_fails_the_stage_with_one_line(project):
    write_params(project, NO_TRACKING + ["apis.pool_size=5", "apis.imports=[{path:nowhere.json,format:openai}]"])
    run_stage("taxonomy", project)
    proc = run_stage("apis", project, check=False)
    assert proc.returncode != 0 and "apis.imports[0]" in proc.stderr and "import.missing_file" in proc.stderr


# -- the model path ----------------------------------------------------------------------------------
def _fate(prompt: str) -> int:
    return int(hashlib.sha256(prompt.encode()).hexdigest(), 16) % 5


def api_responder(req: dict):
    """A scripted model: mostly a fitting API in BFCL spelling; sometimes junk, sometimes junk that a
    repair fixes, sometimes an API that breaks the definition rules."""
    msgs = req["messages"]
    prompt = msgs[1]["content"]
    fate = _fate(prompt)
    repair = msgs[-1]["content"].startswith("That answer could not be used")
    if fate == 0 or (fate == 1 and not repair):
        return "Sure! Here is the API you asked for: {name: search, parameters: ..."
    leaf = re.search(r"^- (.+?): ", prompt, re.M).group(1).split(" > ")[-1]
    name = f"{re.sub(r'[^a-z0-9]+', '_', leaf.lower())}_{hashlib.sha256(prompt.encode()).hexdigest()[:8]}"
    api = {"name": name, "description": f"Handles {leaf} for a customer account.",
           "parameters": {"type": "dict", "required": ["account"], "properties": {
               "account": {"type": "string", "description": "Account identifier."},
               "budget": {"type": "float", "description": "Spending cap.", "minimum": 0},
               "filters": {"type": "dict", "description": "Narrowing options.", "properties": {
                   "tags": {"type": "array", "items": {"type": "string"}, "description": "Labels."}}}}},
           "returns": {"type": "dict", "properties": {"ok": {"type": "boolean"}}}}
    if fate == 2:
        api["parameters"]["required"] = ["account", "ghost"]
    return "```json\n" + json.dumps(api) + "\n```"


def test_model_path_writes_parses_and_rejects_with_reasons(project, llm_server):
    llm_server.set_responder(api_responder)
    write_params(project, llm_overrides(llm_server) + NO_TRACKING + [
        "taxonomy.source=offline", "apis.pool_size=24", "apis.batch_size=8", "llm.repair_retries=1"])
    run_stage("taxonomy", project)
    assert llm_server.calls == 0, "taxonomy.source=offline needs no model"
    run_stage("apis", project)
    m = stage_record(project, "apis")
    apis, rejected = _read(project, "apis.jsonl"), _read(project, "apis_rejected.jsonl")
    assert len(apis) == 24 == m["apis_generated"]
    for a in apis:
        assert check_api(a, RULES) == [] and a["source"] == "llm"
        assert a["parameters"]["properties"]["budget"]["type"] == "number"          # BFCL float normalised
        assert a["parameters"]["properties"]["filters"]["type"] == "object"
        assert a["provenance"] == {"provider": "compatible", "model": "test-model", "prompt_version": "apis-v1",
                                   "seed": 0, "stage": "apis"}
        assert a["meta"]["operators"] and a["meta"]["scope"] in ("simple", "detailed")
    reasons = m["rejected_by_reason"]
    assert reasons.get("llm.bad_json", 0) > 0 and reasons.get("api.required_not_subset", 0) > 0
    assert all(r["api"] for r in rejected), "the bad answer is kept for inspection"
    assert m["llm"]["repairs"] > 0
    # evolution: later prompts carry an API from the pool as their example
    names = {a["name"] for a in apis}
    assert any(any(n in r["messages"][1]["content"] for n in names) for r in llm_server.requests)
    # the operators reach the model as instructions
    assert any("Add value constraints" in r["messages"][1]["content"] for r in llm_server.requests)
    # a re-run with unchanged inputs is answered from the cache: zero calls, same pool
    calls = llm_server.calls
    first = (project / "data" / "apis.jsonl").read_bytes()
    run_stage("apis", project)
    assert llm_server.calls == calls and (project / "data" / "apis.jsonl").read_bytes() == first
