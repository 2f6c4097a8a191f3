"""Dialog-level near-duplicate removal on what the user asks (`dialogs.dedup`).

A dialog whose user messages nearly repeat those of an earlier kept dialog is dropped with
`dialogs.near_duplicate_request`. Similarity is the API pool's measure (callforge/apis/dedup.py:
MinHash buckets over word bigrams, then exact Jaccard), on the first request and the later user turns.

The comparison runs in the stage's process, in sample order, over blocks of `window` sample indices:
a sample meets the earlier samples of its own block only. So the outcome of sample i depends on
(seed, config, i) alone: a shard that starts inside a block first rebuilds that block's earlier
samples (their dialogs, not written) to know which were kept, and the shards still concatenate to
the unsharded output byte for byte. A window bounds that lead-in and the index's memory.
"""
from __future__ import annotations

from callforge.apis.dedup import NearDuplicateIndex
from callforge.core.seeds import derive

from .generate import drop_record
from .render import sample_id, sample_index
from .variety import NEAR_DUPLICATE


def lead_in(dedup, indices: range) -> range:
    """The indices to generate for this run's (`dedup`: the config section): from the start of the
    block its first index lies in."""
    if not dedup.enabled or not len(indices):
        return indices
    return range(indices.start - indices.start % dedup.window, indices.stop)


class RequestFilter:
    """`dialogs` is the config section (plain values); provenance goes on the drop records."""

    def __init__(self, dialogs, seed: int, provenance: dict):
        self.cfg, self.mix, self.seed, self.prov = dialogs.dedup, dialogs.mix, seed, provenance
        self.block: int | None = None
        self.index: NearDuplicateIndex | None = None

    def _duplicate_of(self, i: int, requests: list[str]) -> tuple[str, float] | None:
        block = i // self.cfg.window
        if block != self.block:
            self.block = block
            self.index = NearDuplicateIndex(self.cfg, seed=derive(self.seed, "dialogs-dedup", block) % 2**32)
        j, sim, sh, sig = self.index.find(requests[0] if requests else "", " ".join(requests[1:]))
        if j is None:
            self.index.add(sample_id(i), sh, sig)
            return None
        return self.index.keys[j], sim

    def filter(self, lines: list[str], facts: list[dict], drops: list[dict], first: int):
        """One batch: the near-duplicates removed (drop records added in index order), and what lies
        before `first` (a lead-in) only remembered. Each fact's `requests` is consumed here."""
        kept_lines, kept_facts, removed = [], [], []
        for line, f in zip(lines, facts):
            requests = f.pop("requests")
            i = sample_index(f["id"])
            dup = self._duplicate_of(i, requests) if self.cfg.enabled else None
            if i < first:
                continue
            if dup is None:
                kept_lines.append(line)
                kept_facts.append(f)
            else:
                removed.append(drop_record(self.mix, self.seed, self.prov, i, NEAR_DUPLICATE,
                                           f"the user's requests match {dup[0]}'s (word-bigram Jaccard {dup[1]:.2f} >= {self.cfg.threshold})"))
        drops = [d for d in drops if d["index"] >= first]
        if removed:
            drops = sorted(drops + removed, key=lambda d: d["index"])
        return kept_lines, kept_facts, drops
