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


@dataclass
class Turn:
    kind: str                                   # request | variation | chain | new_api | oos | arith | capability | closing
    steps: list[list[Call]] = field(default_factory=list)   # one assistant message per step; >1 call = parallel
    ask: str | None = None                      # clarify: the required parameter left out of the request
    data: dict = field(default_factory=dict)    # non-tool turns: what was asked and the answer's facts


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

    def calls(self) -> list[Call]:
        return [c for t in self.turns for s in t.steps for c in s]
