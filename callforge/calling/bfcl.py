"""BFCL benchmark data, read straight out of the `bfcl-eval` wheel (nothing from it is installed).

`pip download --no-deps bfcl-eval==<version>` fetches the wheel (~2 MB) once into a cache folder;
questions come from bfcl_eval/data/BFCL_v4_<category>.json and answers from
bfcl_eval/data/possible_answer/BFCL_v4_<category>.json (JSON lines). A folder with the same layout
(BFCL_v4_*.json + possible_answer/) works as a source too, e.g. ../shared/bfcl in tests.
Installing the package would pull a multi-GB dependency tree; reading its data needs none of it.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from callforge.core import reasons
from callforge.core.errors import CallforgeError

VERSION = "2026.3.23"
CATEGORIES = ("simple_python", "multiple", "parallel", "parallel_multiple", "irrelevance",
              "live_simple", "live_multiple")
_DATA = "bfcl_eval/data/"

CODES = reasons.BFCL    # the codes, with what each means: callforge/core/reasons.py


class BfclError(CallforgeError):
    """A bad input with a reason code (callforge.core.errors)."""


@dataclass
class Entry:
    id: str
    category: str
    messages: list[dict]                 # the first (only) turn: [{"role", "content"}, ...]
    functions: list[dict]                # as BFCL writes them (type "dict", "float", ...)
    ground_truth: list[dict] | None = field(default=None)   # None for irrelevance


def no_answer(category: str) -> bool:
    """Irrelevance categories (BFCL's, live_irrelevance, callforge_irrelevance) have no answer key:
    an entry passes iff the model makes no call."""
    return category.endswith("irrelevance")


def default_cache_dir() -> Path:
    base = os.environ.get("CALLFORGE_CACHE") or (Path.home() / ".cache" / "callforge")
    return Path(base) / "bfcl"


def fetch_wheel(cache_dir: str | Path | None = None, version: str = VERSION) -> Path:
    """The bfcl-eval wheel in `cache_dir`, downloaded with pip on first use."""
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    name = f"bfcl_eval-{version}-py3-none-any.whl"
    path = cache / name
    if path.is_file():
        return path
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:   # same filesystem: the rename is atomic
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "-q", "-d", tmp, f"bfcl-eval=={version}"]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        got = Path(tmp) / name
        if proc.returncode != 0 or not got.is_file():
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            raise BfclError("bfcl.fetch_failed", f"{' '.join(cmd[2:])}: {tail[0]}")
        _open_wheel(got).close()   # refuse to cache a broken download
        os.replace(got, path)
    return path


def _open_wheel(path: Path) -> zipfile.ZipFile:
    try:
        z = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise BfclError("bfcl.bad_wheel", f"{path}: {e}") from None
    if not any(n.startswith(_DATA + "BFCL_v4_") for n in z.namelist()):
        z.close()
        raise BfclError("bfcl.bad_wheel", f"{path}: no {_DATA}BFCL_v4_*.json inside")
    return z


class Source:
    """Where BFCL files are read from: a wheel (zip) or a folder with the data layout."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._zip = _open_wheel(self.path) if self.path.is_file() else None
        if self._zip is None and not self.path.is_dir():
            raise BfclError("bfcl.bad_wheel", f"{self.path} is neither a wheel nor a folder")

    def _read(self, rel: str) -> str | None:
        if self._zip is not None:
            try:
                return self._zip.read(_DATA + rel).decode("utf-8")
            except KeyError:
                return None
        p = self.path / rel
        return p.read_text(encoding="utf-8") if p.is_file() else None

    def categories(self) -> list[str]:
        names = (n[len(_DATA):] for n in self._zip.namelist()) if self._zip else \
            (p.name for p in self.path.glob("BFCL_v4_*.json"))
        return sorted(n[len("BFCL_v4_"):-len(".json")] for n in names
                      if n.startswith("BFCL_v4_") and n.endswith(".json") and "/" not in n)

    def load(self, category: str, with_answers: bool = True) -> list[Entry]:
        """Entries of a category; with_answers=False reads questions only (decontamination needs no key)."""
        text = self._read(f"BFCL_v4_{category}.json")
        if text is None:
            raise BfclError("bfcl.unknown_category", f"{category!r} not in {self.path}")
        answers: dict[str, list] = {}
        with_answers = with_answers and not no_answer(category)
        if with_answers:
            a_text = self._read(f"possible_answer/BFCL_v4_{category}.json")
            if a_text is None:
                raise BfclError("bfcl.unknown_category", f"no possible answers for {category!r}")
            answers = {row["id"]: row["ground_truth"] for row in _lines(a_text, f"answers {category}")}
        out = []
        for row in _lines(text, category):
            q = row.get("question")
            if not (isinstance(q, list) and q and isinstance(q[0], list) and isinstance(row.get("function"), list)):
                raise BfclError("bfcl.bad_line", f"{category} {row.get('id')}: question/function malformed")
            gt = None
            if with_answers:
                if row["id"] not in answers:
                    raise BfclError("bfcl.bad_line", f"{category} {row['id']}: no possible answer")
                gt = answers[row["id"]]
            out.append(Entry(row["id"], category, q[0], row["function"], gt))
        return out

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _lines(text: str, what: str) -> list[dict]:
    rows = []
    for i, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as e:
            raise BfclError("bfcl.bad_line", f"{what} line {i}: {e}") from None
        if not isinstance(row, dict) or "id" not in row:
            raise BfclError("bfcl.bad_line", f"{what} line {i}: not an object with an id")
        rows.append(row)
    return rows


def subsample(entries: list[Entry], n: int | None, seed: int) -> list[Entry]:
    """At most n entries, chosen by a seeded hash of each id (stable when entries are added or
    reordered), returned in source order. n None keeps all."""
    if n is None or n >= len(entries):
        return list(entries)
    rank = sorted(entries, key=lambda e: hashlib.sha256(f"{seed}:{e.category}:{e.id}".encode()).hexdigest())
    keep = {id(e) for e in rank[:max(n, 0)]}
    return [e for e in entries if id(e) in keep]


def load_benchmark(categories=CATEGORIES, per_category: int | None = None, seed: int = 0,
                   source: str | Path | None = None, cache_dir: str | Path | None = None) -> dict[str, list[Entry]]:
    """{category: entries} for the chosen categories, subsampled per category."""
    src_path = Path(source) if source else fetch_wheel(cache_dir)
    with Source(src_path) as src:
        return {c: subsample(src.load(c), per_category, seed) for c in categories}
