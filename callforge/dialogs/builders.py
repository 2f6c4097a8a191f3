"""Skeletons for the six data types. Everything random comes from the sample's own stream,
rng_for(seed, "dialogs", i), so any sample can be rebuilt alone, in any shard."""
from __future__ import annotations

from callforge.calling.offline.values import Unsatisfiable, fits, gen_value, order_ranges
from callforge.core.seeds import rng_for

from . import failures, intents, personas
from .checks import mentions
from .clones import clone_of, could_serve
from .phrasing import render_value
from .pool import Chain, Pool
from .sampling import candidate_count, data_type, make_args, max_extra, rank_distractors, weighted
from .skeleton import FROM_ANSWER, FROM_TOOL, Call, Infeasible, Skeleton, Turn
from .tool_agent import get_path, simulate


class Ctx:
    """What one builder call needs: the pool, the `dialogs` config section, the sample's random
    stream, call ids."""

    def __init__(self, pool: Pool, dialogs, seed: int, i: int):
        self.pool, self.d, self.i = pool, dialogs, i
        self.rng = rng_for(seed, "dialogs", i)
        self.n_calls = 0

    def call(self, api: int, args: dict, sources: dict | None = None, force: dict | None = None) -> Call:
        self.n_calls += 1
        resp = simulate(self.pool.apis[api], args, self.rng, force)
        return Call(f"call_{self.n_calls}", api, args, resp, sources or {})

    def args(self, api: int, extra_required=()) -> dict:
        return make_args(self.pool.apis[api], self.rng, self.d.optional_arg_prob, tuple(extra_required))

    def pick(self, ids: list[int], code: str) -> int:
        if not ids:
            raise Infeasible(code, "no API in the pool qualifies")
        return self.rng.choice(ids)

    def sibling(self, api: int, exclude: set[int]) -> int | None:
        """Another API of the same sub-domain (else domain) that is no clone of those in `exclude`
        (two APIs able to serve one request would make the right call ambiguous)."""
        a = self.pool.apis[api]
        used = [self.pool.apis[x] for x in exclude]
        sim = self.d.distractors.clone_similarity
        for lst in (self.pool.by_sub[(a.domain, a.sub)], self.pool.by_domain[a.domain]):
            options = [x for x in lst if x not in exclude
                       and not any(clone_of(self.pool.apis[x], u, sim) or clone_of(u, self.pool.apis[x], sim) for u in used)]
            if options:
                return self.rng.choice(options)
        return None


def _topic(api) -> str:
    """What the API does, which settles parameter names that alone are ambiguous (values.gen_value)."""
    return api.tool.get("description", "")


def _distinct_args(ctx: Ctx, api: int, others: list[dict]) -> dict:
    for _ in range(6):
        a = ctx.args(api)
        if a not in others:
            return a
    raise Unsatisfiable(f"{ctx.pool.apis[api].name}: could not vary arguments for parallel calls")


def single(ctx: Ctx) -> tuple[list[int], list[Turn]]:
    a = ctx.pick(ctx.pool.with_params or list(range(len(ctx.pool))), "dialogs.empty_pool")
    return [a], [Turn("request", [[ctx.call(a, ctx.args(a))]])]


def parallel(ctx: Ctx) -> tuple[list[int], list[Turn]]:
    lo, hi = ctx.d.parallel_calls
    m = ctx.rng.randint(lo, hi)
    a = ctx.pick(ctx.pool.with_params, "dialogs.no_params_in_pool")
    apis = [a]
    if ctx.rng.random() < 0.5:  # different APIs of one sub-domain, when it has them
        for _ in range(m - 1):
            b = ctx.sibling(a, set(apis))
            if b is None:
                break
            apis.append(b)
    if len(apis) == 1:          # the same API with different arguments ("weather in Paris and in Oslo")
        apis = [a] * m
    arg_sets: list[dict] = []
    for x in apis:
        arg_sets.append(_distinct_args(ctx, x, arg_sets) if x == a and apis.count(a) > 1 else ctx.args(x))
    calls = [ctx.call(x, args) for x, args in zip(apis, arg_sets)]
    return list(dict.fromkeys(apis)), [Turn("request", [calls])]


def _chain_step(ctx: Ctx, chain: Chain, prev: Call) -> Call | None:
    """The call of chain.b whose chain.param is the value at chain.path in prev's result (and
    whose other arguments do not happen to contain that value: the link must be unambiguous)."""
    value, ok = get_path(prev.response, chain.path)
    b = ctx.pool.apis[chain.b]
    if not ok or not fits(b.props[chain.param], value):
        return None
    for _ in range(4):
        args = ctx.args(chain.b, extra_required=(chain.param,))
        args[chain.param] = value
        said = " ".join(render_value(v) for k, v in args.items() if k != chain.param)
        if b.params_validator.is_valid(args) and not mentions(said, value):
            return ctx.call(chain.b, args, {chain.param: (FROM_TOOL, prev.id, chain.path)})
    return None


def _first_of_chain(ctx: Ctx, chain: Chain) -> Call:
    """The call of chain.a, with its result carrying a value chain.b accepts at chain.path — one
    the user never said (else the second call could have come from the request alone)."""
    b = ctx.pool.apis[chain.b]
    leaf = dict(ctx.pool.apis[chain.a].leaves)[chain.path]
    args = ctx.args(chain.a)
    said = " ".join(render_value(v) for v in args.values())
    for _ in range(6):
        v = gen_value(b.props[chain.param], chain.param, ctx.rng, depth=1, topic=_topic(b))
        if fits(leaf, v) and not mentions(said, v):
            return ctx.call(chain.a, args, force={chain.path: v})
    raise Unsatisfiable(f"no value fits both {ctx.pool.apis[chain.a].name}{list(chain.path)} and {b.name}.{chain.param}")


def dependent(ctx: Ctx) -> tuple[list[int], list[Turn]]:
    if not ctx.pool.chains:
        raise Infeasible("dialogs.no_chain_in_pool", "no API result field matches another API's parameter")
    chain = ctx.rng.choice(ctx.pool.chains)
    first = _first_of_chain(ctx, chain)
    steps = [[first]]
    nxt = _chain_step(ctx, chain, first)
    if nxt is None:
        raise Unsatisfiable(f"chain {chain} did not carry")
    steps.append([nxt])
    lo, hi = ctx.d.chain_steps
    want = ctx.rng.randint(lo, hi)
    used = [chain.a, chain.b]
    while len(steps) < want:  # a longer chain when the second result feeds a third API
        onward = [c for c in ctx.pool.chains_from.get(steps[-1][0].api, ()) if c.b not in used]
        if not onward:
            break
        c = ctx.rng.choice(onward)
        step = _chain_step(ctx, c, steps[-1][0])
        if step is None:
            break
        steps.append([step])
        used.append(c.b)
    return used, [Turn("request", steps)]


def clarify(ctx: Ctx) -> tuple[list[int], list[Turn]]:
    a = ctx.pick(ctx.pool.with_required, "dialogs.no_required_params_in_pool")
    api = ctx.pool.apis[a]
    missing = ctx.rng.choice(api.required)
    args = ctx.args(a)
    for _ in range(6):  # the answer must bring something new: a value the request does not contain
        said = " ".join(render_value(v) for k, v in args.items() if k != missing)
        if not mentions(said, args[missing]):
            break
        args[missing] = gen_value(api.props[missing], missing, ctx.rng, depth=1, topic=_topic(api))
    else:
        raise Unsatisfiable(f"{api.name}.{missing}: every value drawn also appears elsewhere in the request")
    if not api.params_validator.is_valid(args):
        raise Unsatisfiable(f"{api.name}: arguments invalid after redrawing {missing}")
    call = ctx.call(a, args)
    call.sources[missing] = (FROM_ANSWER,)
    return [a], [Turn("request", [[call]], ask=missing)]


def _near_miss_job(ctx: Ctx, home: int) -> int | None:
    """An API of home's sub-domain whose job neither home nor its clones do: a request for it sounds
    like the offered tools' business, and none of them serves it."""
    a, sim = ctx.pool.apis[home], ctx.d.distractors.clone_similarity
    options = [x for x in ctx.pool.by_sub[(a.domain, a.sub)]
               if x != home and not could_serve(a, ctx.pool.apis[x], sim)]
    return ctx.rng.choice(options) if options else None


def non_tool(ctx: Ctx, near_miss: bool = False) -> tuple[list[int], list[Turn]]:
    kinds = ctx.d.non_tool_kinds
    kind = list(kinds)[weighted(ctx.rng, list(kinds.values()))]
    home = ctx.rng.randrange(len(ctx.pool))
    domain = ctx.pool.apis[home].domain
    if kind == "out_of_scope":
        far = _near_miss_job(ctx, home) if near_miss else None
        others = [d for d in ctx.pool.domains if d != domain]
        for _ in range(4 if far is None and others else 0):    # a job of another domain that home does not do
            x = ctx.rng.choice(ctx.pool.by_domain[ctx.rng.choice(others)])
            if not could_serve(ctx.pool.apis[home], ctx.pool.apis[x], ctx.d.distractors.clone_similarity):
                far, near_miss = x, False
                break
        if far is not None:
            args = ctx.args(far)
            return [], [Turn("oos", data={"api": far, "args": args, "domain": domain, "home": home,
                                          "near_miss": near_miss})]
        kind = "arithmetic"
    return [], [Turn("intent", data={**intents.draw(kind, ctx.rng, ctx.pool.apis[home]), "domain": domain, "home": home})]


def multi_turn(ctx: Ctx) -> tuple[list[int], list[Turn]]:
    lo, hi = ctx.d.turns
    n_turns = ctx.rng.randint(max(2, lo), max(2, hi))
    first_kind = weighted(ctx.rng, (0.7, 0.15, 0.15))
    if first_kind == 1 and ctx.pool.with_params:
        used, turns = parallel(ctx)
    elif first_kind == 2 and ctx.pool.with_required:
        used, turns = clarify(ctx)
    else:
        used, turns = single(ctx)
    while len(turns) < n_turns:
        last = turns[-1].steps[-1][-1] if turns[-1].steps else None
        options = []
        if last is not None:
            chains = [c for c in ctx.pool.chains_from.get(last.api, ()) if c.b not in used]
            if chains:
                options.append("chain")
            if ctx.pool.apis[last.api].props:
                options.append("variation")
        if len(turns) == n_turns - 1 and len(turns) >= 2:
            options.append("closing")
        options.append("new_api")
        kind = ctx.rng.choice(options)
        if kind == "chain":
            c = ctx.rng.choice(chains)
            step = _chain_step(ctx, c, last)
            if step is not None:
                used.append(c.b)
                turns.append(Turn("chain", [[step]]))
                continue
            kind = "variation"
        if kind == "variation":
            t = _variation(ctx, last)
            if t is not None:
                turns.append(t)
                continue
            kind = "new_api"
        if kind == "new_api":
            b = ctx.sibling(used[0], set(used))
            if b is None:
                kind = "closing"
            else:
                used.append(b)
                turns.append(Turn("new_api", [[ctx.call(b, ctx.args(b))]]))
                continue
        turns.append(Turn("closing"))
    return used, turns


def _variation(ctx: Ctx, last: Call) -> Turn | None:
    """The same call again with one user-given argument changed ("and for Oslo?")."""
    api = ctx.pool.apis[last.api]
    keys = [k for k, v in last.args.items() if k not in last.sources and isinstance(v, (str, int, float))
            and not isinstance(v, bool)]
    if not keys:
        return None
    k = ctx.rng.choice(keys)
    for _ in range(5):
        v = gen_value(api.props[k], k, ctx.rng, depth=1, topic=_topic(api))
        if v != last.args[k]:
            args = {**last.args, k: v}
            agreed = dict(args)
            order_ranges(agreed)   # the new value must still agree with its pair (an end after the start)
            if agreed == args and api.params_validator.is_valid(args):
                call = ctx.call(last.api, args)
                return Turn("variation", [[call]], data={"param": k, "old": last.args[k]})
    return None


BUILDERS = {"single": single, "parallel": parallel, "dependent": dependent, "non_tool": non_tool,
            "clarify": clarify, "multi_turn": multi_turn}


def _excluded(pool: Pool, targets: list[int], first: Turn, sim: float):
    """What no distractor may be: a clone of an API the dialog calls, or, for an out-of-scope request,
    a tool that could serve it."""
    if targets:
        jobs = [pool.apis[t] for t in targets]
        return lambda c: any(clone_of(c, j, sim) for j in jobs)
    if first.kind == "oos":
        far = pool.apis[first.data["api"]]
        return lambda c: could_serve(c, far, sim)
    return lambda c: False


NEAR_MISS_TYPES = {"non_tool": "out_of_scope", "clarify": "clarify"}   # data type -> dialogs.near_miss share


def build(pool: Pool, dialogs, seed: int, i: int) -> Skeleton:
    """The skeleton of sample i under the `dialogs` config section. Raises Infeasible / Unsatisfiable
    (drop reasons). Near misses, the persona and tool failures draw from streams of their own, so
    their shares change which samples get them, not what the rest of a sample is."""
    dtype = data_type(dialogs.mix, seed, i)
    ctx = Ctx(pool, dialogs, seed, i)
    share = dialogs.near_miss.get(NEAR_MISS_TYPES.get(dtype, ""), 0.0)
    near = rng_for(seed, "dialogs", i, "near_miss").random() < share
    targets, turns = non_tool(ctx, near) if dtype == "non_tool" else BUILDERS[dtype](ctx)
    home = turns[0].data.get("home") if not targets else targets[0]
    near_miss = None
    if dtype == "clarify" and near:
        near_miss = "unstated_value"       # the request names what is missing without giving it
        turns[0].data["allude"] = True
    elif turns[0].kind == "oos" and turns[0].data["near_miss"]:
        near_miss = "same_subdomain"       # asked for a job of the offered tools' own sub-domain
    k = candidate_count(ctx.rng, dialogs.candidate_weights, len(targets) + (near_miss is not None))
    tiers = dialogs.distractors
    weights = (1.0, 0.0, 0.0) if near_miss else (tiers.same_subdomain, tiers.same_domain, tiers.other_domain)
    ranked = rank_distractors(pool, ctx.rng, home, targets or [home], k - len(targets) + max_extra(dialogs.steering),
                              weights, _excluded(pool, targets, turns[0], tiers.clone_similarity))
    if not targets:  # non-tool: the home API is offered first, the request is not for it
        ranked = [home] + ranked
    wording = weighted(ctx.rng, dialogs.wording_weights)
    cands = targets + ranked
    order = {a: ctx.rng.random() for a in cands}
    sk = Skeleton(i, dtype, pool.apis[home].domain, targets, ranked, k, wording, order, turns,
                  persona=personas.draw(dialogs.personas, seed, i), near_miss=near_miss)
    sk.failure = failures.plan(pool, turns, dtype, dialogs.tool_failures, rng_for(seed, "dialogs", i, "failure"))
    return sk
