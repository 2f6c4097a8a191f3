"""Configuration: compose `conf/` with Hydra, validate against `config_schema.Config`, snapshot to params.yaml.

Stages never compose: they read `params.yaml`, which is what DVC tracks and what `dvc exp run -S` writes.
`callforge params` (or `compose` + `write_params`) regenerates it for `dvc repro` users.
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
from dataclasses import fields
from pathlib import Path

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import InterpolationResolutionError, OmegaConfBaseException

from callforge.core.config_knobs import RangeError, check
from callforge.core.config_schema import Config

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
    key = getattr(err, "full_key", None)
    lines = [ln.strip() for ln in str(err).strip().splitlines() if ln.strip()] or [type(err).__name__]
    msg = lines[0]
    return f"{key}: {msg}" if key and key not in msg else msg


def _typed(raw: DictConfig | dict) -> DictConfig:
    """`raw` merged onto the schema: unknown keys, wrong types, missing values and ranges raise ConfigError."""
    try:
        if OmegaConf.is_config(raw):   # drop the check's own interpolation: merging it would re-enter the check
            raw = OmegaConf.masked_copy(raw, [k for k in raw.keys() if k != "config_check"])
        else:
            raw = {k: v for k, v in raw.items() if k != "config_check"}
        cfg = OmegaConf.merge(OmegaConf.structured(Config), raw, {"config_check": "passed"})
        missing = sorted(OmegaConf.missing_keys(cfg))
        if missing:
            raise ConfigError(f"{missing[0]}: missing required value (set it in conf/ or with {missing[0]}=...)")
        check(cfg, Config)
    except RangeError as e:
        raise ConfigError(str(e)) from None
    except OmegaConfBaseException as e:
        raise ConfigError(_one_line(e)) from None
    return cfg


def validate(raw: DictConfig | dict) -> DictConfig:
    """The config, typed, checked, resolved and read-only; a bad one raises ConfigError (one line)."""
    cfg = _typed(raw)
    try:
        OmegaConf.resolve(cfg)
    except OmegaConfBaseException as e:
        raise ConfigError(_one_line(e)) from None
    OmegaConf.set_readonly(cfg, True)
    return cfg


class CompositionError(InterpolationResolutionError):
    """A ConfigError raised while a composed config resolves (the `config_check` resolver). OmegaConf passes
    its own initialised exceptions through unchanged, so the caller sees our one line, not a wrapped report."""

    def __init__(self, msg: str):
        Exception.__init__(self, msg)
        self.msg, self._initialized = msg, True
        self.full_key = self.key = self.value = self.parent_node = self.child_node = None
        self.object_type = self.object_type_str = self.ref_type = self.ref_type_str = None


# What the resolver raises; the Hydra plugin that DVC loads swaps in a subclass that DVC reports as one line.
resolver_error: type[Exception] = CompositionError


def _check_resolver(*, _root_) -> str:
    """conf/config.yaml's `config_check: ${callforge_check:}`: whoever resolves a composition of conf/ (DVC's
    Hydra integration for `dvc exp run -S`, before it touches any output) runs the whole schema check."""
    try:
        _typed(_root_)
    except ConfigError as e:
        raise resolver_error(str(e)) from None
    return "passed"


if not OmegaConf.has_resolver("callforge_check"):
    OmegaConf.register_new_resolver("callforge_check", _check_resolver)


def compose(overrides: list[str] | tuple[str, ...] = (), root: Path | None = None) -> DictConfig:
    """conf/ + Hydra overrides → the raw composed config (not yet merged onto the schema)."""
    from hydra import compose as hydra_compose, initialize_config_dir
    from hydra.errors import HydraException

    conf_dir = (root or project_root()) / "conf"
    try:
        with initialize_config_dir(config_dir=str(conf_dir), version_base="1.3"):
            cfg = hydra_compose(config_name="config", overrides=list(overrides))
    except HydraException as e:
        cause = f" ({_one_line(e.__cause__)})" if e.__cause__ else ""
        raise ConfigError(_one_line(e) + cause) from None
    return cfg


def write_params(cfg: DictConfig, path: Path | str = PARAMS_FILE) -> None:
    from callforge.core.io import atomic_write_text

    header = "# Generated from conf/ by `callforge params` (or by `dvc exp run`). Edit conf/, not this file.\n"
    atomic_write_text(path, header + OmegaConf.to_yaml(cfg, resolve=True))


def defaults(section: str, **overrides) -> DictConfig:
    """One section of the default config (conf/, typed and checked), with `overrides` merged in: what a
    library user or a test hands a library function that takes a config section."""
    node = copy.deepcopy(OmegaConf.select(_default_config(), section))
    OmegaConf.set_readonly(node, False)
    return validate_section(OmegaConf.merge(node, overrides), section) if overrides else node


def _default_config() -> DictConfig:
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = validate(compose([]))
    return _DEFAULT


_DEFAULT: DictConfig | None = None


def validate_section(node: DictConfig, section: str) -> DictConfig:
    """Check one merged section against the schema's ranges and choices (raises RangeError naming the key)."""
    import callforge.core.config_schema as S
    cls = S.Config
    for part in section.split("."):
        cls = {f.name: f.type for f in fields(cls)}[part]
        cls = getattr(S, cls) if isinstance(cls, str) else cls
    check(node, cls, section + ".")
    return node


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


def digest(values: dict) -> str:
    """Stable content hash of a config's values (names a dataset variant)."""
    blob = json.dumps(values, sort_keys=True, separators=(",", ":"))
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
