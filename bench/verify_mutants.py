"""Known faults planted in real dialogs, one kind at a time: how many does the rule layer catch?

Each mutation returns a broken copy of a sample (or None when the sample has nothing to break in that
way). Used by bench_verify_rules.py to report a catch rate per fault kind next to the speed figures.
"""
from __future__ import annotations

import copy
import json
import random


def _calls(s):
    return [(i, j, c) for i, m in enumerate(s["messages"]) for j, c in enumerate(m.get("tool_calls") or [])]


def _final(s):
    m = s["messages"][-1]
    return m if m["role"] == "assistant" and m.get("content") and not m.get("tool_calls") else None


def _tool_of(s, name):
    return next((t for t in s["tools"] if t["name"] == name), None)


def drop_tool_result(s, r):
    idx = [i for i, m in enumerate(s["messages"]) if m["role"] == "tool"]
    if not idx:
        return None
    del s["messages"][r.choice(idx)]
    return s


def misname_tool_result(s, r):
    idx = [i for i, m in enumerate(s["messages"]) if m["role"] == "tool"]
    if not idx:
        return None
    s["messages"][r.choice(idx)]["name"] += "_other"
    return s


def wrong_type(s, r):
    cs = [(c, k) for _, _, c in _calls(s) for k, v in c["arguments"].items() if isinstance(v, (str, int, float))
          and not isinstance(v, bool)]
    if not cs:
        return None
    c, k = r.choice(cs)
    c["arguments"][k] = [c["arguments"][k]]   # a list where a scalar belongs
    return s


def unknown_argument(s, r):
    cs = _calls(s)
    if not cs:
        return None
    r.choice(cs)[2]["arguments"]["zz_unlisted_option"] = "on"
    return s


def drop_required(s, r):
    cs = []
    for _, _, c in _calls(s):
        t = _tool_of(s, c["name"])
        cs += [(c, k) for k in (t["parameters"].get("required") or []) if k in c["arguments"]] if t else []
    if not cs:
        return None
    c, k = r.choice(cs)
    del c["arguments"][k]
    return s


def unknown_function(s, r):
    cs = _calls(s)
    if not cs:
        return None
    r.choice(cs)[2]["name"] += "_v2"
    return s


def invented_value(s, r):
    cs = [(c, k) for _, _, c in _calls(s) for k, v in c["arguments"].items() if isinstance(v, str)]
    if not cs:
        return None
    c, k = r.choice(cs)
    c["arguments"][k] = "Quixotic Zanzibar Holdings"
    return s


def truncate_answer(s, r):
    m = _final(s)
    words = m["content"].split() if m else []
    if len(words) < 6:
        return None
    m["content"] = " ".join(words[: r.randint(3, len(words) - 2)])
    return s


def mixed_language(s, r):
    m = _final(s)
    if not m:
        return None
    m["content"] += " 如果您还有其他问题，请随时告诉我。"
    return s


def control_char(s, r):
    m = _final(s)
    if not m:
        return None
    k = r.randint(0, len(m["content"]))
    m["content"] = m["content"][:k] + "\x1b" + m["content"][k:]
    return s


def user_twice(s, r):
    first = s["messages"][0]
    s["messages"].insert(1, dict(first))
    return s


def call_as_text(s, r):
    m = _final(s)
    cs = _calls(s)
    if not m or not cs:
        return None
    c = cs[0][2]
    m["content"] = json.dumps({"name": c["name"], "arguments": c["arguments"]})
    return s


def wrong_apis_used(s, r):
    s["apis_used"] = list(s["apis_used"]) + ["someOtherApi"]
    return s


MUTATIONS = [drop_tool_result, misname_tool_result, wrong_type, unknown_argument, drop_required, unknown_function,
             invented_value, truncate_answer, mixed_language, control_char, user_twice, call_as_text, wrong_apis_used]


def catch_rates(samples: list[dict], per_kind: int = 500, seed: int = 0) -> dict:
    """{kind: {"planted", "caught", "rate"}} plus "clean": how many unmutated samples pass."""
    from callforge.core.config import compose, validate
    from callforge.core.parallel import ordered_map
    from callforge.verify.runner import verify

    vc = validate(compose(["verify.workers=1"])).verify
    out = {}
    _, rejected, _ = verify([json.dumps(s) for s in samples[:per_kind]], vc, map_fn=ordered_map, offline=True)
    clean = min(per_kind, len(samples))
    out["clean_pass_rate"] = round((clean - len(rejected)) / clean, 4) if clean else None
    for fn in MUTATIONS:
        r = random.Random(f"{seed}:{fn.__name__}")
        broken = [b for b in (fn(copy.deepcopy(s), r) for s in samples[:per_kind]) if b is not None]
        _, rejected, _ = verify([json.dumps(b) for b in broken], vc, map_fn=ordered_map, offline=True)
        out[fn.__name__] = {"planted": len(broken), "caught": len(rejected),
                            "rate": round(len(rejected) / len(broken), 4) if broken else None}
    return out
