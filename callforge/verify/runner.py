"""Run the rule layer, then the model layer, over samples; keep every reason; count everything.

Each rule check has a mode: "reject" (a failure drops the sample), "report" (counted, never drops)
or "off". A sample is verified when no reject-mode check and no judge failed it; a rejected row lists
every reason code it failed, once each. Samples stream through in chunks (read, rules, judges, rows
out, counted, dropped), so memory does not grow with the input. Stats are collected here (tally.py),
never inside a check.
"""
from __future__ import annotations

import gc
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from itertools import islice
from typing import Callable, Iterable

import orjson
from omegaconf import OmegaConf

from callforge.core.config_schema import CHECK_MODES, VerifyConfig
from callforge.core.errors import CallforgeError
from callforge.core.gc_pause import gc_paused

from . import judges as J
from .rules import RULES, Check
from .tally import Tally, code_of
from .view import Context, SampleView

MAX_DETAILS = 20


class VerifyConfigError(CallforgeError):
    """The `verify.checks` section names a check the rule layer does not have, or a mode it does not know."""


@dataclass
class Outcome:
    """What the layers found for one input line."""
    line: int
    sample: dict | None
    rejected_by: list[str] = field(default_factory=list)          # reasons that drop it, in order found
    failed: dict[str, list[str]] = field(default_factory=dict)    # check name -> its reasons
    ran: list[str] = field(default_factory=list)                  # checks (and judges) that ran on it
    flags: list[str] = field(default_factory=list)                # report-mode reasons
    rules_ok: bool = False                                        # read fine and no reject-mode rule failed
    text: str | bytes = ""    # the input line (bytes when read as bytes): a verified sample is passed on as it came
    sid: str | None = None    # the sample's id (kept when a worker process drops the parsed sample)
    parsed: bool = False      # the line is a JSON object (so `sample` can be had from `text`)

    @property
    def ok(self) -> bool:
        return not self.rejected_by

    def codes(self) -> list[str]:
        return list(dict.fromkeys(code_of(r) for r in self.rejected_by))

    def load(self) -> dict | None:
        """The sample, parsing the line again if a worker process did not send it back."""
        if self.sample is None and self.parsed:
            self.sample = orjson.loads(self.text)
        return self.sample


# ------------------------------------------------------------------ input

def parse_line(n: int, line: bytes | str, keep_text: bool = True) -> Outcome | None:
    """One JSON line -> an Outcome (None for a blank line). A line that is not UTF-8, not JSON or not
    an object is rejected with an input.* reason; nothing else is lost. Bytes stay bytes: orjson checks
    the UTF-8 itself, and the line is passed on without a decode and re-encode. keep_text=False (a
    worker process, whose caller holds the line) leaves Outcome.text empty: no copy of the line."""
    raw = isinstance(line, bytes)
    if not line.strip(b" \t\r\n" if raw else " \t\r\n"):   # blank in JSON's sense only: a lone \x1c is a bad line
        return None
    try:
        obj = orjson.loads(line)   # strict JSON, 2x json's speed; a lone surrogate ("\ud800") is refused
    except orjson.JSONDecodeError as e:
        if raw:
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as u:
                return Outcome(n, None, [f"input.bad_encoding: line {n}: {u.reason} at byte {u.start}"])
        code = "input.bad_encoding" if "surrogate" in str(e) else "input.bad_json"
        return Outcome(n, None, [f"{code}: line {n}: {e}"[:300]])
    except RecursionError:
        return Outcome(n, None, [f"input.bad_json: line {n}: nested too deeply"])
    if not isinstance(obj, dict):
        return Outcome(n, None, [f"input.not_object: line {n}: got {type(obj).__name__}"])
    sid = obj.get("id")
    text = line.rstrip(b"\r\n" if raw else "\r\n") if keep_text else ""
    return Outcome(n, obj, text=text, sid=sid if isinstance(sid, str) else None, parsed=True)


def mark_duplicate(o: Outcome, seen: set[str]) -> None:
    """A repeated id is rejected as input.duplicate_id, whatever the rules found (the same in any worker count)."""
    if o.sid is None:
        return
    if o.sid in seen:
        o.rejected_by = [f"input.duplicate_id: line {o.line}: id {o.sid!r} seen before"]
        o.failed, o.ran, o.flags, o.rules_ok = {}, [], [], False
    seen.add(o.sid)


# ------------------------------------------------------------------ the layers

def check_modes(settings: VerifyConfig) -> dict[str, str]:
    """{check name: mode} of the `verify.checks` section."""
    return {k: str(v) for k, v in vars(settings.checks).items()}


def active_rules(modes: dict[str, str]) -> list[tuple[Check, str]]:
    """(check, mode) for each check that runs; bad modes or unknown checks raise VerifyConfigError.
    The schema refuses those as the config composes; this catches a section built around it."""
    bad = {k: v for k, v in modes.items() if v not in CHECK_MODES}
    if bad:
        raise VerifyConfigError("verify.checks", f"mode must be one of {CHECK_MODES}, got {bad}")
    unknown = set(modes) - {c.name for c in RULES}
    if unknown:
        raise VerifyConfigError("verify.checks", f"unknown checks {sorted(unknown)}")
    return [(c, "reject" if c.gate else modes.get(c.name, "reject")) for c in RULES
            if c.gate or modes.get(c.name, "reject") != "off"]


def run_rules(o: Outcome, rules: list[tuple[Check, str]], ctx: Context) -> None:
    """Every active check on one sample; every reason kept (a failing gate stops the rest)."""
    if o.sample is None or o.rejected_by:
        return
    view = SampleView(o.sample, ctx)
    for check, mode in rules:
        try:
            reasons = check.fn(view)
        except Exception as e:   # a checker bug rejects this sample, never the whole run
            reasons = [f"rule.error: {check.name}: {type(e).__name__}: {e}"[:300]]
        o.ran.append(check.name)
        if reasons:
            o.failed[check.name] = reasons
            (o.rejected_by if mode == "reject" else o.flags).extend(reasons)
            if check.gate:
                break
    o.rules_ok = not o.rejected_by


def check_lines(start: int, lines: list, ctx: Context, rules: list[tuple[Check, str]],
                keep_samples: bool = True) -> list[Outcome]:
    """Parse and rule-check lines numbered from `start`. keep_samples=False (a worker process) drops the
    parsed samples and keeps no copy of the lines before the outcomes travel back: the caller holds the
    lines (sending them back would cost more than the checks), and re-parsing the few samples needed is cheaper."""
    out = []
    for k, line in enumerate(lines):
        o = parse_line(start + k, line, keep_samples)
        if o is None:
            continue
        run_rules(o, rules, ctx)
        if not keep_samples:
            o.sample = None
        out.append(o)
    return out


_rules: tuple | None = None   # this process's (Context, active rules, whether it is a worker process)


def _init_rules(settings: VerifyConfig, in_worker: bool) -> None:
    global _rules
    if in_worker:
        gc.disable()   # a rules worker makes no cycles (see callforge.core.gc_pause)
    _rules = (Context(settings), active_rules(check_modes(settings)), in_worker)


def _check_chunk(job: tuple[int, list]) -> tuple[list[Outcome], float]:
    """(outcomes, CPU seconds spent in a worker process) of one chunk of numbered lines."""
    ctx, rules, in_worker = _rules
    if not in_worker:
        return check_lines(job[0], job[1], ctx, rules), 0.0   # the caller's own CPU clock counts this
    c0 = time.process_time()
    out = check_lines(job[0], job[1], ctx, rules, keep_samples=False)
    return out, time.process_time() - c0


def _chunks(lines: Iterable, batch: int, start: int = 1):
    it = iter(lines)
    while chunk := list(islice(it, batch)):
        yield start, chunk
        start += len(chunk)


def _checked(lines: Iterable, settings: VerifyConfig, map_fn: Callable, start: int = 1):
    """(outcomes, worker CPU seconds) per chunk of `settings.batch` lines (numbered from `start`), in input
    order, the rule layer run by map_fn on `settings.workers` processes (a few chunks in flight: memory
    stays bounded)."""
    global _rules
    in_worker = settings.workers > 1
    sent: deque = deque()   # the chunks in flight, oldest first: results come back in the same order

    def jobs():
        for job in _chunks(lines, settings.batch, start):
            sent.append(job)
            yield job
    try:
        for outcomes, cpu in map_fn(_check_chunk, jobs(), settings.workers, init=_init_rules,
                                    initargs=(settings, in_worker)):
            start, chunk = sent.popleft()
            if in_worker:
                for o in outcomes:
                    if o.parsed:
                        line = chunk[o.line - start]
                        o.text = line.rstrip(b"\r\n" if isinstance(line, bytes) else "\r\n")
            yield outcomes, cpu
    finally:
        _rules = None   # set here when the rules ran in this process: its tool cache goes with the run


def run_judges(outcomes: list[Outcome], gateway, names: list[str], key_order: Counter | None = None) -> None:
    """The model layer, on samples the rule layer kept (judging a dropped sample costs money, changes nothing).
    key_order counts the verdicts written reasons first and verdict first."""
    todo = [o for o in outcomes if o.rules_ok]
    verdicts = J.judge_samples(gateway, [o.load() for o in todo], names, batch=len(todo) or 1)
    for o, vs in zip(todo, verdicts):
        for v in vs:
            if key_order is not None and v.reasons_first is not None:
                key_order["reasons_first" if v.reasons_first else "verdict_first"] += 1
            check = f"judge.{v.judge}"
            reasons = v.reason_strings()
            if v.status == "not_asked":   # never asked (the budget was spent): a drop, not a judge's check
                o.rejected_by.extend(reasons)
                continue
            o.ran.append(check)
            if reasons:
                o.failed[check] = reasons
                o.rejected_by.extend(reasons)


def rejected_row(o: Outcome) -> dict:
    """{id, line, reasons (codes, each once), details (the first reasons in full), sample}."""
    return {"id": o.sid, "line": o.line, "reasons": o.codes(), "details": o.rejected_by[:MAX_DETAILS],
            "sample": o.load()}


# ------------------------------------------------------------------ the whole stage minus files

def verify(lines: Iterable[bytes | str], vc, *, map_fn: Callable, gateway=None, offline: bool = False,
           progress: Callable[[int], None] | None = None,
           on_verified: Callable[[str | bytes], None] | None = None,
           on_rejected: Callable[[dict], None] | None = None, first_line: int = 1, seen: set[str] | None = None,
           tally: Tally | None = None) -> tuple[list[dict], list[dict], dict]:
    """-> (verified samples, rejected rows, stats), in input order and the same for any worker count.
    vc: the `verify` config section (typed); map_fn: the ordered parallel map (ctx.map) that runs the
    rule layer, chunk by chunk, on vc.workers processes; gateway: the judge's (built from the `judge`
    section), None when offline (judge=offline: the judges are then "not run").
    With on_verified/on_rejected the rows are handed over as they are made and the returned lists stay
    empty (memory stays flat); on_verified gets the sample's input line as it came (passed on unparsed;
    bytes when the lines are bytes).
    A block of a larger input (a shard: callforge/core/shards.py) passes the number of its first line,
    the ids an earlier block holds (`seen`: they are duplicates here; the ids of this block are added),
    and a Tally to count into (its state is the block's part of the stage's stats)."""
    settings = OmegaConf.to_object(vc)   # plain values: attribute reads in the hot loop, picklable to workers
    active_rules(check_modes(settings))   # bad modes raise before any work
    status = judge_status(settings, offline)
    names = [n for n in J.JUDGES if status[n] == "run"]
    if names and gateway is None:
        raise ValueError("judges are on and the judge is not offline, but no gateway was given")
    verified: list[dict] = []
    rejected: list[dict] = []
    keep_v = (lambda o: on_verified(o.text)) if on_verified else (lambda o: verified.append(o.load()))
    keep_r = on_rejected or rejected.append
    tally = Tally() if tally is None else tally
    seen = set() if seen is None else seen
    rules_s = cpu_s = 0.0

    with gc_paused(pause=not names):   # not with judges: asyncio makes cycles, and model latency dwarfs it
        t0, c0 = time.perf_counter(), time.process_time()
        for chunk, worker_cpu in _checked(lines, settings, map_fn, first_line):
            rules_s += time.perf_counter() - t0
            cpu_s += time.process_time() - c0 + worker_cpu
            for o in chunk:
                mark_duplicate(o, seen)
            if names:
                run_judges(chunk, gateway, names, tally.key_order)
            for o in chunk:
                tally.add(o)
                if o.ok:
                    keep_v(o)
                else:
                    keep_r(rejected_row(o))
            if progress:
                progress(len(chunk))
            t0, c0 = time.perf_counter(), time.process_time()
    stats = summary(tally, settings, status)
    stats["rules_s"] = round(rules_s, 3)
    stats["rules_samples_per_s"] = round(tally.n / rules_s, 1) if rules_s > 0 else None
    stats["rules_samples_per_cpu_s"] = round(tally.n / cpu_s, 1) if cpu_s > 0 else None
    return verified, rejected, stats


def judge_status(settings: VerifyConfig, offline: bool) -> dict[str, str]:
    """{judge: "off" | "not run" (judge=offline) | "run"}."""
    return {n: ("off" if not getattr(settings.judges, n) else "not run" if offline else "run") for n in J.JUDGES}


def summary(tally: Tally, settings: VerifyConfig, status: dict[str, str]) -> dict:
    """The stage's stats from its counts (settings: the `verify` section as plain values)."""
    stats = tally.result(check_modes(settings), status)
    if "run" in status.values():
        stats["judge_key_order"] = {k: tally.key_order[k] for k in ("reasons_first", "verdict_first")}
    stats["rules_workers"] = settings.workers
    return stats
