"""Budget caps on a stage's model use (`llm.budget`, `judge.budget`), and what the stage's data cost.

A gateway charges its Budget for every answered request, whether the server answered it now or the
response cache replayed it: the charge is what the stage's data cost, the same on every run of one
config, so a cap cuts a run at the same place however warm the cache is. (What this run paid, cache
hits aside, is runtime: data/runtime/<stage>.json.) Failed attempts are not charged: servers do not
bill a 429 or a 5xx.

Caps are checked only at the gateway's barriers (`Gateway.run_all`: before each window of
`concurrency` requests or samples), where every earlier request has finished, so the cut does not
depend on which answer came back first. Once a cap is reached, every later request of the stage fails
at once with `budget.stopped` and sends nothing: the stage finishes, writing what it made and recording
the rest with that reason. A window started before the cap runs to its end, so a stage can spend up to
one window more than the cap. A re-run with a higher cap replays the paid answers from the cache and
continues where the cut was.
"""
from __future__ import annotations

from dataclasses import dataclass

from callforge.core.errors import CallforgeError
from callforge.core.shard_spec import shard_spec

BUDGET_STOPPED = "budget.stopped"
CAPS = ("max_requests", "max_tokens", "max_usd")


@dataclass
class Spend:
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    unreported: int = 0          # answers whose server sent no token counts (their tokens are not in the sums)

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class Budget:
    def __init__(self, cfg=None, section: str = "llm"):
        """cfg: the section's `budget` (config_schema.LLMBudgetConfig), or None for no caps and no prices.
        section: `llm` or `judge`, to name keys in messages."""
        self.cfg, self.section = cfg, section
        self.caps = _shard_share({c: getattr(cfg, c) for c in CAPS} if cfg is not None else {})
        self.spent = Spend()
        self.stopped: str | None = None        # the cap that stopped the stage, once one has
        if cfg is not None and cfg.max_usd is not None and not self.priced:
            raise CallforgeError(f"{section}.budget.max_usd", f"a dollar cap needs {section}.budget.usd_per_1m_input "
                                 f"and {section}.budget.usd_per_1m_output")

    @property
    def priced(self) -> bool:
        return self.cfg is not None and None not in (self.cfg.usd_per_1m_input, self.cfg.usd_per_1m_output)

    @property
    def capped(self) -> bool:
        return any(v is not None for v in self.caps.values())

    def charge(self, usage: dict) -> None:
        """One answered request (fresh or replayed) with the server's token counts."""
        self.spent.requests += 1
        if "prompt_tokens" not in usage and "completion_tokens" not in usage:
            self.spent.unreported += 1
        self.spent.prompt_tokens += usage.get("prompt_tokens", 0)
        self.spent.completion_tokens += usage.get("completion_tokens", 0)

    def usd(self, spend: Spend | None = None) -> float | None:
        """The dollar estimate of a spend (default: the stage's) at the configured prices; None unpriced."""
        if not self.priced:
            return None
        s = spend or self.spent
        return (s.prompt_tokens * self.cfg.usd_per_1m_input + s.completion_tokens * self.cfg.usd_per_1m_output) / 1e6

    def reached(self) -> str | None:
        """The first cap the spend has reached, or None."""
        if not self.capped:
            return None
        used = {"max_requests": self.spent.requests, "max_tokens": self.spent.tokens, "max_usd": self.usd()}
        return next((c for c in CAPS if self.caps.get(c) is not None and used[c] >= self.caps[c]), None)

    def check(self) -> bool:
        """At a barrier: stop the stage if a cap is reached. True once stopped."""
        if self.stopped is None:
            self.stopped = self.reached()
        return self.stopped is not None

    def stop_detail(self) -> str:
        s = self.spent
        return (f"{self.section}.budget.{self.stopped}={self.caps[self.stopped]} reached after "
                f"{s.requests} requests, {s.tokens} tokens")

    def summary(self, kept: int | None) -> dict:
        """The stage's model use for metrics/<stage>.json: deterministic for a config (see the module
        docstring), with the figures per kept item when the stage said how many it kept."""
        s, usd = self.spent, self.usd()
        out = {"requests": s.requests, "prompt_tokens": s.prompt_tokens, "completion_tokens": s.completion_tokens,
               "usd": None if usd is None else round(usd, 6)}
        if s.unreported:
            out["answers_without_token_counts"] = s.unreported
        out["kept"] = kept
        out["per_kept"] = None if not kept else {
            "requests": round(s.requests / kept, 3), "tokens": round(s.tokens / kept, 1),
            "usd": None if usd is None else round(usd / kept, 6)}
        out["budget"] = {"stopped": self.stopped is not None}
        if self.stopped is not None:
            out["budget"].update(cap=f"{self.section}.budget.{self.stopped}", limit=self.caps[self.stopped])
        return out


def _shard_share(caps: dict) -> dict:
    """The caps one shard of `callforge shards` may spend: shard i of n gets its share of each, so the
    shards together stay within the configured cap (the run that merges them reports against the whole)."""
    index, count = shard_spec()
    if index is None or count == 1:
        return caps
    out = {}
    for c, cap in caps.items():
        if cap is None or c == "max_usd":
            out[c] = None if cap is None else cap / count
        else:
            out[c] = cap // count + (1 if index < cap % count else 0)
    return out
