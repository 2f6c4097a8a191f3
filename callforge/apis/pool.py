"""The self-evolving API pool (ToolACE §1): adaptation, evolution, admission.

    adaptation  every attempt samples its own subtree of the context tree: one functionality
                (a simple API) or several related ones (a detailed API), at apis.detailed_ratio;
    evolution   the writer (offline procedures or a model) writes the API conditioned on one example
                drawn from the API example buffer, then diversity operators apply; APIs admitted to
                the pool feed the buffer;
    admission   API-definition rules, unique names, near-duplicate removal; everything turned away is
                kept with its reason codes.

Attempts run in rounds of apis.batch_size: every attempt of a round sees the buffer as it stood
when the round began, so a model path can send a round concurrently and the result is the same
whatever order answers arrive in. Attempt i draws from rng_for(seed, "apis", i) only.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

from omegaconf import OmegaConf

from callforge.apis import self_evolution as ops_mod
from callforge.apis.dedup import NearDuplicateIndex
from callforge.apis.rules import Rules, Violation, check_api, codes
from callforge.core.budget import BUDGET_STOPPED
from callforge.core.seeds import rng_for
from callforge.taxonomy.context_tree import Leaf

_RECORD_KEYS = ("name", "description", "parameters", "returns", "domain", "path", "source")


@dataclass
class Job:
    index: int
    leaves: list[Leaf]        # the sampled subtree: primary functionality first
    scope: str                # simple | detailed
    siblings: list[Leaf]      # nearby functionalities (for add_functionality)
    example: dict | None      # drawn from the buffer
    operators: list[str]
    rng: random.Random


@dataclass
class Written:
    """What a writer returns for one job: an API (internal form) or a failure reason."""
    api: dict | None
    meta: dict = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)   # from normalising/parsing, if any
    declared_params: dict | None = None                        # parameters as the writer spelled them
    raw: object = None                                         # kept for rejected records


class Pool:
    def __init__(self, cfg, seed: int, provenance: dict):
        """cfg: the `apis` config section (cfg.apis, or a config_schema.ApisConfig)."""
        # plain attributes: the section is read on every attempt, and an OmegaConf lookup costs ~20 µs
        self.cfg = OmegaConf.to_object(cfg) if OmegaConf.is_config(cfg) else cfg
        self.seed, self.provenance = seed, provenance
        self.rules = Rules.of(self.cfg)
        self.operator_p = {name: float(p) for name, p in vars(self.cfg.operators).items()}
        self.apis: list[dict] = []
        self.rejected: list[dict] = []
        self.names: dict[str, int] = {}
        self.buffer: list[dict] = []
        self.index = NearDuplicateIndex(self.cfg.dedup, seed=seed) if self.cfg.dedup.enabled else None
        self.generated = 0
        self.attempts = 0

    # -- admission ---------------------------------------------------------------------------------
    def admit(self, w: Written, origin: str, rules: Rules | None = None, provenance: dict | None = None) -> bool:
        rules = rules or self.rules
        api = w.api
        viol = list(w.violations)
        if api is not None and not viol:
            viol = check_api(api, rules, w.declared_params)
        if api is not None and not viol and api["name"] in self.names:
            viol = [Violation("api.duplicate_name", f"same name as pool entry #{self.names[api['name']]}")]
        near = None
        if api is not None and not viol and self.index is not None:
            j, sim, sh, sig = self.index.find(api["name"], api["description"])
            if j is not None:
                near = (self.index.keys[j], sim)
                viol = [Violation("api.near_duplicate", f"{sim:.2f} similar to {self.index.keys[j]!r}")]
        if api is None and not viol:
            viol = [Violation("api.not_object", "writer returned nothing")]
        if viol:
            rec = {"origin": origin, "reasons": codes(viol), "details": [f"{v.code}: {v.detail}" if v.detail else v.code for v in viol],
                   "api": api if api is not None else w.raw}
            if near:
                rec["duplicate_of"] = near[0]
            if w.meta:
                rec["meta"] = w.meta
            self.rejected.append(rec)
            return False
        record = {k: api[k] for k in _RECORD_KEYS if k in api}
        record["meta"] = {"origin": origin, **w.meta}
        record["provenance"] = provenance or self.provenance
        self.names[api["name"]] = len(self.apis)
        self.apis.append(record)
        if self.index is not None:
            self.index.add(api["name"], sh, sig)
        return True

    def feed_buffer(self, record: dict, i: int) -> None:
        """New APIs feed the buffer; once full, a seeded draw picks the slot a newcomer replaces."""
        example = {k: record[k] for k in ("name", "description", "parameters", "returns")}
        if len(self.buffer) < self.cfg.buffer_size:
            self.buffer.append(example)
        else:
            self.buffer[rng_for(self.seed, "buffer", i).randrange(self.cfg.buffer_size)] = example

    # -- evolution -----------------------------------------------------------------------------------
    def run(self, leaves: list[Leaf], write_batch, progress=None) -> None:
        """Write until pool_size APIs are admitted or the attempt budget is spent.
        `write_batch(list[Job]) -> list[Written]` is the writer (offline procedures or a model)."""
        if not leaves:
            raise ValueError("the context tree has no functionality leaves")
        groups = _groups(leaves)
        budget = int(self.cfg.pool_size * self.cfg.max_attempts_factor) + self.cfg.batch_size
        while self.generated < self.cfg.pool_size and self.attempts < budget:
            n = min(self.cfg.batch_size, self.cfg.pool_size - self.generated, budget - self.attempts)
            jobs = [self._job(self.attempts + k, leaves, groups) for k in range(n)]
            results = write_batch(jobs)
            for job, w in zip(jobs, results):
                if self.admit(w, f"{self.provenance['provider']}#{job.index}"):
                    self.generated += 1
                    self.feed_buffer(self.apis[-1], job.index)
            self.attempts += n
            if progress is not None:
                progress(n)
            if any(v.code == BUDGET_STOPPED for w in results for v in w.violations):
                break    # the model budget is spent: every further attempt would only be rejected the same way

    def _job(self, i: int, leaves: list[Leaf], groups) -> Job:
        rng = rng_for(self.seed, "apis", i)
        primary = leaves[rng.randrange(len(leaves))]
        siblings = [l for l in groups["parent"][primary.path[:-1]] if l.name != primary.name]
        cousins = [l for l in groups["domain"][primary.domain] if l.path[:-1] != primary.path[:-1]]
        scope = "detailed" if rng.random() < self.cfg.detailed_ratio else "simple"
        chosen = [primary]
        if scope == "detailed":
            k = rng.randint(2, max(2, self.cfg.max_nodes))
            pool = siblings if len(siblings) >= k - 1 else siblings + cousins
            chosen += rng.sample(pool, min(k - 1, len(pool)))
            if len(chosen) == 1:
                scope = "simple"
        example = self.buffer[rng.randrange(len(self.buffer))] if self.buffer else None
        ops = [n for n in ops_mod.NAMES if rng.random() < self.operator_p.get(n, 0.0)]
        if not ops and any(self.operator_p.get(n, 0.0) > 0 for n in ops_mod.NAMES):
            ops = [rng.choice([n for n in ops_mod.NAMES if self.operator_p.get(n, 0.0) > 0])]
        return Job(i, chosen, scope, siblings or cousins, example, ops, rng)


def _groups(leaves: list[Leaf]) -> dict:
    parent: dict[tuple, list[Leaf]] = {}
    domain: dict[str, list[Leaf]] = {}
    for l in leaves:
        parent.setdefault(l.path[:-1], []).append(l)
        domain.setdefault(l.domain, []).append(l)
    return {"parent": parent, "domain": domain}
