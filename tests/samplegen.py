"""Realistic stand-ins for the upstream stages' outputs, for the split/export tests and bench.

`make_dataset(folder, n_samples, n_apis, ...)` writes data/apis.jsonl, data/verified.jsonl and
data/scores.jsonl as the apis, verify and complexity stages do: a context tree of domains →
sub-domains → APIs (some named ToolACE-style, with spaces or dots), dialogs of every data type over
1–5 candidate APIs from one domain (now and then a distractor from another), tool results, thinking
traces, and a loss that grows with candidates, calls and turns (ToolACE §3), with a few unscored.
"""
from __future__ import annotations

import random
from pathlib import Path

import orjson

DOMAIN_NAMES = [
    "Travel", "Banking", "Weather", "Healthcare", "Retail", "Music", "Sports", "Education", "Real Estate",
    "Logistics", "Cooking", "Fitness", "Gaming", "Energy", "Insurance", "Legal", "Agriculture", "Automotive",
    "Astronomy", "Cinema", "Books", "Pets", "Gardening", "Photography", "Security", "Telecom", "Fashion",
    "Crypto", "Aviation", "Maritime", "Mining", "Chemistry", "Museums", "Charity", "Elections", "Parking",
    "Recycling", "Dentistry", "Theatre", "Libraries"]
SUFFIXES = ["Search", "Booking", "Accounts", "Analytics", "Records", "Alerts", "Catalog", "Support"]
VERBS = ["get", "search", "list", "create", "update", "cancel", "book", "estimate", "convert", "check",
         "find", "track", "compare", "schedule", "calculate", "fetch"]
WORDS = """flight hotel airport trip passenger luggage account balance transfer loan card deposit forecast
rain wind humidity storm patient doctor clinic appointment dose product order cart discount stock song
album artist playlist lyric match team player score league course student grade lesson exam property
rent mortgage listing agent parcel route courier depot shipment recipe ingredient oven meal diet workout
calorie trainer muscle step game level console tournament avatar solar grid meter tariff outage policy
claim premium coverage broker contract court lawyer clause ruling crop soil harvest tractor seed engine
tyre dealer garage mileage star planet telescope orbit comet movie ticket cinema trailer review novel
author chapter library isbn dog vet breed vaccine leash plant pot soil compost bloom camera lens shutter
photo print firewall alarm camera badge breach tower signal plan roaming sim dress fabric size trend
store wallet coin token ledger block runway pilot cabin hangar gate vessel port cargo harbour tide ore
drill shaft mineral assay molecule reagent flask formula element exhibit gallery curator artefact tour
donor campaign grant pledge volunteer ballot voter candidate district poll garage space permit meter
zone bin plastic glass pickup depot tooth implant brace filling hygienist stage actor script seat show
loan member shelf catalogue reading""".split()


def _words_for(i: int, rng: random.Random) -> list[str]:
    pool = WORDS[(i * 7) % len(WORDS):] + WORDS[:(i * 7) % len(WORDS)]
    return pool[:12]


def _param(kind: int, vocab: list[str], rng: random.Random) -> dict:
    w = rng.choice(vocab)
    if kind == 0:
        return {"type": "string", "description": f"The {w} to look up."}
    if kind == 1:
        return {"type": "integer", "description": f"How many {w} items.", "minimum": 1, "maximum": 50, "default": 10}
    if kind == 2:
        return {"type": "number", "description": f"The {w} amount."}
    if kind == 3:
        return {"type": "boolean", "description": f"Whether to include {w} details.", "default": False}
    if kind == 4:
        return {"type": "string", "description": f"The {w} category.", "enum": ["basic", "standard", "premium"]}
    if kind == 5:
        return {"type": "string", "description": f"The {w} date.", "format": "date"}
    if kind == 6:
        return {"type": "array", "description": f"The {w} tags.", "items": {"type": "string"}}
    return {"type": "object", "description": f"The {w} filter.",
            "properties": {"min": {"type": "number", "description": "lower bound"},
                           "label": {"type": "string", "description": "a label"}},
            "required": ["label"]}


def make_pool(n_apis: int, n_domains: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    apis, names = [], set()
    domains = DOMAIN_NAMES[:n_domains]
    for i in range(n_apis):
        d = i % len(domains)
        domain = domains[d]
        vocab = _words_for(d, rng)
        sub = f"{domain} {SUFFIXES[(i // len(domains)) % len(SUFFIXES)]}"
        verb, noun, noun2 = rng.choice(VERBS), rng.choice(vocab), rng.choice(vocab)
        base = f"{verb}_{noun}_{noun2}"
        style = i % 17
        name = (f"{verb.title()} {noun.title()} {noun2.title()} API" if style == 3 else
                f"{domain.lower().replace(' ', '_')}.{base}" if style == 5 else base)
        k = 2
        while name in names:
            name = f"{base}_{k}" if style not in (3, 5) else f"{name} {k}"
            k += 1
        names.add(name)
        props = {}
        for j in range(rng.randint(1, 5)):
            props[f"{rng.choice(vocab)}_{['id', 'count', 'amount', 'flag', 'tier', 'date', 'tags', 'filter'][j % 8]}_{j}"] = \
                _param((i + j) % 8, vocab, rng)
        req = sorted(rng.sample(sorted(props), rng.randint(1, len(props))))
        apis.append({
            "name": name,
            "description": f"{verb.title()} the {noun} {noun2} records of a {domain.lower()} {rng.choice(vocab)} service.",
            "parameters": {"type": "object", "properties": props, "required": req},
            "returns": {"type": "object", "properties": {"status": {"type": "string"}, noun: {"type": "string"}}},
            "domain": domain, "path": [domain, sub, base], "source": "offline"})
    return apis


def _value(schema: dict, rng: random.Random, vocab: list[str]):
    t = schema.get("type")
    if "enum" in schema:
        return rng.choice(schema["enum"])
    if schema.get("format") == "date":
        return f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    if t == "integer":
        return rng.randint(1, 50)
    if t == "number":
        return round(rng.uniform(1, 900), 2)
    if t == "boolean":
        return rng.random() < 0.5
    if t == "array":
        return rng.sample(vocab, 2)
    if t == "object":
        return {"label": rng.choice(vocab), "min": round(rng.uniform(0, 10), 1)}
    return f"{rng.choice(vocab)}-{rng.randint(100, 999)}"


def _args(api: dict, rng: random.Random, vocab: list[str], optional: float = 0.3) -> dict:
    props, req = api["parameters"]["properties"], set(api["parameters"]["required"])
    return {k: _value(p, rng, vocab) for k, p in props.items() if k in req or rng.random() < optional}


def _say_args(args: dict) -> str:
    return ", ".join(f"{k.split('_')[0]} {orjson.dumps(v).decode()}" for k, v in args.items())


TYPES = ["single", "parallel", "dependent", "non_tool", "clarify", "multi_turn"]
OPENERS = ["Could you", "Please", "I need you to", "Can you help me", "Go ahead and", "Quickly"]


def make_sample(i: int, pool: list[dict], by_domain: dict[str, list[int]], seed: int = 0) -> dict:
    rng = random.Random(f"{seed}:{i}")
    domains = sorted(by_domain)
    weights = [1.0 / (1 + j) ** 0.7 for j in range(len(domains))]
    domain = rng.choices(domains, weights)[0]
    vocab = _words_for(DOMAIN_NAMES.index(domain), rng)
    k = rng.choices([1, 2, 3, 4, 5], [0.15, 0.3, 0.25, 0.2, 0.1])[0]
    cands = rng.sample(by_domain[domain], min(k, len(by_domain[domain])))
    if rng.random() < 0.1:
        other = rng.choice([d for d in domains if d != domain])
        cands.append(rng.choice(by_domain[other]))
    tools = [pool[j] for j in cands]
    dtype = TYPES[i % len(TYPES)] if rng.random() < 0.8 else rng.choice(TYPES)
    target = tools[0]
    msgs: list[dict] = []
    n = [0]

    def call(api, args, thinking=True):
        n[0] += 1
        c = {"id": f"call_{i}_{n[0]}", "name": api["name"], "arguments": args}
        return c

    def ask_and_run(api_calls, text):
        msgs.append({"role": "user", "content": text})
        calls = [call(a, g) for a, g in api_calls]
        msgs.append({"role": "assistant", "content": None,
                     "thinking": f"The request needs {', '.join(sorted({c['name'] for c in calls}))}.",
                     "tool_calls": calls})
        for c in calls:
            msgs.append({"role": "tool", "tool_call_id": c["id"], "name": c["name"],
                         "content": orjson.dumps({"status": "ok", "ref": f"R{i}-{c['id'][-1]}"}).decode()})
        msgs.append({"role": "assistant", "content": f"Done: {len(calls)} result(s) for your {rng.choice(vocab)} request."})
        return calls

    opener = rng.choice(OPENERS)
    if dtype == "single":
        a = _args(target, rng, vocab)
        ask_and_run([(target, a)], f"{opener} {target['description'].lower()} with {_say_args(a)}?")
    elif dtype == "parallel":
        pairs = [(t, _args(t, rng, vocab)) for t in (tools[:2] if len(tools) > 1 else [target, target])]
        ask_and_run(pairs, f"{opener} do two things: " + "; and ".join(f"{t['name']} for {_say_args(a)}" for t, a in pairs))
    elif dtype == "dependent":
        a = _args(target, rng, vocab)
        first = ask_and_run([(target, a)], f"{opener} first {target['description'].lower()} ({_say_args(a)}), then use the result.")
        second = tools[-1]
        b = _args(second, rng, vocab)
        msgs.insert(len(msgs) - 1, {"role": "assistant", "content": None, "tool_calls": [call(second, b)]})
        msgs.insert(len(msgs) - 1, {"role": "tool", "tool_call_id": f"call_{i}_{n[0]}", "name": second["name"],
                                    "content": orjson.dumps({"status": "ok", "from": first[0]["id"]}).decode()})
    elif dtype == "non_tool":
        msgs.append({"role": "user", "content": f"{opener} tell me a fun fact about {rng.choice(WORDS)} and {rng.choice(WORDS)}?"})
        msgs.append({"role": "assistant", "content": "None of the available tools covers that; here is what I know instead."})
    elif dtype == "clarify":
        a = _args(target, rng, vocab, optional=0.0)
        missing = sorted(a)[0]
        msgs.append({"role": "user", "content": f"{opener} {target['description'].lower()}?"})
        msgs.append({"role": "assistant", "content": f"Sure. What {missing.replace('_', ' ')} should I use?"})
        ask_and_run([(target, a)], f"Use {orjson.dumps(a[missing]).decode()}, and {_say_args(a)}.")
    else:
        a = _args(target, rng, vocab)
        ask_and_run([(target, a)], f"{opener} {target['description'].lower()} for {_say_args(a)}.")
        t2 = tools[-1]
        b = _args(t2, rng, vocab)
        ask_and_run([(t2, b)], f"Now also {t2['description'].lower()} with {_say_args(b)}.")
    used = sorted({c["name"] for m in msgs for c in m.get("tool_calls") or ()})
    return {"id": f"s{i:07d}", "data_type": dtype, "domain": domain, "tools": tools, "messages": msgs,
            "apis_used": used, "steering": {"rounds": 0, "score": None},
            "provenance": {"provider": "offline", "model": "procedural-v1", "prompt_version": "dialogs-v1",
                           "seed": seed, "stage": "dialogs"}}


def score(sample: dict, rng: random.Random) -> dict:
    calls = sum(len(m.get("tool_calls") or ()) for m in sample["messages"])
    turns = sum(m["role"] == "user" for m in sample["messages"])
    loss = 0.25 + 0.12 * len(sample["tools"]) + 0.08 * calls + 0.05 * turns + rng.gauss(0, 0.05)
    if rng.random() < 0.01:
        return {"id": sample["id"], "loss": None, "response_tokens": 0, "features": {}, "backend": "heuristic",
                "model": "structural-v1", "error": "too_long"}
    return {"id": sample["id"], "loss": round(loss, 5), "response_tokens": 20 + 5 * calls,
            "features": {"candidates": len(sample["tools"]), "calls": calls, "turns": turns},
            "backend": "heuristic", "model": "structural-v1"}


def make_dataset(folder: Path, n_samples: int, n_apis: int = 400, n_domains: int = 20, seed: int = 0,
                 extra: list[dict] = ()) -> dict:
    """Write data/{apis,verified,scores}.jsonl under `folder`; `extra` samples are appended as given."""
    data = Path(folder) / "data"
    data.mkdir(parents=True, exist_ok=True)
    pool = make_pool(n_apis, n_domains, seed)
    by_domain: dict[str, list[int]] = {}
    for j, a in enumerate(pool):
        by_domain.setdefault(a["domain"], []).append(j)
    rng = random.Random(seed)
    with open(data / "apis.jsonl", "wb") as f:
        for a in pool:
            f.write(orjson.dumps(a) + b"\n")
    with open(data / "verified.jsonl", "wb") as fv, open(data / "scores.jsonl", "wb") as fs:
        for i in range(n_samples):
            s = make_sample(i, pool, by_domain, seed)
            fv.write(orjson.dumps(s) + b"\n")
            fs.write(orjson.dumps(score(s, rng)) + b"\n")
        for s in extra:
            fv.write(orjson.dumps(s) + b"\n")
            fs.write(orjson.dumps(score(s, rng)) + b"\n")
    return {"pool": pool, "by_domain": by_domain}


def single_call_sample(sid: str, api: dict, request: str, seed: int = 0) -> dict:
    """A single-call sample on `api` with a given request text."""
    rng = random.Random(sid)
    vocab = _words_for(DOMAIN_NAMES.index(api["domain"]), rng)
    call = {"id": f"{sid}_c1", "name": api["name"], "arguments": _args(api, rng, vocab)}
    msgs = [{"role": "user", "content": request},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": call["id"], "name": api["name"], "content": '{"status":"ok"}'},
            {"role": "assistant", "content": "Here is the result."}]
    return {"id": sid, "data_type": "single", "domain": api["domain"], "tools": [api], "messages": msgs,
            "apis_used": [api["name"]], "provenance": {"provider": "offline", "model": "procedural-v1",
                                                       "prompt_version": "dialogs-v1", "seed": seed, "stage": "dialogs"}}
