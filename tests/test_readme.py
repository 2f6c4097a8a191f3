"""The README names only config keys that exist: every key it mentions is checked against the typed schema."""
from __future__ import annotations

import dataclasses
import fnmatch
import typing
import re
from pathlib import Path

import pytest

from callforge.core.config_schema import Config

REPO = Path(__file__).resolve().parents[1]
CONF = REPO / "conf"
TOP = {f.name for f in dataclasses.fields(Config) if f.name != "config_check"}
FILE_EXTS = {"yaml", "yml", "json", "jsonl", "py", "md", "db", "sqlite", "parquet", "gguf", "toml", "txt", "lock",
             "csv", "whl", "tmp"}

# a config key (dotted, a segment may be a glob like *_percentile), optionally `=value`; not part of a path
# (`data/export/full`, `metrics/split.json`) nor of a longer word
TOKEN = re.compile(r"(?<![\w./\\-])([A-Za-z_][\w]*(?:\.[\w*]+)*)(?:=([^\s`|)]*))?(?![\w/\\-])")
INLINE = re.compile(r"`([^`\n]+)`")
# a paragraph that documents one section: "`split` (conf/split/) holds ...": relative keys (`holdout.unit`) in it
SECTION_PARA = re.compile(r"^`\w+` \(conf/(\w+)/")


def _default(f: dataclasses.Field):
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


def _fields(cls) -> dict:
    return {f.name: _default(f) for f in dataclasses.fields(cls) if f.name != "config_check"}


def _walk(cls, segments: list[str]) -> list:
    """The schema nodes (dataclass types or leaf defaults) a dotted path reaches; [] if it does not exist."""
    if not segments:
        return [cls]
    seg, rest = segments[0], segments[1:]
    found = []
    for name, default in _fields(cls).items():
        if not fnmatch.fnmatchcase(name, seg):
            continue
        if dataclasses.is_dataclass(default):
            found += _walk(type(default), rest)
        elif isinstance(default, dict) or str(typing.get_type_hints(cls)[name]).startswith("typing.Dict"):
            found.append(default)                     # a free-form mapping (dialogs.mix.<type>): any sub-key
        elif not rest:
            found.append(default)
    return found


def _paths(cls, prefix: tuple = ()):
    """Every dotted path in the schema, as tuples."""
    for name, default in _fields(cls).items():
        yield prefix + (name,)
        if dataclasses.is_dataclass(default):
            yield from _paths(type(default), prefix + (name,))


def valid(key: str, value: str | None, section: str | None = None) -> bool:
    """key exists in the schema (relative keys: anywhere under `section`), or key=value selects a config group
    option (conf/<group>/<value>.yaml), or it is one of Hydra's own."""
    if key == "hydra" or key.startswith(("hydra.", "hydra/")):
        return True
    segments = key.split(".")
    if section is not None and segments[0] not in TOP:
        sub = _fields(Config).get(section)
        if not dataclasses.is_dataclass(sub):
            return False
        n = len(segments)
        return any(len(p) >= n and all(fnmatch.fnmatchcase(a, b) for a, b in zip(p[-n:], segments))
                   for p in _paths(type(sub)))
    nodes = _walk(Config, segments)
    if not nodes:
        return False
    if value is not None and len(segments) == 1 and any(dataclasses.is_dataclass(n) for n in nodes):
        if (CONF / key).is_dir():                     # a group selection: llm=openai, scorer=, finetune=full,cpu
            options = [v.strip("'\"") for v in value.split(",") if v.strip("'\"")]
            return all((CONF / key / f"{v}.yaml").is_file() for v in options)
        return False
    return True


def _is_file_name(key: str) -> bool:
    return "." in key and key.rsplit(".", 1)[1].lower() in FILE_EXTS


def _tokens(text: str, section: str | None):
    """(key, value, relative-to-section) for each config-key-looking token in a span of code."""
    for m in TOKEN.finditer(text):
        key, value = m.group(1), m.group(2)
        if "." not in key and value is None:
            continue                                   # a bare word (`split`, `full`): not a key reference
        if _is_file_name(key):
            continue
        first = key.split(".")[0]
        if first in TOP or first == "hydra":
            yield key, value, None
        elif section is not None and key.islower():
            yield key, value, section


def extract(markdown: str) -> list[tuple[str, str | None, str | None, int]]:
    """Config keys named by a markdown document: inline code anywhere, every line of fenced code blocks.
    Returns (key, value or None, section for relative keys or None, line number)."""
    out = []
    lines = markdown.splitlines()
    in_fence = False
    section = None
    for i, line in enumerate(lines, 1):
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
            section = None
            continue
        if in_fence:
            out += [(k, v, None, i) for k, v, _ in _tokens(line, None) if _ is None]
            continue
        if not line.strip():
            section = None
            continue
        if section is None and (i == 1 or not lines[i - 2].strip()):   # first line of a paragraph
            m = SECTION_PARA.match(line)
            section = m.group(1) if m else None
        for code in INLINE.findall(line):
            out += [(k, v, s, i) for k, v, s in _tokens(code, section)]
    return out


def describe(key, value, section, line) -> str:
    shown = key if value is None else f"{key}={value}"
    return f"README.md:{line}: `{shown}`" + (f" (under {section})" if section else "")


def test_extractor_finds_keys_and_ignores_paths():
    doc = "\n".join([
        "Set `split.difficulty.size` and `llm.concurrency`; files `data/export/full`, `metrics/split.json`,",
        "`params.yaml`, `callforge/core/config_schema.py`, `conf/dialogs/default.yaml`, `seed`.",
        "",
        "`split` (conf/split/) uses `holdout.unit`, `fetch=true` and `difficulty.bogus`.",
        "",
        "```bash",
        "dvc exp run -S llm=openai -S 'seed=0,1' -S scorer.base_url=http://x:8000/v1 hydra/launcher=joblib",
        "callforge build -m hydra.launcher.n_jobs=2 finetune=full,nope",
        "export OPENAI_API_KEY=...",
        "```",
    ])
    got = {(k, v, s) for k, v, s, _ in extract(doc)}
    assert got == {("split.difficulty.size", None, None), ("llm.concurrency", None, None),
                   ("holdout.unit", None, "split"), ("fetch", "true", "split"), ("difficulty.bogus", None, "split"),
                   ("llm", "openai", None), ("seed", "0,1'", None), ("scorer.base_url", "http://x:8000/v1", None),
                   ("hydra.launcher.n_jobs", "2", None), ("finetune", "full,nope", None)}
    verdict = {k: valid(k, v, s) for k, v, s in got}
    assert verdict == {"split.difficulty.size": False, "llm.concurrency": True, "holdout.unit": True,
                       "fetch": True, "difficulty.bogus": False, "llm": True, "seed": True,
                       "scorer.base_url": True, "hydra.launcher.n_jobs": True, "finetune": False}


@pytest.mark.parametrize("key, value, ok", [
    ("split.difficulty.samples", None, True),
    ("dialogs.steering.*_percentile", None, True),
    ("dialogs.mix.single", None, True),
    ("scorer", "", True),                       # naming the group (`scorer=` in a table header)
    ("scorer", "remote", True),
    ("scorer", "gpu", False),
    ("llm.nope", None, False),
    ("tracking.experiment", None, True),
    ("tracking", "x", False),                   # a section, not a group with options
])
def test_valid(key, value, ok):
    assert valid(key, value) is ok


def test_readme_names_only_keys_that_exist():
    found = extract((REPO / "README.md").read_text(encoding="utf-8"))
    keys = {k for k, *_ in found}
    assert {"llm.concurrency", "dialogs.samples", "llm"} <= keys, "the extractor found too little"
    bad = [describe(*t) for t in found if not valid(*t[:3])]
    assert not bad, "README.md names config keys that do not exist:\n" + "\n".join(bad)
