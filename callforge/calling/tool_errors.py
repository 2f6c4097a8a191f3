"""A tool call that failed: its tool message holds an error object instead of the declared result.

    {"error": {"code": "not_found", "message": "No city matches 'Olso'. Did you mean 'Oslo'?", "suggestion": "Oslo"}}

The one shape callforge writes and recognises (dialogs make such results; verify's rules read them):
a JSON object whose only key is "error", holding at least a `code` and a human-readable `message`.
Anything else in a tool message is a result, checked against the tool's `returns` schema.
"""
from __future__ import annotations


def error_result(code: str, message: str, **extra) -> dict:
    return {"error": {"code": code, "message": message, **extra}}


def is_error(result) -> bool:
    if not isinstance(result, dict) or len(result) != 1 or not isinstance(result.get("error"), dict):
        return False
    e = result["error"]
    return isinstance(e.get("code"), str) and isinstance(e.get("message"), str)
