"""Configuration: compose `conf/` with Hydra, validate against `config_schema.Config`, snapshot to params.yaml.

Stages never compose: they read `params.yaml`, which is what DVC tracks and what `dvc exp run -S` writes.
`callforge params` (or `compose` + `write_params`) regenerates it for `dvc repro` users.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from callforge.config_schema import Config, RangeError, check

PARAMS_FILE = "params.yaml"


class ConfigError(Exception):
    """A bad configuration. str() is one line that names the offending key."""


def project_root(start: Path | None = None) -> Path:
    """The nearest folder upwards holding conf/config.yaml (CALLFORGE_ROOT overrides)."""
    if os.environ.get("CALLFORGE_ROOT"):
        return Path(os.environ["CALLFORGE_ROOT"]).resolve()
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / "conf" / "config.yaml").is_file():
            return d
    raise ConfigError(f"no conf/config.yaml found in {here} or any parent folder")


def shared_path(path: str | Path) -> Path:
    """Where state shared by all runs of a project lives (MLflow store, response cache).

    Relative paths resolve against the project the user works in. DVC's queue runs each experiment in a
    temporary copy under <project>/.dvc/tmp/exps/; those runs must log and cache into the original.
    """
    path = Path(path)
    if path.is_absolute():
        return path
    cwd = str(Path.cwd())
    marker = f"{os.sep}.dvc{os.sep}tmp{os.sep}exps{os.sep}"
    base = cwd.split(marker, 1)[0] if marker in cwd else cwd
    return Path(base) / path


def _one_line(err: Exception) -> str:
    marker = f"{RangeError.__name__} raised while resolving interpolation: "
    if marker in str(err):             # raised inside the config_check resolver: its message names the key
        return str(err).split(marker, 1)[1].splitlines()[0]
    key = getattr(err, "full_key", None)
    lines = [ln.strip() for ln in str(err).strip().splitlines() if ln.strip()] or [type(err).__name__]
    msg = lines[0]
    return f"{key}: {msg}" if key and key not in msg else msg


def validate(raw: DictConfig | dict) -> DictConfig:
    """Merge onto the typed schema; unknown keys, wrong types and missing values raise ConfigError."""
    try:
        cfg = OmegaConf.merge(OmegaConf.structured(Config), raw)
        missing = sorted(OmegaConf.missing_keys(cfg))
        if missing:
            raise ConfigError(f"{missing[0]}: missing required value (set it in conf/ or with {missing[0]}=...)")
        check(cfg)                      # ranges and choices (params.yaml's config_check is already resolved)
        OmegaConf.resolve(cfg)
    except RangeError as e:
        raise ConfigError(str(e)) from None
    except OmegaConfBaseException as e:
        raise ConfigError(_one_line(e)) from None
    OmegaConf.set_readonly(cfg, True)
    return cfg


def register_schema() -> None:
    """Put the typed schema in Hydra's ConfigStore as `callforge_schema` (conf/config.yaml's first default)."""
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(name="callforge_schema", node=Config)


def compose(overrides: list[str] | tuple[str, ...] = (), root: Path | None = None) -> DictConfig:
    """conf/ + Hydra overrides → the raw composed config (not yet merged onto the schema)."""
    from hydra import compose as hydra_compose, initialize_config_dir
    from hydra.errors import HydraException

    conf_dir = (root or project_root()) / "conf"
    register_schema()
    try:
        with initialize_config_dir(config_dir=str(conf_dir), version_base="1.3"):
            cfg = hydra_compose(config_name="config", overrides=list(overrides))
    except HydraException as e:
        cause = f" ({_one_line(e.__cause__)})" if e.__cause__ else ""
        raise ConfigError(_one_line(e) + cause) from None
    return cfg


def write_params(cfg: DictConfig, path: Path | str = PARAMS_FILE) -> None:
    from callforge.io import atomic_write_text

    header = "# Generated from conf/ by `callforge params` (or by `dvc exp run`). Edit conf/, not this file.\n"
    atomic_write_text(path, header + OmegaConf.to_yaml(cfg, resolve=True))


def load_params(path: Path | str = PARAMS_FILE) -> DictConfig:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path} not found: run `callforge params` to compose it from conf/")
    try:
        raw = OmegaConf.load(path)
    except Exception as e:  # YAML syntax errors
        raise ConfigError(f"{path}: {_one_line(e)}") from None
    return validate(raw)


def as_dict(cfg: DictConfig) -> dict:
    return OmegaConf.to_container(cfg, resolve=True)


def digest(cfg: DictConfig) -> str:
    """Stable content hash of a config (names a dataset variant)."""
    blob = json.dumps(as_dict(cfg), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out
