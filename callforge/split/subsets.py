"""Training subsets of the verified samples (ToolACE §5) and a held-out evaluation split.

    full        the training pool: verified samples minus the held-out APIs' samples minus
                those overlapping an evaluation set (decontamination)
    easy/medium/hard          bottom / middle / top of the pool ordered by complexity (loss)
    div_low/medium/high       equal-sized draws from few / some / all API clusters
    eval        samples whose calls use only held-out APIs; no training subset offers those APIs

Selection works on SampleMeta — the few fields it needs — so the stage streams the samples once and
100k of them take tens of MB. Every choice is a pure function of the metas, the config and the seed:
ties break on ids and seed-derived hashes, never on set order.
"""
from __future__ import annotations

import hashlib
import math
import multiprocessing
import os
import sys
from collections import Counter
from dataclasses import dataclass, field

import orjson

from callforge.core import io, records
from callforge.split.clusters import UNASSIGNED, embed_clusters, tree_key
from callforge.core.seeds import derive, rng_for

DATA_TYPES = tuple(records.schema("sample")["properties"]["data_type"]["enum"])
DIFFICULTY = ("easy", "medium", "hard")
DIVERSITY = ("div_low", "div_medium", "div_high")
TRAIN_SUBSETS = ("full", *DIFFICULTY, *DIVERSITY)
SUBSETS = (*TRAIN_SUBSETS, "eval")


class SplitError(ValueError):
    """A split that cannot be made as configured; .code is a stable reason."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code


@dataclass(slots=True)
class SampleMeta:
    index: int                    # position among the valid samples: subsets keep input order
    line: int                     # line number in the input file, so export reads exactly this record
    id: str
    data_type: str
    tools: tuple[str, ...]        # names of the tools offered
    used: tuple[str, ...]         # names of the APIs called
    request: str                  # the user turns, for decontamination
    loss: float | None = None
    clusters: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()


@dataclass
class Rejects:
    """Input lines that could not be used, each with a reason code; nothing else is lost."""
    rows: list[dict] = field(default_factory=list)

    def add(self, line: int, sid, reason: str, detail: str) -> None:
        self.rows.append({"line": line, "id": sid if isinstance(sid, str) else None, "reason": reason,
                          "detail": detail[:300]})

    def counts(self) -> dict[str, int]:
        return dict(sorted(Counter(r["reason"] for r in self.rows).items()))


# ---------------------------------------------------------------- reading

def read_pool(path) -> dict[str, dict]:
    """The API pool by name (first definition wins); tools only need name/description/domain/path here."""
    pool: dict[str, dict] = {}
    with open(path, "rb") as f:
        for ln, line in enumerate(f, 1):
            if line.strip():
                try:
                    t = orjson.loads(line)
                    pool.setdefault(t["name"], t)
                except (orjson.JSONDecodeError, KeyError, TypeError) as e:
                    raise SplitError("split.bad_api", f"{path} line {ln}: {e}") from None
    return pool


def read_samples(path, rejects: Rejects, skip_tools=frozenset(), workers: int = 1
                 ) -> tuple[list[SampleMeta], dict[str, dict]]:
    """Metas of the valid samples (first of each id) and every tool they offer, by name (bar those in
    `skip_tools`, e.g. the pool's, which win anyway). With workers > 1 the file is read in that many
    byte ranges at once (parsing is most of split's time); the result is the same for any count."""
    ranges = _line_ranges(path, workers)
    if len(ranges) == 1:
        parts = [_read_range(path, *ranges[0], skip_tools)]
    else:   # fork: the workers start at once, modules loaded
        skip = frozenset(skip_tools)
        with multiprocessing.get_context("fork").Pool(len(ranges)) as pool:
            parts = pool.starmap(_read_range, [(path, a, b, skip) for a, b in ranges])
    metas: list[SampleMeta] = []
    tools: dict[str, dict] = {}
    seen: set[str] = set()
    bad: list[tuple] = []
    offset = 0
    for n_lines, part_metas, part_bad, part_tools in parts:     # in file order: the first of an id wins
        bad += [(ln + offset, *rest) for ln, *rest in part_bad]
        for m in part_metas:
            m.line += offset
            if m.id in seen:
                bad.append((m.line, m.id, "split.duplicate_id", "an earlier line has this id"))
                continue
            seen.add(m.id)
            m.index = len(metas)
            metas.append(m)
        for name, t in part_tools.items():
            tools.setdefault(name, t)
        offset += n_lines
    for row in sorted(bad, key=lambda r: r[0]):
        rejects.add(*row)
    return metas, tools


def _line_ranges(path, parts: int) -> list[tuple[int, int]]:
    """[start, end) byte ranges of about equal size, each starting at a line start."""
    size = os.path.getsize(path)
    if parts <= 1 or size < (1 << 20):
        return [(0, size)]
    cuts = [0]
    with open(path, "rb") as f:
        for k in range(1, parts):
            f.seek(max(size * k // parts, cuts[-1]))
            f.readline()                      # to the start of the next line
            cuts.append(min(f.tell(), size))
    cuts.append(size)
    return [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a] or [(0, size)]


def _read_range(path, start: int, end: int, skip_tools) -> tuple[int, list[SampleMeta], list[tuple], dict]:
    """(lines read, metas, rejected (line, id, reason, detail), tools) for the lines in [start, end);
    line numbers count from 1 within the range."""
    valid = records.validator("sample")
    metas: list[SampleMeta] = []
    bad: list[tuple] = []
    tools: dict[str, dict] = {}
    seen: set[str] = set()
    intern = sys.intern
    ln = 0
    with open(path, "rb") as f:
        f.seek(start)
        pos = start
        while pos < end:
            line = f.readline()
            if not line:
                break
            pos += len(line)
            ln += 1
            if not line.strip():
                continue
            try:
                s = orjson.loads(line)
            except orjson.JSONDecodeError as e:
                bad.append((ln, None, "split.bad_json", str(e)))
                continue
            if not valid.is_valid(s):
                bad.append((ln, s.get("id") if isinstance(s, dict) else None, "split.bad_record",
                            records.validate("sample", s)[0]))
                continue
            if s["id"] in seen:
                bad.append((ln, s["id"], "split.duplicate_id", "an earlier line has this id"))
                continue
            seen.add(s["id"])
            names = []
            for t in s["tools"]:
                names.append(intern(t["name"]))
                if t["name"] not in skip_tools:
                    tools.setdefault(t["name"], t)
            used = {c["name"] for m in s["messages"] for c in m.get("tool_calls") or ()} | set(s["apis_used"])
            request = "\n".join(m["content"] for m in s["messages"] if m["role"] == "user" and m.get("content"))
            metas.append(SampleMeta(0, ln, s["id"], s["data_type"], tuple(names),
                                    tuple(sorted(intern(u) for u in used)), request))
    return ln, metas, bad, tools


def attach_scores(metas: list[SampleMeta], path, rejects: Rejects) -> int:
    """Set each meta's loss from the complexity scores; returns how many samples got one."""
    loss: dict[str, float] = {}
    with open(path, "rb") as f:
        for ln, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                r = orjson.loads(line)
                v = r["loss"]
                if v is not None:
                    v = float(v)
                    if not math.isfinite(v):
                        raise ValueError(f"loss {v} is not finite")
                    loss[r["id"]] = v
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as e:
                rejects.add(ln, None, "split.bad_score", f"scores line {ln}: {e}")
    n = 0
    for m in metas:
        m.loss = loss.get(m.id)
        n += m.loss is not None
    return n


# ---------------------------------------------------------------- clusters

def cluster_map(tools: dict[str, dict], by: str, k: int, seed: int, iters: int, vocab_size: int):
    """name → cluster for every known tool; also the top words per cluster (embedding only)."""
    if by in ("domain", "subdomain"):
        return {n: tree_key(t, by) for n, t in tools.items()}, {}
    if by == "embedding":
        return embed_clusters(tools, k, seed, iters, vocab_size)
    raise SplitError("split.bad_cluster_by", f"diversity.cluster_by must be domain, subdomain or embedding, not {by!r}")


def attach_clusters(metas: list[SampleMeta], clusters: dict[str, str], tools: dict[str, dict]) -> None:
    intern = sys.intern
    for m in metas:
        m.clusters = tuple(sorted({intern(clusters.get(t, UNASSIGNED)) for t in m.tools}))
        m.domains = tuple(sorted({intern(tree_key(tools[t], "domain")) for t in m.tools if t in tools}))


# ---------------------------------------------------------------- held-out eval APIs

def choose_eval_apis(metas: list[SampleMeta], tools: dict[str, dict], unit: str, fraction: float,
                     min_units: int, seed: int) -> list[str]:
    """The held-out APIs: a seed-determined share of the units (single APIs, or whole sub-domains or
    domains of the context tree) that samples call. Whole units spill fewer samples, since a dialog's
    distractors mostly come from its own sub-domain or domain."""
    if unit not in ("api", "subdomain", "domain"):
        raise SplitError("split.bad_holdout_unit", f"holdout.unit must be api, subdomain or domain, not {unit!r}")

    def key(name: str) -> str:
        return name if unit == "api" or name not in tools else tree_key(tools[name], unit)
    called = {u for m in metas for u in m.used}
    units = sorted({key(a) for a in called})
    n = min(len(units), max(min_units, round(fraction * len(units))))
    chosen = set(sorted(units, key=lambda u: (derive(seed, "split.eval_unit", u), u))[:n])
    return sorted(a for a in called | set(tools) if key(a) in chosen)


def holdout(metas: list[SampleMeta], eval_apis) -> tuple[list[SampleMeta], list[SampleMeta], list[SampleMeta]]:
    """(train, eval, spill). A sample offering a held-out API never trains; it evaluates when every API it
    calls (every tool it offers, for a sample without calls) is held out, else it is spilled."""
    held = set(eval_apis)
    train, ev, spill = [], [], []
    for m in metas:
        if held.isdisjoint(m.tools) and held.isdisjoint(m.used):
            train.append(m)
        elif held.issuperset(m.used or m.tools):
            ev.append(m)
        else:
            spill.append(m)
    return train, ev, spill


# ---------------------------------------------------------------- subsets

def difficulty(pool: list[SampleMeta], size: int | None) -> dict[str, list[SampleMeta]]:
    """Bottom / middle / top `size` of the scored samples by loss (ties by id); disjoint, so at most a third each."""
    ranked = sorted((m for m in pool if m.loss is not None), key=lambda m: (m.loss, m.id))
    n = len(ranked) // 3 if size is None else min(size, len(ranked) // 3)
    mid = (len(ranked) - n) // 2
    parts = {"easy": ranked[:n], "medium": ranked[mid:mid + n], "hard": ranked[len(ranked) - n:] if n else []}
    return {k: sorted(v, key=lambda m: m.index) for k, v in parts.items()}


def _primary(m: SampleMeta, clusters: dict[str, str]) -> str:
    """The cluster most of the sample's called APIs (offered tools, if none called) belong to."""
    counts = Counter(clusters.get(t, UNASSIGNED) for t in (m.used or m.tools))
    return min(counts, key=lambda c: (-counts[c], c))


def diversity(pool: list[SampleMeta], clusters: dict[str, str], shares: tuple[float, float, float],
              size: int | None, seed: int) -> tuple[dict[str, list[SampleMeta]], dict[str, list[str]]]:
    """Equal-sized subsets drawn from nested sets of few / some / all clusters.

    Clusters are taken largest first (most samples that stay inside one cluster; ties by a seeded
    hash), so the smallest level still has samples to draw. A sample is eligible for a level when
    every tool it offers is in that level's clusters; the draw round-robins over the clusters
    (each one's samples in a seeded order), so every chosen cluster is represented.
    """
    pure = Counter(m.clusters[0] for m in pool if len(m.clusters) == 1)
    universe = sorted({c for m in pool for c in m.clusters} - {UNASSIGNED},
                      key=lambda c: (-pure[c], derive(seed, "split.cluster", c), c))
    k = len(universe)
    counts, prev = [], 0
    for share in shares:
        c = min(k, max(prev + 1, round(share * k)))
        counts.append(c)
        prev = c
    chosen = {name: universe[:c] for name, c in zip(DIVERSITY, counts)}
    rank = {c: i for i, c in enumerate(universe)}
    # a sample fits every level whose cluster count exceeds its worst-ranked cluster (levels are nested)
    need = [(max((rank.get(c, k) for c in m.clusters), default=k), m) for m in pool]
    primary = {m.id: _primary(m, clusters) for r, m in need if r < k}
    eligible = {name: [m for r, m in need if r < c] for name, c in zip(DIVERSITY, counts)}
    n = min(len(v) for v in eligible.values())
    if size is not None:
        n = min(n, size)
    out = {}
    for name, members in eligible.items():
        by_cluster: dict[str, list[SampleMeta]] = {}
        for m in members:
            by_cluster.setdefault(primary[m.id], []).append(m)
        queues = []
        for c, v in sorted(by_cluster.items()):
            v.sort(key=lambda m: m.id)
            rng_for(seed, "split.diversity", name, c).shuffle(v)
            queues.append(v)
        picked: list[SampleMeta] = []
        depth = 0
        while len(picked) < n:
            for q in queues:
                if depth < len(q) and len(picked) < n:
                    picked.append(q[depth])
            depth += 1
        out[name] = sorted(picked, key=lambda m: m.index)
    return out, chosen


# ---------------------------------------------------------------- stats

def subset_stats(members: list[SampleMeta]) -> dict:
    losses = [m.loss for m in members if m.loss is not None]
    mean = sum(losses) / len(losses) if losses else None
    std = math.sqrt(sum((x - mean) ** 2 for x in losses) / len(losses)) if losses else None
    types = Counter(m.data_type for m in members)
    n = len(members)
    return {
        "samples": n,
        "apis": len({t for m in members for t in m.tools}),
        "apis_called": len({u for m in members for u in m.used}),
        "clusters": len({c for m in members for c in m.clusters} - {UNASSIGNED}),
        "domains": len({d for m in members for d in m.domains} - {UNASSIGNED}),
        "complexity": {"scored": len(losses),
                       "mean": None if mean is None else round(mean, 6),
                       "std": None if std is None else round(std, 6),
                       "min": round(min(losses), 6) if losses else None,
                       "max": round(max(losses), 6) if losses else None},
        "data_types": {t: round(types[t] / n, 4) if n else 0.0 for t in DATA_TYPES},
    }


def strictly_increasing(values) -> bool:
    return all(a is not None and b is not None and a < b for a, b in zip(values, values[1:]))


def write_manifest(path, members: list[SampleMeta]) -> str:
    """JSON lines {"id", "line", "loss", "clusters"} in input order, atomically; returns the file's md5."""
    h = hashlib.md5()
    with io.atomic_open(path, "wb") as f:
        for m in members:
            line = orjson.dumps({"id": m.id, "line": m.line, "loss": m.loss, "clusters": m.clusters}) + b"\n"
            f.write(line)
            h.update(line)
    return h.hexdigest()
