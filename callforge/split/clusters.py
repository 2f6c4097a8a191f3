"""Grouping APIs into clusters for the diversity subsets (ToolACE §5: 30 groups of the context tree).

Two ways (`split.diversity.cluster_by`): the context tree itself (`tree_key`: an API's primary domain
or domain/sub-domain), or its description text (`embed_clusters`: binary TF-IDF over content words,
then spherical k-means in numpy). The text route needs no model download; it is for pools whose tree
is flat or missing.
"""
from __future__ import annotations

import math
import sys
from collections import Counter

import numpy as np

from callforge.complexity.features import tool_words
from callforge.core.seeds import derive
from callforge.split.samples import SampleMeta, SplitError

UNASSIGNED = "_unassigned"   # a tool with no tree position and no description words


def tree_key(tool: dict, level: str) -> str:
    """The tool's node in the context tree at `level` ("domain" or "subdomain")."""
    path = tool.get("path") or []
    domain = tool.get("domain") or (path[0] if path else None)
    if not domain:
        return UNASSIGNED
    if level == "subdomain" and len(path) > 1:
        return f"{domain}/{path[1]}"
    return domain


def cluster_map(tools: dict[str, dict], diversity, seed: int) -> tuple[dict[str, str], dict[str, list[str]]]:
    """name → cluster for every known tool, as `diversity` (the split.diversity config) says; also the
    top words per cluster (embedding only)."""
    by = diversity.cluster_by
    if by in ("domain", "subdomain"):
        return {n: tree_key(t, by) for n, t in tools.items()}, {}
    if by == "embedding":
        return embed_clusters(tools, diversity.k, seed, diversity.kmeans_iters, diversity.vocab_size)
    raise SplitError("split.bad_cluster_by", f"diversity.cluster_by must be domain, subdomain or embedding, not {by!r}")


def attach_clusters(metas: list[SampleMeta], clusters: dict[str, str], tools: dict[str, dict]) -> None:
    """Set each meta's clusters (of the tools it offers) and context-tree domains."""
    intern = sys.intern
    # per tool once, not per offer: a million samples offer a few tools each from a pool of thousands
    cluster_of = {t: intern(c) for t, c in clusters.items()}
    domain_of = {t: intern(tree_key(d, "domain")) for t, d in tools.items()}
    unassigned = intern(UNASSIGNED)
    for m in metas:
        m.clusters = tuple(sorted({cluster_of.get(t, unassigned) for t in m.tools}))
        m.domains = tuple(sorted({domain_of[t] for t in m.tools if t in domain_of}))


def tfidf(docs: list[set[str]], vocab_size: int) -> tuple[np.ndarray, list[str]]:
    """Rows L2-normalised binary TF-IDF over the `vocab_size` most frequent words (ties by word)."""
    df = Counter(w for d in docs for w in d)
    vocab = [w for w, _ in sorted(df.items(), key=lambda kv: (-kv[1], kv[0]))[:vocab_size]]
    col = {w: j for j, w in enumerate(vocab)}
    n = len(docs)
    idf = np.array([math.log((1 + n) / (1 + df[w])) + 1.0 for w in vocab], dtype=np.float32)
    x = np.zeros((n, len(vocab)), dtype=np.float32)
    for i, d in enumerate(docs):
        js = [col[w] for w in d if w in col]
        x[i, js] = idf[js]
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    np.divide(x, norms, out=x, where=norms > 0)
    return x, vocab


def kmeans(x: np.ndarray, k: int, seed: int, iters: int, restarts: int = 3) -> np.ndarray:
    """Spherical k-means (cosine) with k-means++ seeding; the best of `restarts` runs. A label per row."""
    best, best_fit = None, -1.0
    for r in range(restarts):
        labels, fit = _kmeans_once(x, k, np.random.default_rng(derive(seed, "clusters.kmeans", r)), iters)
        if fit > best_fit + 1e-6:
            best, best_fit = labels, fit
    return best


def _kmeans_once(x: np.ndarray, k: int, rng: np.random.Generator, iters: int) -> tuple[np.ndarray, float]:
    n = x.shape[0]
    k = max(1, min(k, n))
    centres = np.empty((k, x.shape[1]), dtype=np.float32)
    centres[0] = x[rng.integers(n)]
    dist = 1.0 - x @ centres[0]
    for c in range(1, k):          # k-means++: next centre drawn in proportion to distance²
        p = np.maximum(dist, 0.0) ** 2
        total = float(p.sum())
        i = int(rng.choice(n, p=p / total)) if total > 0 else int(rng.integers(n))
        centres[c] = x[i]
        dist = np.minimum(dist, 1.0 - x @ centres[c])
    labels = np.full(n, -1)
    for _ in range(iters):
        sims = x @ centres.T
        new = np.argmax(sims, axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
        for c in range(k):
            members = x[labels == c]
            if len(members):
                v = members.sum(axis=0)
                norm = float(np.linalg.norm(v))
                centres[c] = v / norm if norm > 0 else v
    fit = float((x @ centres.T)[np.arange(n), labels].sum())
    return labels, fit


def embed_clusters(tools: dict[str, dict], k: int, seed: int, iters: int,
                   vocab_size: int) -> tuple[dict[str, str], dict[str, list[str]]]:
    """name → cluster ("k07") by description text; also each cluster's five most common words."""
    names = sorted(tools)
    docs = [tool_words(tools[n]) for n in names]
    x, _ = tfidf(docs, vocab_size)
    labels = kmeans(x, k, seed, iters)
    width = len(str(max(k - 1, 1)))
    key = {n: (f"k{int(lab):0{width}d}" if docs[i] else UNASSIGNED) for i, (n, lab) in enumerate(zip(names, labels))}
    words: dict[str, Counter] = {}
    for n, d in zip(names, docs):
        words.setdefault(key[n], Counter()).update(d)
    top = {c: [w for w, _ in sorted(cnt.items(), key=lambda kv: (-kv[1], kv[0]))[:5]] for c, cnt in sorted(words.items())}
    return key, top
