"""The plan of one dialog, before any words: which APIs, which calls with which arguments, which
results, and where each argument comes from. Builders (builders.py) make skeletons; the offline
renderer (render.py) puts words around them; steering re-renders them with other knobs.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from callforge.core.errors import CallforgeError

DATA_TYPES = ("single", "parallel", "dependent", "non_tool", "clarify", "multi_turn")

# Where an argument value comes from (Call.sources); anything not listed came from the user's request.
FROM_TOOL = "tool"      # ("tool", call_id, result path): a dependent call
FROM_ANSWER = "answer"  # ("answer",): the user's reply to a clarifying question
FROM_ERROR = "error"    # ("error", call_id): the value a failed call's error suggested (failures.py)


class Infeasible(CallforgeError):
    """This pool cannot make this data type (e.g. no result feeds any parameter): a drop reason."""


@dataclass
class Dropped:
    """A sample (or one steering round of it) that could not be made, with a stable reason code."""
    reason: str
    detail: str = ""


@dataclass
class Call:
    id: str
    api: int
    args: dict
    response: object = None
    sources: dict = field(default_factory=dict)
    failure: dict | None = None     # this call's response failed: {"code", "handling", "param"?} (failures.py)
    retry_of: str | None = None     # this call repeats a failed one (its id), after a retry or the user's correction


@dataclass
class Turn:
    kind: str                                   # request | variation | chain | new_api | oos | intent | closing
    steps: list[list[Call]] = field(default_factory=list)   # one assistant message per step; >1 call = parallel
    ask: str | None = None                      # clarify: the required parameter left out of the request
    data: dict = field(default_factory=dict)    # non-tool turns: what was asked and the answer's facts

    def planned_steps(self) -> list[list[Call]]:
        """The steps the request asks for: without the calls made again after a failed one."""
        return [s for s in self.steps if not all(c.retry_of for c in s)]


@dataclass
class Skeleton:
    index: int
    data_type: str
    domain: str
    targets: list[int]          # APIs the dialog uses, in order of first use
    ranked: list[int]           # distractors, most preferred first (steering takes more or fewer)
    base_k: int                 # candidate count drawn from config (>= len(targets))
    wording: int                # 0 close to the API description .. 2 far from it
    order: dict[int, float]     # where each candidate sits in the offered tool list
    turns: list[Turn] = field(default_factory=list)
    persona: dict | None = None     # who asks, why, in what register (personas.py)
    near_miss: str | None = None    # how this negative is a near miss, if it is one (builders.py)
    failure: dict | None = None     # the planned failed tool response: {"turn", "code", "handling"} (failures.py)

    def scenario(self) -> dict:
        """What conditions this dialog beyond its data type, for the record (and the stats)."""
        out = {}
        if self.persona:
            out["persona"] = self.persona
        if self.near_miss:
            out["near_miss"] = self.near_miss
        if self.failure:
            out["tool_failure"] = {k: self.failure[k] for k in ("code", "handling")}
        return out

    def calls(self) -> list[Call]:
        return [c for t in self.turns for s in t.steps for c in s]
