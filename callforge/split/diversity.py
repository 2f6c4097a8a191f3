"""Diversity subsets (ToolACE §5): div_low / div_medium / div_high, equal-sized draws from few / some /
all API clusters (callforge/split/clusters.py groups the APIs).

Every choice is a pure function of the metas, the shares and the seed: ties break on ids and
seed-derived hashes, never on set order.
"""
from __future__ import annotations

from collections import Counter

from callforge.core.seeds import derive, rng_for
from callforge.split import DIVERSITY
from callforge.split.clusters import UNASSIGNED
from callforge.split.samples import SampleMeta


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


def _primary(m: SampleMeta, clusters: dict[str, str]) -> str:
    """The cluster most of the sample's called APIs (offered tools, if none called) belong to."""
    counts: dict[str, int] = {}    # a plain dict: Counter's set-up costs more than these few names
    for t in m.used or m.tools:
        c = clusters.get(t, UNASSIGNED)
        counts[c] = counts.get(c, 0) + 1
    return min(counts, key=lambda c: (-counts[c], c))
