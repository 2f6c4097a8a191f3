"""The stage list of dvc.yaml, read once for the code that needs it outside DVC.

dvc.yaml is the one declaration of the pipeline; `callforge shards` (which outputs to merge) and the
MLflow tracker (which stages are upstream, which outputs to log) read it through here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml


@dataclass
class StageSpec:
    name: str
    cmd: str
    deps: list[str] = field(default_factory=list)
    params: list[str] = field(default_factory=list)
    outs: list[str] = field(default_factory=list)       # declared outs (DVC-cached data and models)
    metrics: list[str] = field(default_factory=list)    # metrics and plots files

    @property
    def written(self) -> list[str]:
        """Everything the stage writes."""
        return self.outs + self.metrics


def _paths(entries) -> list[str]:
    return [next(iter(e)) if isinstance(e, dict) else str(e) for e in entries or []]


def load_pipeline(root: Path = Path(".")) -> list[StageSpec]:
    """Stages in dvc.yaml order (which callforge keeps topological); [] when there is no dvc.yaml."""
    try:
        spec = yaml.safe_load((Path(root) / "dvc.yaml").read_text()) or {}
    except FileNotFoundError:
        return []
    stages = []
    for name, s in (spec.get("stages") or {}).items():
        params = []
        for p in s.get("params") or []:   # `- key` or `- params.yaml: [key, ...]`
            params.extend([p] if isinstance(p, str) else [k for v in p.values() for k in v])
        stages.append(StageSpec(name, s["cmd"], _paths(s.get("deps")), params, _paths(s.get("outs")),
                                _paths(s.get("metrics")) + _paths(s.get("plots"))))
    return stages
