"""Which shard this process runs: CALLFORGE_SHARD, set by `callforge shards` (callforge/core/shards.py).

Its own module because both the stage harness and the budget (each shard gets its share of a cap)
read it, and the budget must not import the harness."""
from __future__ import annotations

import os

SHARD_ENV = "CALLFORGE_SHARD"


def shard_spec() -> tuple[int | None, int]:
    """(index, count) from CALLFORGE_SHARD="i/n"; (None, n) from "merge/n", the run that merges n shards
    into the stage's outputs; (0, 1) when the stage runs whole.

    Sharding is how a stage runs, not what it makes, so it lives outside params.yaml: the merged
    shards equal the unsharded outputs byte for byte (see callforge/core/shards.py)."""
    raw = os.environ.get(SHARD_ENV)
    if not raw:
        return 0, 1
    try:
        i, n = raw.split("/")
        index, count = (None if i == "merge" else int(i)), int(n)
        assert count >= 1 and (index is None or 0 <= index < count)
    except (ValueError, AssertionError):
        raise SystemExit(f"{SHARD_ENV}={raw!r}: expected i/n with 0 <= i < n, or merge/n") from None
    return index, count
