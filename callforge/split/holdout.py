"""The held-out evaluation split: a seed-determined share of the called APIs that no training subset
offers, and the samples that use only those APIs (data/split/eval.jsonl, exported in BFCL layout)."""
from __future__ import annotations

from callforge.core.seeds import derive
from callforge.split.clusters import tree_key
from callforge.split.samples import SampleMeta, SplitError


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
