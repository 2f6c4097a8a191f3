"""Prompts and the expected answer shape for the model-driven API writer (own wording).

The prompt asks for one JSON object; the gateway validates it against API_SCHEMA and asks for a
repair when it does not match. API_PROMPT_VERSION goes into each record's provenance.
"""
from __future__ import annotations

import json

API_PROMPT_VERSION = "apis-v1"

# What an API writer must send back. Types inside parameters are checked later by the API rules
# (so BFCL spellings like "dict" survive to be normalised, and a bad schema is rejected with a reason).
API_SCHEMA = {"type": "object", "required": ["name", "description", "parameters", "returns"],
              "properties": {"name": {"type": "string", "minLength": 1},
                             "description": {"type": "string", "minLength": 1},
                             "parameters": {"type": "object", "required": ["properties"],
                                            "properties": {"properties": {"type": "object"},
                                                           "required": {"type": "array", "items": {"type": "string"}}}},
                             "returns": {"type": "object"}}}

OPERATOR_TEXT = {
    "add_functionality": "Widen it: cover one more closely related capability, with the parameters it needs.",
    "add_parameters": "Add one or two useful optional parameters.",
    "add_constraints": ("Add value constraints where they make sense: enum for fixed choices, minimum/maximum for "
                        "numbers, pattern or format (date, date-time, email, uri) for strings, minItems/maxItems for lists."),
    "mutate_types": ("Use richer parameter types: at least one parameter should be an array or an object, "
                     "ideally nested (a list of objects, or an object containing a list)."),
    "change_returns": "Design a richer return value: a structured object with nested fields, not a bare string.",
}

_SYSTEM_API = ("You design realistic web APIs for function calling. You answer with exactly one JSON object "
               "describing one API and nothing else.")


def write_api(nodes: list[tuple[tuple[str, ...], str, list[str]]], example: dict | None, operators: list[str],
              scope: str) -> list[dict]:
    """The API-writer prompt: the sampled subtree (path, description, input hints), one example from
    the buffer, the diversity operators."""
    lines = [f"- {' > '.join(p)}: {d}" + (f" (typical inputs: {', '.join(h)})" if h else "") for p, d, h in nodes]
    scope_txt = ("a single, focused API for this one functionality" if scope == "simple" else
                 "one detailed API that covers all of these related functionalities through its parameters")
    ex = json.dumps(example, ensure_ascii=False, sort_keys=True) if example else "(none yet)"
    ops = "\n".join(f"- {OPERATOR_TEXT[o]}" for o in operators) or "- (no extra changes)"
    return [{"role": "system", "content": _SYSTEM_API},
            {"role": "user", "content":
                "Functionalities (from the API context tree):\n" + "\n".join(lines) + "\n\n"
                f"Write {scope_txt}.\n\n"
                f"An API from the existing pool, for format and level of detail only (do not copy its purpose or name):\n{ex}\n\n"
                f"Apply these changes to your design:\n{ops}\n\n"
                "Rules: the name is a short identifier (letters, digits, underscores, dots); parameters is a JSON "
                "Schema object with \"type\": \"object\", \"properties\" and \"required\"; every property has a "
                "\"type\" and a \"description\"; required lists only existing properties; returns is a JSON "
                "Schema of the result with a \"type\".\n"
                'Reply as {"name": "...", "description": "...", "parameters": {...}, "returns": {...}}.'}]
