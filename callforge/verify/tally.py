"""Counting for the verify stage: pass rates per check, per group and per layer; drops per reason.

Outcomes are added one at a time and then dropped, so memory stays flat however many samples pass.
A drop count is the number of rejected rows carrying that reason code (each row lists a code once),
so the counts are exactly the sums over data/rejected.jsonl.
"""
from __future__ import annotations

from collections import Counter

from .rules import GROUPS, RULES

_GROUP_OF = {c.name: c.group for c in RULES}
_COUNTS = ("n", "verified", "rule_pass", "model_checked", "model_pass")
_COUNTERS = ("checked", "passed", "group_checked", "group_passed", "drops", "flags", "key_order")


def code_of(reason: str) -> str:
    return reason.split(": ", 1)[0]


def _rate(passed: int, checked: int) -> float | None:
    return round(passed / checked, 6) if checked else None


class Tally:
    def __init__(self):
        self.n = self.verified = self.rule_pass = self.model_checked = self.model_pass = 0
        self.checked: Counter = Counter()
        self.passed: Counter = Counter()
        self.group_checked: Counter = Counter()
        self.group_passed: Counter = Counter()
        self.drops: Counter = Counter()
        self.flags: Counter = Counter()
        self.clean: Counter = Counter()   # samples every check passed, by the tuple of checks run
        self.key_order: Counter = Counter()   # judges' answers written reasons first / verdict first

    def add(self, o) -> None:
        if o.ok and not o.failed:     # most samples: one count now, spread over the checks in result()
            self.clean[tuple(o.ran)] += 1
            return
        self.n += 1
        self._checks(o.ran, o.failed, 1)
        self.rule_pass += o.rules_ok
        if o.ok:
            self.verified += 1
        else:
            self.drops.update(o.codes())
        self.flags.update(dict.fromkeys(code_of(r) for r in o.flags).keys())

    def _checks(self, ran, failed: dict, k: int) -> None:
        """Count k samples that ran `ran` and failed `failed`, per check, per group and for the model layer."""
        groups: dict[str, bool] = {}
        judged = False
        for name in ran:
            ok = name not in failed
            self.checked[name] += k
            self.passed[name] += k * ok
            g = _GROUP_OF.get(name)
            if g:
                groups[g] = groups.get(g, True) and ok
            else:                      # a judge
                judged = True
        for g, ok in groups.items():
            self.group_checked[g] += k
            self.group_passed[g] += k * ok
        if judged:
            self.model_checked += k
            self.model_pass += k * (not any(name in failed for name in ran if name not in _GROUP_OF))

    def _spread_clean(self) -> None:
        for ran, k in self.clean.items():
            self.n += k
            self.verified += k
            self.rule_pass += k
            self._checks(ran, {}, k)
        self.clean.clear()

    def state(self) -> dict:
        """The counts as JSON lists: a shard's part of the stage's stats (callforge/core/shards.py)."""
        self._spread_clean()
        return {"counts": [getattr(self, k) for k in _COUNTS], **{k: sorted(getattr(self, k).items()) for k in _COUNTERS}}

    def absorb(self, state: dict) -> None:
        """Add the counts of another tally (its state()) to these: counts add up, whatever the blocks."""
        for k, v in zip(_COUNTS, state["counts"]):
            setattr(self, k, getattr(self, k) + v)
        for k in _COUNTERS:
            getattr(self, k).update(dict(state[k]))

    def result(self, modes: dict[str, str], judge_status: dict[str, str]) -> dict:
        self._spread_clean()
        checks = {}
        for c in RULES:
            mode = "reject" if c.gate else modes.get(c.name, "reject")
            entry = {"group": c.group, "mode": mode}
            if mode != "off":
                entry.update(checked=self.checked[c.name], passed=self.passed[c.name],
                             pass_rate=_rate(self.passed[c.name], self.checked[c.name]))
            checks[c.name] = entry
        for name, status in judge_status.items():
            key = f"judge.{name}"
            entry = {"group": "model", "status": status}
            if status == "run":
                entry.update(checked=self.checked[key], passed=self.passed[key],
                             pass_rate=_rate(self.passed[key], self.checked[key]))
            checks[key] = entry
        if "run" in judge_status.values():
            model = {"status": "run", "checked": self.model_checked, "passed": self.model_pass,
                     "pass_rate": _rate(self.model_pass, self.model_checked)}
        elif "not run" in judge_status.values():
            model = {"status": "not run",
                     "reason": "judge=offline: there is no model to judge with; no sample was passed by the model layer"}
        else:
            model = {"status": "off"}
        return {
            "samples": self.n, "verified": self.verified, "rejected": self.n - self.verified,
            "pass_rate": _rate(self.verified, self.n),
            "layers": {"rules": {"checked": self.n, "passed": self.rule_pass, "pass_rate": _rate(self.rule_pass, self.n)},
                       "model": model},
            "groups": {g: {"checked": self.group_checked[g], "passed": self.group_passed[g],
                           "pass_rate": _rate(self.group_passed[g], self.group_checked[g])} for g in GROUPS},
            "checks": checks,
            "drop_counts": dict(sorted(self.drops.items())),
            "flag_counts": dict(sorted(self.flags.items())),
        }
