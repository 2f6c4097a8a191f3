"""The tool agent: a simulated execution result for one call.

Offline, the result is generated from the API's `returns` schema, repeating the call's arguments in
fields of the same name (a hotel search for Paris returns hotels in Paris), and validated against the
schema. `force` pins result fields (by path) to given values: that is how a dependent dialog's first
result carries the value the second call uses. With a model, the model writes the result and the
gateway checks it against the same schema.
"""
from __future__ import annotations

import json

from callforge.calling.offline.values import Unsatisfiable, gen_value

from .pool import Api
from . import prompts


def _get(obj, path):
    for k in path:
        if k == "[]":
            if not isinstance(obj, list) or not obj:
                return None, False
            obj = obj[0]
        elif isinstance(obj, dict) and k in obj:
            obj = obj[k]
        else:
            return None, False
    return obj, True


def get_path(obj, path):
    """The value at a result path ("[]" = first item), and whether it exists."""
    return _get(obj, path)


def _set(obj, path, value) -> bool:
    parent, ok = _get(obj, path[:-1])
    if not ok:
        return False
    last = path[-1]
    if last == "[]":
        if not isinstance(parent, list) or not parent:
            return False
        parent[0] = value
    elif isinstance(parent, dict):
        parent[last] = value
    else:
        return False
    return True


def simulate(api: Api, args: dict, rng, force: dict | None = None):
    """An offline result for `api(**args)`; raises Unsatisfiable when no valid one is found."""
    echo = {k: v for k, v in args.items() if isinstance(v, (str, int, float, bool))}
    if not api.returns:
        # No declared result schema: say what was done, nothing invented.
        return {"status": "success", "request": dict(args)}
    for attempt in range(4):
        resp = gen_value(api.returns, "result", rng, p_optional=1.0 if attempt >= 2 else 0.7,
                         echo=echo if attempt < 3 else None, topic=api.tool.get("description", ""))
        if force and not all(_set(resp, p, v) for p, v in force.items()):
            continue
        if api.returns_validator.is_valid(resp):
            return resp
    raise Unsatisfiable(f"no valid result for {api.name}")


def dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


async def simulate_llm(gw, api: Api, args: dict, key=None):
    """(result, None, gateway result) or (None, reason, gateway result); the gateway checks the
    answer against the API's returns schema (and asks for a repair when it does not match).
    key: the request's identity (sample id, step, call), which picks its sampling seed."""
    res = await gw.complete(prompts.tool_messages(api.tool, args), json_schema=prompts.tool_result_schema(api.returns),
                            tag="tool", key=key)
    return (res.data["result"], None, res) if res.ok else (None, res.reason or "llm.failed", res)
