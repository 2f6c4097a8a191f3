"""Generation-time checks: a dialog is kept only if it is well formed and really is its data type.

Run on every sample, offline and model-made alike: calls name offered tools with arguments valid
against the tool's parameters, every call is answered by a tool message with a result valid against
the tool's return schema or an error object (callforge/calling/tool_errors.py) that the assistant
then handles (calls again, asks, or explains), and the type holds — a dependent sample's later call
takes a value found in an earlier result and not in the user's words; a clarification's call uses a
value first given in the user's answer; a call made again after its error is not a call of its own.
Returns a stable reason code, or None.
"""
from __future__ import annotations

import json
import re

from callforge.calling.tool_errors import is_error

from .phrasing import render_value as rendered
from .pool import validators as _tool_validators


def mentions(text: str, value) -> bool:
    """Whether `value` appears in `text` as a whole token (so 3 is not found inside 2023)."""
    s = rendered(value)
    if not s:
        return False
    return re.search(rf"(?<![\w]){re.escape(s)}(?![\w])", text, flags=re.IGNORECASE) is not None


def _scalars(obj, out: list):
    if isinstance(obj, dict):
        for v in obj.values():
            _scalars(v, out)
    elif isinstance(obj, list):
        for v in obj:
            _scalars(v, out)
    elif isinstance(obj, (str, int, float)) and not isinstance(obj, bool):
        out.append(obj)
    return out


def check(sample: dict) -> str | None:
    tools = {t["name"]: t for t in sample["tools"]}
    msgs = sample["messages"]
    if not msgs or msgs[0]["role"] != "user":
        return "dialogs.bad_order"
    last = msgs[-1]
    if last["role"] != "assistant" or last.get("tool_calls") or not last.get("content"):
        return "dialogs.incomplete"
    pending: dict[str, str] = {}
    failed: dict[str, int] = {}               # call id -> index of the tool message holding its error
    results: list[tuple[int, list]] = []      # (message index, scalar values in that result)
    call_msgs: list[tuple[int, list]] = []
    seen_ids: set[str] = set()
    for k, m in enumerate(msgs):
        role = m["role"]
        if role != "tool" and pending:
            return "dialogs.unanswered_call"
        if role == "assistant" and m.get("tool_calls"):
            for c in m["tool_calls"]:
                t = tools.get(c["name"])
                if t is None:
                    return "dialogs.unknown_tool"
                if c["id"] in seen_ids:
                    return "dialogs.duplicate_call_id"
                seen_ids.add(c["id"])
                if not isinstance(c["arguments"], dict) or not _tool_validators(t)[0].is_valid(c["arguments"]):
                    return "dialogs.invalid_arguments"
                pending[c["id"]] = c["name"]
            call_msgs.append((k, m["tool_calls"]))
        elif role == "tool":
            if pending.get(m.get("tool_call_id")) != m.get("name"):
                return "dialogs.orphan_tool_message"
            del pending[m["tool_call_id"]]
            try:
                res = json.loads(m["content"])
            except (TypeError, ValueError):
                return "dialogs.bad_tool_content"
            if is_error(res):
                failed[m["tool_call_id"]] = k
                continue      # an error object, not a result: nothing in it feeds a later call as data
            if not _tool_validators(tools[m["name"]])[1].is_valid(res):
                return "dialogs.invalid_result"
            results.append((k, _scalars(res, [])))
    if pending:
        return "dialogs.unanswered_call"
    if not _errors_handled(msgs, failed):
        return "dialogs.unhandled_tool_error"
    ok = TYPE_CHECKS[sample["data_type"]](msgs, _counted(msgs, call_msgs, failed), results)
    return None if ok else "dialogs.type_mismatch"


def _next_assistant(msgs, k: int):
    return next((m for m in msgs[k + 1:] if m["role"] != "tool"), None)


def _errors_handled(msgs, failed: dict[str, int]) -> bool:
    """After an error, the assistant's next message calls the same tool again (a retry) or speaks
    (asks the user, or explains): never goes on to other tools as if the call had worked."""
    for k in failed.values():
        nxt = _next_assistant(msgs, k)
        if nxt is None or nxt["role"] != "assistant":
            return False
        if nxt.get("tool_calls") and msgs[k]["name"] not in {c["name"] for c in nxt["tool_calls"]}:
            return False
    return True


def _counted(msgs, call_msgs, failed: dict[str, int]):
    """The call turns that make up the dialog's shape: a call made again right after its error is
    the failed call's second try, not a call of its own."""
    again: set[int] = set()
    for k in failed.values():
        nxt = _next_assistant(msgs, k)
        same = [c for c in (nxt or {}).get("tool_calls") or () if c["name"] == msgs[k]["name"]]
        if same:
            again.add(id(same[0]))
    out = [(k, [c for c in calls if id(c) not in again]) for k, calls in call_msgs]
    return [(k, calls) for k, calls in out if calls]


def _users(msgs) -> list[tuple[int, str]]:
    return [(k, m.get("content") or "") for k, m in enumerate(msgs) if m["role"] == "user"]


def _n_calls(call_msgs) -> int:
    return sum(len(c) for _, c in call_msgs)


def is_single(msgs, call_msgs, results) -> bool:
    return len(_users(msgs)) == 1 and _n_calls(call_msgs) == 1


def is_parallel(msgs, call_msgs, results) -> bool:
    return len(_users(msgs)) == 1 and any(len(c) >= 2 for _, c in call_msgs)


def chained(msgs, call_msgs, results) -> bool:
    """Some call takes an argument value that an earlier result holds and no user message gave."""
    user_text = " ".join(t for _, t in _users(msgs))
    for k, calls in call_msgs:
        earlier = [v for rk, vals in results if rk < k for v in vals]
        if not earlier:
            continue
        for c in calls:
            for v in _scalars(c["arguments"], []):
                if any(v == e and type(v) is type(e) for e in earlier) and not mentions(user_text, v):
                    return True
    return False


def is_dependent(msgs, call_msgs, results) -> bool:
    return len(_users(msgs)) == 1 and len(call_msgs) >= 2 and chained(msgs, call_msgs, results)


def is_non_tool(msgs, call_msgs, results) -> bool:
    return not call_msgs


def is_clarify(msgs, call_msgs, results) -> bool:
    users = _users(msgs)
    if len(users) != 2 or not call_msgs:
        return False
    (k1, request), (k2, answer) = users
    between = msgs[k1 + 1:k2]
    if len(between) != 1 or between[0]["role"] != "assistant" or between[0].get("tool_calls"):
        return False                          # exactly one assistant question between request and answer
    if call_msgs[0][0] < k2:
        return False                          # no call before the question is answered
    return any(mentions(answer, v) and not mentions(request, v)
               for _, calls in call_msgs for c in calls for v in c["arguments"].values())


def is_multi_turn(msgs, call_msgs, results) -> bool:
    """Two or more user turns, where a later one follows a finished exchange (a summary of results)."""
    if len(_users(msgs)) < 2 or not call_msgs:
        return False
    for k, m in enumerate(msgs):
        if k >= 2 and m["role"] == "user" and msgs[k - 1]["role"] == "assistant" \
                and not msgs[k - 1].get("tool_calls") and msgs[k - 2]["role"] == "tool":
            return True
    return False


TYPE_CHECKS = {"single": is_single, "parallel": is_parallel, "dependent": is_dependent, "non_tool": is_non_tool,
               "clarify": is_clarify, "multi_turn": is_multi_turn}
