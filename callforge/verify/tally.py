"""Counting for the verify stage: pass rates per check, per group and per layer; drops per reason.

Outcomes are added one at a time and then dropped, so memory stays flat however many samples pass.
A drop count is the number of rejected rows carrying that reason code (each row lists a code once),
so the counts are exactly the sums over data/rejected.jsonl.
"""
from __future__ import annotations

from collections import Counter

from .rules import GROUPS, RULES

_GROUP_OF = {c.name: c.group for c in RULES}


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

    def add(self, o) -> None:
        self.n += 1
        groups: dict[str, bool] = {}
        judged = False
        for name in o.ran:
            ok = name not in o.failed
            self.checked[name] += 1
            self.passed[name] += ok
            g = _GROUP_OF.get(name)
            if g:
                groups[g] = groups.get(g, True) and ok
            else:                      # a judge
                judged = True
        for g, ok in groups.items():
            self.group_checked[g] += 1
            self.group_passed[g] += ok
        self.rule_pass += o.rules_ok
        if judged:
            self.model_checked += 1
            self.model_pass += not any(name in o.failed for name in o.ran if name not in _GROUP_OF)
        if o.ok:
            self.verified += 1
        else:
            self.drops.update(o.codes())
        self.flags.update(dict.fromkeys(code_of(r) for r in o.flags).keys())

    def result(self, modes: dict[str, str], judge_status: dict[str, str]) -> dict:
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
                     "reason": "llm=offline: there is no model to judge with; no sample was passed by the model layer"}
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
