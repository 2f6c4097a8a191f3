"""Bad input never crashes verify and never loses a line: every line ends verified or rejected with a
reason, and no check trips over a malformed sample (that would show as rule.error)."""
from __future__ import annotations

import copy
import json

from hypothesis import HealthCheck, given, settings, strategies as st

from callforge.core.parallel import ordered_map
from callforge.verify.runner import verify
from verify_samples import good, parallel, verify_config

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                    max_leaves=8)


def paths(x, prefix=()):
    """Every (container, key) position in a JSON value."""
    out = []
    if isinstance(x, dict):
        for k, v in x.items():
            out.append((x, k))
            out += paths(v)
    elif isinstance(x, list):
        for i, v in enumerate(x):
            out.append((x, i))
            out += paths(v)
    return out


@st.composite
def broken_samples(draw):
    s = draw(st.sampled_from([good, parallel]))(draw(st.sampled_from(["a", "b", "c"])))
    for _ in range(draw(st.integers(1, 4))):
        spots = paths(s)
        container, key = spots[draw(st.integers(0, len(spots) - 1))]
        action = draw(st.sampled_from(["replace", "delete", "duplicate"]))
        if action == "replace":
            container[key] = draw(JSON)
        elif action == "delete":
            del container[key]
        elif isinstance(container, list):
            container.insert(key, copy.deepcopy(container[key]))
    return s


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(broken_samples(), min_size=1, max_size=4))
def test_broken_samples_are_rejected_with_reasons_never_crash(samples):
    lines = [json.dumps(s) for s in samples]
    verified, rejected, stats = verify(lines, verify_config(), map_fn=ordered_map, offline=True)
    assert len(verified) + len(rejected) == len(lines) == stats["samples"]
    for r in rejected:
        assert r["reasons"] and all(not c.startswith("rule.error") for c in r["reasons"]), r["details"]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_lines(raw):
    lines = [line for line in raw.split(b"\n")]
    verified, rejected, stats = verify(lines, verify_config(), map_fn=ordered_map, offline=True)
    assert len(verified) + len(rejected) == stats["samples"]
    assert all(r["reasons"][0].startswith(("input.", "dialog.bad_record")) for r in rejected)
