"""Tool responses that fail, and how the assistant handles them (`dialogs.tool_failures`).

A failed response is an empty result (valid against the tool's `returns` schema: nothing matched) or
an error object (callforge/calling/tool_errors.py). The assistant then
    explain  says what went wrong (an error it cannot fix, or nothing found);
    retry    calls again: with the value the error suggests ("did you mean 'Oslo'?"), or with the same
             arguments after a transient error;
    ask      asks the user for the right value after a not-found error, and calls with the answer
             (another user turn, so multi_turn samples only).
`empty` is an empty result the assistant explains.

Offline, `plan` rewrites one call of a skeleton: the failed call takes its place (with the value the
user typed, a slip of the right one, when it is corrected later) and the call made again follows in
a step of its own. On the model path the first tool response of the planned turn fails (`model_failure`)
and the model handles it. The plan draws from the sample's own stream (rng_for(seed, "dialogs", i,
"failure")), so the share changes which samples fail, never the rest of a sample.
"""
from __future__ import annotations

import copy

from callforge.calling.tool_errors import error_result

from .phrasing import humanise
from .pool import Api, Pool
from .skeleton import FROM_ANSWER, FROM_ERROR, FROM_TOOL, Call, Turn

HANDLINGS = ("empty", "explain", "retry", "ask")
# parameter words naming what a tool looks a value up by
_LOOKUP = frozenset({"city", "town", "location", "country", "airport", "station", "destination", "origin", "region",
                     "venue", "hotel", "restaurant", "artist", "author", "team", "player", "product", "brand", "company",
                     "store", "username", "user", "guest", "customer", "recipient", "contact", "name", "street"})
_FAILED = "call_failed"   # the failed call's id until number_calls gives it its place
_COUNT_KEYS = frozenset({"count", "total", "total_count", "result_count", "results_count", "num_results", "matches"})


def empty_version(api: Api, result):
    """The result with its lists emptied (and counts zeroed): what a search that matched nothing
    returns. None when the returns schema does not allow it (no list, or lists that may not be empty)."""
    if isinstance(result, list):
        out = []
    elif isinstance(result, dict) and any(isinstance(v, list) and v for v in result.values()):
        out = {k: [] if isinstance(v, list) else 0 if k.lower() in _COUNT_KEYS and type(v) is int else v
               for k, v in result.items()}
    else:
        return None
    return out if api.returns_validator.is_valid(out) else None


def _slip(value: str, rng) -> str | None:
    """The value as someone might mistype it: two neighbouring letters or digits swapped."""
    spots = [j for j in range(1, len(value) - 1)
             if value[j].isalnum() and value[j + 1].isalnum() and value[j] != value[j + 1]]
    if not spots:
        return None
    j = rng.choice(spots)
    return value[:j] + value[j + 1] + value[j] + value[j + 2:]


def _looked_up(p: str, v: str, words_only: bool) -> bool:
    """Whether a tool would look this value up by name or id, so a slip in it is "not found":
    a short name (a place, a person, a product) or, unless `words_only`, an identifier."""
    if not 4 <= len(v) <= 40 or len(v.split()) > 3:
        return False
    if all(w.isalpha() for w in v.split()):
        return bool(_LOOKUP & set(humanise(p).split())) or humanise(p).split()[-1:] == ["name"]
    return not words_only and " " not in v and any(ch.isdigit() for ch in v)


def _slipped_args(api: Api, call: Call, rng, words_only: bool) -> tuple[str, str, dict] | None:
    """(parameter, mistyped value, arguments) for a value the user gave that the tool looks up (a
    name; or an identifier when `words_only` is off: the tool can suggest a name's spelling, not
    someone's account number). None when the call has none."""
    params = [p for p, v in call.args.items() if isinstance(v, str) and p not in call.sources
              and not (api.props.get(p) or {}).get("format") and not (api.props.get(p) or {}).get("enum")
              and _looked_up(p, v, words_only)]
    rng.shuffle(params)
    others = {v for v in call.args.values() if isinstance(v, str)}
    for p in params:
        bad = _slip(call.args[p], rng)
        if bad and bad not in others:
            args = {**call.args, p: bad}
            if api.params_validator.is_valid(args):
                return p, bad, args
    return None


def _not_found(p: str, value: str) -> str:
    return f"No {humanise(p)} matches '{value}'."


def _used_later(turns: list[Turn], call: Call) -> bool:
    """Whether a later call takes a value from this call's result (a chain must not break)."""
    return any(src[0] == FROM_TOOL and src[1] == call.id
               for t in turns for s in t.steps for c in s for src in c.sources.values())


def _feasible(turns, dtype, t, s, call, api, slip) -> dict[str, bool]:
    turn = turns[t]
    keeps_chain = not _used_later(turns, call)
    return {"empty": keeps_chain and empty_version(api, call.response) is not None,
            "explain": keeps_chain,
            "retry": True,
            "ask": (dtype == "multi_turn" and slip is not None and len(turn.steps[s]) == 1 and not turn.ask
                    and turn.kind in ("request", "new_api", "variation"))}


def plan(pool: Pool, turns: list[Turn], dtype: str, cfg, rng) -> dict | None:
    """Make one call of these turns fail, handled as drawn from `cfg.kinds` among the handlings this
    call allows; `cfg` is `dialogs.tool_failures`. Returns {"turn", "code", "handling"} or None."""
    if rng.random() >= cfg.share:
        return None
    sites = [(t, s, k) for t, turn in enumerate(turns) for s, step in enumerate(turn.steps) for k in range(len(step))]
    if not sites:
        return None
    t, s, k = rng.choice(sites)
    turn = turns[t]
    call = turn.steps[s][k]
    api = pool.apis[call.api]
    slip = _slipped_args(api, call, rng, words_only=True)            # what a retry corrects
    wrong = slip or _slipped_args(api, call, rng, words_only=False)   # what the user corrects when asked
    ok = _feasible(turns, dtype, t, s, call, api, wrong)
    names = [h for h in HANDLINGS if ok[h] and cfg.kinds.get(h, 0) > 0]
    if not names:
        return None
    handling = rng.choices(names, [cfg.kinds[h] for h in names])[0]
    if handling == "empty":
        call.response = empty_version(api, call.response)
        call.failure = {"code": "empty", "handling": "explain"}
    elif handling == "explain":
        p = next((p for p, v in call.args.items() if isinstance(v, str) and p not in call.sources
                  and _looked_up(p, v, words_only=False)), None)
        call.response = (error_result("not_found", _not_found(p, call.args[p])) if p else
                         error_result("unavailable", "The service is down for maintenance."))
        call.failure = {"code": "not_found" if p else "unavailable", "handling": "explain", **({"param": p} if p else {})}
    else:
        failed = Call(_FAILED, call.api, dict(call.args), sources=dict(call.sources))
        if handling == "ask" or slip is not None:
            p, bad, failed.args = wrong if handling == "ask" else slip
            hint = {} if handling == "ask" else {"suggestion": call.args[p]}
            message = _not_found(p, bad) + ("" if handling == "ask" else f" Did you mean '{call.args[p]}'?")
            failed.response = error_result("not_found", message, **hint)
            failed.failure = {"code": "not_found", "handling": handling, "param": p}
            call.sources[p] = (FROM_ANSWER,) if handling == "ask" else (FROM_ERROR, _FAILED)
        else:   # nothing to correct: a transient error, and the same call again
            failed.response = error_result("unavailable", "The service is temporarily unavailable; try again.",
                                           retryable=True)
            failed.failure = {"code": "unavailable", "handling": "retry"}
        call.retry_of = _FAILED
        turn.steps[s][k] = failed
        turn.steps.insert(s + 1, [call])
        number_calls(turns)
    code = (call.failure or turn.steps[s][k].failure)["code"]
    return {"turn": t, "code": code, "handling": "explain" if handling == "empty" else handling}


def number_calls(turns: list[Turn]) -> None:
    """Call ids in the order the dialog makes the calls (call_1, call_2, ...) once a plan moved them,
    with every reference (a chained value's source, retry_of) following its call."""
    new: dict[str, str] = {}
    for c in (c for turn in turns for step in turn.steps for c in step):
        number = f"call_{len(new) + 1}"
        new[c.id] = number
        c.id = number
    for c in (c for turn in turns for step in turn.steps for c in step):
        c.retry_of = new.get(c.retry_of, c.retry_of)
        c.sources = {p: (src[0], new.get(src[1], src[1]), *src[2:]) if src[0] in (FROM_TOOL, FROM_ERROR) else src
                     for p, src in c.sources.items()}


def model_failure(plan_: dict, api: Api, args: dict, result) -> object:
    """The failed response for the model path: the planned handling decides what the error invites
    (a transient error for retry, a not-found naming the model's own value for ask), `result` is the
    tool model's normal answer (emptied for `empty`)."""
    code, handling = plan_["code"], plan_["handling"]
    strings = [(p, v) for p, v in args.items() if isinstance(v, str) and v]
    text = next(((p, v) for p, v in strings if _looked_up(p, v, words_only=False)), strings[0] if strings else None)
    if code == "empty":
        empty = empty_version(api, copy.deepcopy(result))
        if empty is not None:
            return empty
    if handling == "retry":
        return error_result("unavailable", "The service is temporarily unavailable; try again.", retryable=True)
    if text is not None and (handling == "ask" or code == "not_found" or code == "empty"):
        return error_result("not_found", _not_found(*text))
    return error_result("unavailable", "The service is down for maintenance.")
