"""Small hand-written dialog samples for the scoring tests (no shared data needed)."""
from __future__ import annotations

import json


def tool(name: str, desc: str, **params) -> dict:
    return {"name": name, "description": desc,
            "parameters": {"type": "object", "properties": {k: {"type": t, "description": f"the {k}"}
                                                            for k, t in params.items()},
                           "required": sorted(params)},
            "returns": {"type": "object"}}


WEATHER = tool("get_weather", "Current weather for a city.", city="string", unit="string")
FLIGHTS = tool("search_flights", "Find flights between two airports on a date.", origin="string",
               destination="string", date="string")
CONVERT = tool("convert_currency", "Convert an amount between currencies.", amount="number",
               source="string", target="string")


def call_sample(sid: str, tools: list[dict], query: str, calls: list[tuple[str, dict]], answer: str | None = None) -> dict:
    tc = [{"id": f"c{i}", "name": n, "arguments": a} for i, (n, a) in enumerate(calls)]
    msgs = [{"role": "user", "content": query}, {"role": "assistant", "content": None, "tool_calls": tc}]
    if answer is not None:
        msgs += [{"role": "tool", "tool_call_id": c["id"], "name": c["name"], "content": json.dumps({"ok": True})}
                 for c in tc]
        msgs.append({"role": "assistant", "content": answer})
    return {"id": sid, "data_type": "parallel" if len(tc) > 1 else "single", "tools": tools, "messages": msgs,
            "apis_used": sorted({n for n, _ in calls}), "provenance": {"provider": "test", "model": "hand"}}


def samples() -> list[dict]:
    """Five samples; two pairs share their tool list (and so a KV prefix)."""
    return [
        call_sample("w1", [WEATHER, FLIGHTS], "What's the weather in Oslo, in celsius?",
                    [("get_weather", {"city": "Oslo", "unit": "celsius"})], "It is 4 degrees and cloudy in Oslo."),
        call_sample("f1", [FLIGHTS, CONVERT], "Find me flights from OSL to CDG on 2025-03-02.",
                    [("search_flights", {"origin": "OSL", "destination": "CDG", "date": "2025-03-02"})]),
        call_sample("w2", [WEATHER, FLIGHTS], "Weather in Paris and in Rome please (fahrenheit).",
                    [("get_weather", {"city": "Paris", "unit": "fahrenheit"}),
                     ("get_weather", {"city": "Rome", "unit": "fahrenheit"})], "Paris is 50°F, Rome is 61°F."),
        call_sample("c1", [CONVERT], "How much is 120.5 EUR in NOK?",
                    [("convert_currency", {"amount": 120.5, "source": "EUR", "target": "NOK"})]),
        call_sample("f2", [FLIGHTS, CONVERT], "Any flights from JFK to LAX on 2025-07-14?",
                    [("search_flights", {"origin": "JFK", "destination": "LAX", "date": "2025-07-14"})],
                    "I found 3 direct flights; the earliest leaves at 07:05."),
    ]
