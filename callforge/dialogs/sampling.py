"""Choosing what a dialog is about: its data type, its APIs, their arguments, its distractors.

The functions read the `dialogs` config section (callforge/core/config_schema.py: DialogsConfig) or
plain values taken from it; `check_config` refuses, before any work, values its types allow but the
generator cannot honour.
"""
from __future__ import annotations

import bisect
import itertools
import random

from callforge.calling.offline.values import Unsatisfiable, gen_value, order_ranges
from callforge.core.errors import CallforgeError
from callforge.core.seeds import derive

from .failures import HANDLINGS
from .intents import NON_TOOL_KINDS
from .personas import REGISTERS
from .pool import Api, Pool
from .skeleton import DATA_TYPES

_PHI = 0.6180339887498949


def check_config(dialogs) -> None:
    """Fail before any work, naming the key, on what config_schema.py's types and ranges let through
    but the generator cannot honour (unknown data types, pairs out of order, weights all zero)."""
    def need(ok: bool, key: str, what: str):
        if not ok:
            raise CallforgeError("dialogs.bad_config", f"dialogs.{key}: {what}")
    unknown = set(dialogs.mix) - set(DATA_TYPES)
    need(not unknown, "mix", f"unknown data type(s) {sorted(unknown)} (known: {', '.join(DATA_TYPES)})")
    need(sum(dialogs.mix.values()) > 0, "mix", "weights must sum to more than 0")
    for key, lo in (("parallel_calls", 2), ("turns", 2), ("chain_steps", 2)):
        v = list(getattr(dialogs, key))
        need(len(v) == 2 and lo <= v[0] <= v[1], key, f"expected [min, max] with {lo} <= min <= max, got {v}")
    w = dialogs.candidate_weights
    need(len(w) > 0 and min(w) >= 0 and sum(w) > 0, "candidate_weights", "expected non-negative weights, not all zero")
    w = dialogs.wording_weights
    need(len(w) == 3 and min(w) >= 0 and sum(w) > 0,
         "wording_weights", "expected three non-negative weights (close, paraphrased, far)")
    need(min(dialogs.mix.values(), default=0) >= 0, "mix", "weights must be non-negative")
    need(set(dialogs.non_tool_kinds) <= set(NON_TOOL_KINDS) and sum(dialogs.non_tool_kinds.values()) > 0,
         "non_tool_kinds", f"kinds are {', '.join(NON_TOOL_KINDS)}, weights not all zero")
    p = dialogs.personas
    need(set(p.register) <= set(REGISTERS) and (p.share == 0 or sum(p.register.values()) > 0),
         "personas.register", f"registers are {', '.join(REGISTERS)}, weights not all zero")
    need(p.share == 0 or len(p.who) > 0, "personas.who", "at least one persona when personas.share > 0")
    digits = [x for x in (*p.who, *p.why) if any(ch.isdigit() for ch in x)]
    need(not digits, "personas", f"no digits in persona phrases (they would read as values): {digits[:2]}")
    near = dialogs.near_miss
    need(set(near) <= {"out_of_scope", "clarify"} and all(0 <= v <= 1 for v in near.values()),
         "near_miss", "keys are out_of_scope and clarify, each a share in [0, 1]")
    f = dialogs.tool_failures
    need(set(f.kinds) <= set(HANDLINGS) and (f.share == 0 or sum(f.kinds.values()) > 0),
         "tool_failures.kinds", f"kinds are {', '.join(HANDLINGS)}, weights not all zero")
    need(dialogs.dedup.num_perm % dialogs.dedup.bands == 0, "dedup.num_perm", "must be a multiple of dialogs.dedup.bands")


def data_type(mix: dict, seed: int, i: int) -> str:
    """Type of sample i. A golden-ratio sequence instead of independent draws: every prefix of the
    samples (and every shard) follows the configured mix within a fraction of a percent."""
    names = [t for t in DATA_TYPES if mix.get(t, 0.0) > 0]
    weights = [mix[t] for t in names]
    total = sum(weights)
    cum = list(itertools.accumulate(w / total for w in weights))
    u = (i * _PHI + derive(seed, "dialogs-mix") / 2**64) % 1.0
    return names[min(bisect.bisect_right(cum, u), len(names) - 1)]


def max_extra(steering) -> int:
    """The most candidate APIs steering may add to a sample (`dialogs.steering`): rounds × step."""
    return steering.max_rounds * steering.step_candidates


def weighted(rng: random.Random, weights) -> int:
    """Index drawn with the given weights."""
    total = sum(weights)
    u = rng.random() * total
    acc = 0.0
    for k, w in enumerate(weights):
        acc += w
        if u < acc:
            return k
    return len(weights) - 1


def candidate_count(rng, weights, need: int) -> int:
    """How many APIs to offer: drawn with `dialogs.candidate_weights` (P(1), P(2), ...), at least `need`."""
    return max(need, 1 + weighted(rng, weights))


def rank_distractors(pool: Pool, rng, anchor: int, taken: list[int], n: int, tiers, excluded) -> list[int]:
    """Up to n APIs to offer besides `taken`, from the anchor's sub-domain, its domain, or (rarely)
    elsewhere, per the tier weights. Never one named like a taken API, nor one `excluded` refuses
    (a functional clone of a called API: clones.py)."""
    a = pool.apis[anchor]
    lists = (pool.by_sub.get((a.domain, a.sub), []), pool.by_domain.get(a.domain, []), None)
    taken = set(taken)
    names = {pool.apis[t].name for t in taken}
    refused: set[int] = set()
    out: list[int] = []
    for _ in range(n):
        tier = weighted(rng, tiers)
        got = None
        for t in (tier, 1, 0, 2):
            lst = lists[t]
            if lst is not None and not lst:
                continue
            for _ in range(8):
                c = rng.choice(lst) if lst is not None else rng.randrange(len(pool))
                if c in taken or c in refused or pool.apis[c].name in names or (t == 2 and pool.apis[c].domain == a.domain):
                    continue
                if excluded(pool.apis[c]):
                    refused.add(c)
                    continue
                got = c
                break
            if got is not None:
                break
        if got is None:
            break
        taken.add(got)
        names.add(pool.apis[got].name)
        out.append(got)
    return out


def make_args(api: Api, rng, p_optional: float, extra_required: tuple[str, ...] = ()) -> dict:
    """Arguments for a call: every required parameter, each optional one with probability
    p_optional (and those in extra_required always), validated against the parameter schema."""
    last = None
    for _ in range(4):
        args = {}
        for p, s in api.props.items():
            if p in api.required or p in extra_required or rng.random() < p_optional:
                args[p] = gen_value(s, p, rng, depth=1, p_optional=p_optional, topic=api.tool.get("description", ""))
        order_ranges(args)   # top level too: gen_object orders nested objects itself
        if api.params_validator.is_valid(args):
            return args
        last = args
    err = next(iter(api.params_validator.iter_errors(last)), None)
    raise Unsatisfiable(f"arguments for {api.name}: {err.message if err else 'invalid'}")

