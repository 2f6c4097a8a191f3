"""Hand-built dialog samples for the verify tests (and the verify bench when no other data is at hand).

`good()` is a complete, correct single-call dialog; tests copy it and break one thing at a time.
`verify_config(...)` is the `verify` config section the stage gets, with overrides.
"""
from __future__ import annotations

import copy
import functools
import json
from pathlib import Path

from callforge.core.config import compose, validate


@functools.lru_cache(maxsize=None)
def verify_config(*overrides: str):
    """The typed `verify` section of conf/ with Hydra overrides relative to it, e.g. "checks.labels=off".
    The rule layer runs in this process (workers=1) unless an override says otherwise."""
    root = Path(__file__).resolve().parents[1]
    return validate(compose([f"verify.{o}" for o in ("workers=1", *overrides)], root=root)).verify

WEATHER = {
    "name": "get_weather",
    "description": "Current weather and a short forecast for a city.",
    "parameters": {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "City name, e.g. Paris."},
            "days": {"type": "integer", "minimum": 1, "maximum": 14, "description": "Forecast length in days."},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "default": "celsius",
                     "description": "Temperature unit."},
        },
        "required": ["city"],
    },
    "returns": {"type": "object", "properties": {"city": {"type": "string"}, "temp": {"type": "number"},
                                                  "summary": {"type": "string"}}},
}

HOTEL = {
    "name": "book_hotel",
    "description": "Book a hotel room in a city for a date range.",
    "parameters": {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "City of the hotel."},
            "check_in": {"type": "string", "format": "date", "description": "Arrival date, YYYY-MM-DD."},
            "nights": {"type": "integer", "minimum": 1, "description": "Number of nights."},
            "guests": {"type": "array", "items": {"type": "string"}, "description": "Guest names."},
        },
        "required": ["city", "check_in", "nights"],
    },
    "returns": {"type": "object", "properties": {"booking_id": {"type": "string"}, "total": {"type": "number"}}},
}

PROVENANCE = {"provider": "offline", "model": "hand-written", "prompt_version": "test-v1", "seed": 0, "stage": "test"}


def good(sid: str = "s-1") -> dict:
    return {
        "id": sid,
        "data_type": "single",
        "domain": "travel",
        "tools": [copy.deepcopy(WEATHER), copy.deepcopy(HOTEL)],
        "messages": [
            {"role": "user", "content": "What's the weather in Paris for the next 3 days?"},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_1", "name": "get_weather", "arguments": {"city": "Paris", "days": 3}}]},
            {"role": "tool", "tool_call_id": "call_1", "name": "get_weather",
             "content": json.dumps({"city": "Paris", "temp": 18.5, "summary": "sunny, light wind"})},
            {"role": "assistant", "content": "Paris is sunny at 18.5 °C with a light wind for the next 3 days."},
        ],
        "apis_used": ["get_weather"],
        "provenance": dict(PROVENANCE),
    }


def parallel(sid: str = "p-1") -> dict:
    s = good(sid)
    s["data_type"] = "parallel"
    s["messages"] = [
        {"role": "user", "content": "Weather in Oslo, and book a hotel in Oslo from 2025-06-01 for 2 nights "
                                    "for Ana Lima and Bo Chen, please."},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "name": "get_weather", "arguments": {"city": "Oslo", "unit": "celsius"}},
            {"id": "c2", "name": "book_hotel", "arguments": {"city": "Oslo", "check_in": "2025-06-01", "nights": 2,
                                                             "guests": ["Ana Lima", "Bo Chen"]}}]},
        {"role": "tool", "tool_call_id": "c1", "name": "get_weather",
         "content": json.dumps({"city": "Oslo", "temp": 12, "summary": "cloudy"})},
        {"role": "tool", "tool_call_id": "c2", "name": "book_hotel",
         "content": json.dumps({"booking_id": "HTL-2231", "total": 240.0})},
        {"role": "assistant", "content": "Oslo is cloudy at 12 °C. Your room is booked (HTL-2231), 240 in total."},
    ]
    s["apis_used"] = ["book_hotel", "get_weather"]
    return s


def non_tool(sid: str = "n-1") -> dict:
    s = good(sid)
    s["data_type"] = "non_tool"
    s["messages"] = [{"role": "user", "content": "Can you tell me a fun fact about octopuses?"},
                     {"role": "assistant", "content": "None of my tools covers that, but here is one: an octopus "
                                                      "has three hearts."}]
    s["apis_used"] = []
    return s
