"""How varied a run's dialogs are, for the stats: distinct user requests, and the scenarios that
conditioned them (personas, near misses, failed tool responses). Computed from records and drop
records alone, so a sharded run's merge makes the same figures (stage.merge)."""
from __future__ import annotations

import hashlib
import json
import re
from collections import Counter

from callforge.calling.tool_errors import is_error

NEAR_DUPLICATE = "dialogs.near_duplicate_request"   # the reason dedup.py drops a dialog with
_NON_WORD = re.compile(r"[\W_]+")


def user_requests(rec: dict) -> list[str]:
    """What the user says in a dialog, turn by turn."""
    return [m.get("content") or "" for m in rec["messages"] if m["role"] == "user"]


def request_key(requests: list[str]) -> str:
    """The user's words with case, punctuation and spacing folded: equal keys, one request."""
    text = _NON_WORD.sub(" ", " ".join(requests).lower()).strip()
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def record_facts(r: dict) -> dict:
    """What the variety figures need from one record (small: it travels back from worker processes)."""
    sc = r.get("scenario") or {}
    persona, failure = sc.get("persona"), sc.get("tool_failure")
    return {"id": r["id"], "request_key": request_key(user_requests(r)),
            "register": persona["register"] if persona else None, "near_miss": sc.get("near_miss"),
            "failure": f"{failure['code']}/{failure['handling']}" if failure else None,
            "tool_errors": sum(1 for m in r["messages"] if m["role"] == "tool" and _is_error_text(m.get("content")))}


def _is_error_text(content) -> bool:
    if not isinstance(content, str) or not content.startswith('{"error"'):    # parse only what may be one
        return False
    try:
        return is_error(json.loads(content))
    except ValueError:
        return False


def _share(n: int, total: int) -> float:
    return round(n / total, 4) if total else 0.0


def requests_stats(fs: list[dict], drops: list[dict]) -> dict:
    """distinct_ratio: the share of written dialogs whose user requests no other written one repeats
    (case, punctuation and spacing aside); distinct_ratio_generated: the same before near-duplicate
    removal, counting each removed dialog as a repeat."""
    n = len(fs)
    distinct = len({f["request_key"] for f in fs})
    removed = sum(d["reason"] == NEAR_DUPLICATE for d in drops)
    return {"distinct_ratio": _share(distinct, n), "distinct_ratio_generated": _share(distinct, n + removed),
            "near_duplicates_removed": removed}


def scenario_stats(fs: list[dict]) -> dict:
    n = len(fs)
    registers = Counter(f["register"] for f in fs if f["register"])
    with_calls = [f for f in fs if f["type"] != "non_tool"]
    return {"persona_share": _share(sum(registers.values()), n),
            "registers": dict(sorted(registers.items())),
            "near_misses": dict(sorted(Counter(f["near_miss"] for f in fs if f["near_miss"]).items())),
            "tool_failures": dict(sorted(Counter(f["failure"] for f in fs if f["failure"]).items())),
            "tool_failure_share": _share(sum(1 for f in with_calls if f["failure"]), len(with_calls)),
            "error_results": sum(f["tool_errors"] for f in fs)}
