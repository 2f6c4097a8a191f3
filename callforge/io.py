"""Atomic file output and JSON-lines I/O.

Every output is written to a temporary file beside its target and renamed into place, so a killed
stage never leaves a file that a later stage would take as complete.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator


@contextmanager
def atomic_open(path: Path | str, mode: str = "w"):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8", "newline": "\n"})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path | str, text: str) -> None:
    with atomic_open(path) as f:
        f.write(text)


def dumps(obj) -> str:
    """The one JSON encoding used for data files: compact, UTF-8, key order as built (deterministic)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def write_json(path: Path | str, obj, indent: int | None = 2) -> None:
    atomic_write_text(path, json.dumps(obj, ensure_ascii=False, indent=indent, sort_keys=indent is not None) + "\n")


def write_jsonl(path: Path | str, records: Iterable[dict]) -> int:
    n = 0
    with atomic_open(path) as f:
        for r in records:
            f.write(dumps(r))
            f.write("\n")
            n += 1
    return n


def iter_jsonl(path: Path | str) -> Iterator[dict]:
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def read_jsonl(path: Path | str) -> list[dict]:
    return list(iter_jsonl(path))


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def md5_file(path: Path | str) -> str:
    """md5 of a file, or of a folder the way DVC names it (md5 of its sorted file list + '.dir')."""
    path = Path(path)
    if path.is_dir():
        h = hashlib.md5()
        for p in sorted(x for x in path.rglob("*") if x.is_file()):
            h.update(f"{p.relative_to(path).as_posix()}:{md5_file(p)}\n".encode())
        return h.hexdigest() + ".dir"
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
