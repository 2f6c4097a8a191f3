"""Profiles are YAML with real values: every knob of conf/finetune/*.yaml and conf/evaluate/*.yaml that
shapes a result is visible in params.yaml (so in `dvc params diff` and MLflow), not filled in by Python.

Each profile is composed the way `callforge params` composes it and written the way it writes params.yaml;
the written file must state every knob of the section, with a value wherever null has no meaning of its own.
"""
from __future__ import annotations

from dataclasses import fields, is_dataclass
from pathlib import Path

import pytest
import yaml
from omegaconf import MISSING

from callforge.core.config import compose, validate, write_params
from callforge.core.config_schema import EvaluateConfig, FinetuneConfig

ROOT = Path(__file__).resolve().parent.parent
CONF = ROOT / "conf"

# Knobs whose null is a value of its own (what it means is in config_schema.py); every other knob is set.
NULL_MEANS = {
    "finetune.chat_format": "from the model's chat template",
    "finetune.threads": "all cores (does not change the result)",
    "evaluate.bfcl.source": "the bfcl-eval wheel, downloaded (where the questions come from, not which)",
    "evaluate.bfcl.cache_dir": "the default cache folder",
    "evaluate.server.base_url": "only for evaluate.backend=server",
    "evaluate.server.base_model": "only for evaluate.backend=server",
    "evaluate.server.finetuned_model": "only for evaluate.backend=server",
    "evaluate.server.api_key_env": "only for evaluate.backend=server",
}
UNCAPPED = {"finetune.max_steps", "finetune.max_samples"}   # null: no cap (the full recipe only)

# conf/finetune/cpu.yaml resolves to the values the default pipeline's adapter (dvc.lock) was trained with.
CPU = {"base_model": "packaged", "chat_format": None, "device": "auto", "dtype": "auto", "rank": 16, "alpha": 32,
       "dropout": 0.05, "target_modules": "all-linear", "lr": 1e-3, "scheduler": "cosine", "warmup_ratio": 0.1,
       "epochs": 3, "batch_size": 4, "micro_batch": 1, "max_steps": 4, "max_seq_len": 2048, "max_samples": 32,
       "max_grad_norm": 1.0, "threads": None}
# conf/finetune/full.yaml is ToolACE's recipe (../shared/toolace.md §6).
FULL = {**CPU, "lr": 1e-4, "batch_size": 48, "max_steps": None, "max_samples": None}


def schema_defaults(cls, prefix: str) -> dict:
    """{dotted name: schema default} of every leaf field of a schema class."""
    out = {}
    for f in fields(cls):
        default = f.default_factory() if callable(f.default_factory) else f.default
        out.update(schema_defaults(type(default), f"{prefix}{f.name}.") if is_dataclass(default)
                   else {prefix + f.name: default})
    return out


def knobs(cls, prefix: str) -> list[str]:
    return list(schema_defaults(cls, prefix))


def written_params(overrides: list[str], tmp_path: Path) -> dict:
    """What `callforge params` writes to params.yaml for these group choices, read back as YAML."""
    path = tmp_path / "params.yaml"
    write_params(validate(compose(overrides)), path)
    return yaml.safe_load(path.read_text())


def lookup(params: dict, dotted: str):
    node = params
    for part in dotted.split("."):
        assert isinstance(node, dict) and part in node, f"{dotted} is not in params.yaml"
        node = node[part]
    return node


def profiles(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF / group).glob("*.yaml"))


@pytest.mark.parametrize("group,cls", [("finetune", FinetuneConfig), ("evaluate", EvaluateConfig)])
def test_each_default_is_stated_once_in_conf_not_in_the_schema(group, cls):
    stated_in_schema = [k for k, default in schema_defaults(cls, "").items() if default != MISSING]
    assert not stated_in_schema, f"{group}: defaults stated in config_schema.py as well as conf/: {stated_in_schema}"
    assert profiles(group), f"no profiles in conf/{group}/"


@pytest.mark.parametrize("group,cls,profile", [("finetune", FinetuneConfig, p) for p in profiles("finetune")]
                         + [("evaluate", EvaluateConfig, p) for p in profiles("evaluate")])
def test_every_knob_of_a_profile_is_visible_in_params(group, cls, profile, tmp_path):
    params = written_params([f"{group}={profile}"], tmp_path)
    names = knobs(cls, group + ".")
    assert len(names) >= 8
    unset = [k for k in names if lookup(params, k) is None and k not in NULL_MEANS
             and not (profile == "full" and k in UNCAPPED)]
    assert not unset, f"{group}={profile}: knobs without a value in params.yaml: {unset}"
    assert set(params[group]) == {f.name for f in fields(cls)}, "params.yaml states exactly the schema's keys"


@pytest.mark.parametrize("profile,expected", [("cpu", CPU), ("full", FULL)])
def test_finetune_profiles_resolve_to_their_recipe(profile, expected, tmp_path):
    got = written_params([f"finetune={profile}"], tmp_path)["finetune"]
    assert {k: got[k] for k in expected} == expected
    assert isinstance(got["lr"], float) and isinstance(got["max_seq_len"], int)


def test_the_default_is_the_cpu_profile_and_params_yaml_shows_its_values(tmp_path):
    cpu = written_params(["finetune=cpu"], tmp_path)
    assert written_params([], tmp_path)["finetune"] == cpu["finetune"]
    project = yaml.safe_load((ROOT / "params.yaml").read_text())
    assert project["finetune"]["lr"] == cpu["finetune"]["lr"] == 1e-3
    assert project["finetune"]["max_steps"] == cpu["finetune"]["max_steps"] == 4
    assert project["finetune"] == cpu["finetune"], "params.yaml is stale: run `callforge params`"
    assert project["evaluate"] == cpu["evaluate"], "params.yaml is stale: run `callforge params`"
