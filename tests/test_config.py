"""conf/ is the source of truth, params.yaml its snapshot, and bad config stops before any work."""
from __future__ import annotations

import subprocess
import sys
from dataclasses import fields, is_dataclass

import pytest
from omegaconf import OmegaConf

from callforge.core.config import ConfigError, as_dict, compose, load_params, validate
from callforge.core.config_schema import Config
from conftest import REPO


def test_committed_params_yaml_is_not_stale():
    committed = as_dict(load_params(REPO / "params.yaml"))
    assert committed == as_dict(validate(compose([]))), "params.yaml is stale: run `callforge params`"


def _schema_keys(cls, prefix=""):
    for f in fields(cls):
        default = f.default_factory() if callable(f.default_factory) else None
        if is_dataclass(default):
            yield from _schema_keys(type(default), f"{prefix}{f.name}.")
        else:
            yield f"{prefix}{f.name}"


def test_conf_shows_every_knob_of_the_schema():
    """Every key of the typed schema is written out in conf/ (so in params.yaml): no hidden defaults."""
    raw = OmegaConf.to_container(compose([]))
    for key in _schema_keys(Config):
        node = raw
        for part in key.split("."):
            assert isinstance(node, dict) and part in node, f"{key} is in config_schema but not in conf/"
            node = node[part]


@pytest.mark.parametrize("override, key", [
    ("llm.temprature=0.3", "llm.temprature"),       # unknown key
    ("llm.temperature=warm", "llm.temperature"),    # wrong type
    ("seed=abc", "seed"),
    ("+llm.extra=1", "llm.extra"),
    ("llm=nonexistent", "llm/nonexistent"),
])
def test_invalid_override_fails_fast_with_one_line_naming_the_key(override, key, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "callforge.cli", "params", override, "--out", str(tmp_path / "p.yaml")],
                          cwd=REPO, capture_output=True, text=True)
    assert proc.returncode != 0
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and key in lines[0], proc.stderr
    assert not (tmp_path / "p.yaml").exists()


def test_missing_required_value_names_the_key():
    with pytest.raises(ConfigError, match=r"^llm\.model: missing"):
        validate(compose(["llm.model=???"]))


def test_stage_stops_before_work_on_bad_params(tmp_path):
    (tmp_path / "params.yaml").write_text("seed: 0\nllm: {provider: offline, model: m, temperature: hot}\n")
    from conftest import run_stage
    proc = run_stage("taxonomy", tmp_path, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].endswith("llm.temperature: Value 'hot' of type 'str' could not be converted to Float")
    assert not (tmp_path / "data").exists() and not (tmp_path / "metrics").exists()


def test_unknown_key_in_params_yaml_is_rejected(tmp_path):
    p = tmp_path / "params.yaml"
    p.write_text("seed: 0\nllm: {provider: offline, model: m}\nsplitt: {}\n")
    with pytest.raises(ConfigError, match="splitt"):
        load_params(p)


def test_secrets_are_named_not_stored():
    cfg = validate(compose(["llm=openai"]))
    assert cfg.llm.api_key_env == "OPENAI_API_KEY"
    assert "sk-" not in OmegaConf.to_yaml(cfg)
