"""Difficulty subsets (ToolACE §5): easy / medium / hard by complexity, the target model's loss on a sample.

Only scored samples take part; the three levels are disjoint and equal-sized, ties broken on ids.
"""
from __future__ import annotations

from callforge.split import DIFFICULTY
from callforge.split.samples import SampleMeta


def difficulty(pool: list[SampleMeta], size: int | None) -> dict[str, list[SampleMeta]]:
    """Bottom / middle / top `size` of the scored samples by loss (ties by id); disjoint, so at most a third each."""
    ranked = sorted((m for m in pool if m.loss is not None), key=lambda m: (m.loss, m.id))
    n = len(ranked) // 3 if size is None else min(size, len(ranked) // 3)
    mid = (len(ranked) - n) // 2
    parts = (ranked[:n], ranked[mid:mid + n], ranked[len(ranked) - n:] if n else [])
    return {k: sorted(v, key=lambda m: m.index) for k, v in zip(DIFFICULTY, parts)}
