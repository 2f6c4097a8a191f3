"""Scale, ten times larger: 1,000,000 offline samples through verify, split and export on this machine
(targets: ≤ 6 min in all, ≤ 4 GB peak memory (PSS) in any stage), with the disk they take.

The subsets have ToolACE's sizes (60,000 per difficulty level, 30,000 per diversity level), as a user
building at this scale would set them; the full subset and the eval split grow with the data. The
inputs (~25 min to make, 7 GB) are kept between runs even when the offline stages' code changed: their
stamp goes in the results. See bench_scale.py for how stages are timed.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scale import Scale, run_scale  # noqa: E402

SCALE_1M = Scale(samples=1_000_000, small=100_000, target_s=360, store="bench-scale-1m", reuse_inputs=True,
                 subsets=("split.difficulty.samples=60000", "split.diversity.samples=30000"))


def run() -> dict:
    return run_scale(SCALE_1M)


if __name__ == "__main__":
    from common import main
    main("scale_1m", run)
