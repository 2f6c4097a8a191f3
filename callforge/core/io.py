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

import orjson


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Read once, at import (os.umask can only be read by setting it; doing it later, with threads about, would race).
UMASK = _read_umask()
FILE_MODE = 0o666 & ~UMASK     # what open() would give a new file: mkstemp's 0600 is for secrets, not outputs
DIR_MODE = 0o777 & ~UMASK


def mkstemp_public(**kwargs) -> tuple[int, str]:
    """tempfile.mkstemp, but the file gets ordinary permissions (0666 & ~umask) for when it is renamed into place."""
    fd, tmp = tempfile.mkstemp(**kwargs)
    try:
        os.fchmod(fd, FILE_MODE)
    except BaseException:
        os.close(fd)
        Path(tmp).unlink(missing_ok=True)
        raise
    return fd, tmp


def mkdtemp_public(**kwargs) -> str:
    """tempfile.mkdtemp, but the folder gets ordinary permissions (0777 & ~umask) for when it is renamed into place."""
    tmp = tempfile.mkdtemp(**kwargs)
    os.chmod(tmp, DIR_MODE)
    return tmp


@contextmanager
def atomic_open(path: Path | str, mode: str = "w"):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = mkstemp_public(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
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


class Md5Writer:
    """A binary output whose md5 (DVC's file digest) is kept as it is written: no second read to hash it.
    Small writes (a JSON line each) are gathered into blocks of BLOCK bytes before they reach the file
    and the hash: per-call costs, not bytes, dominate a million small writes. flush() before the file closes."""
    BLOCK = 1 << 20

    def __init__(self, f):
        self.f, self.md5, self.buf = f, hashlib.md5(), bytearray()

    def write(self, data: bytes) -> None:
        self.buf += data
        if len(self.buf) >= self.BLOCK:
            self.flush()

    def flush(self) -> None:
        if self.buf:
            self.f.write(self.buf)
            self.md5.update(self.buf)
            self.buf.clear()

    def hexdigest(self) -> str:
        return self.md5.hexdigest()


@contextmanager
def md5_output(path: Path | str):
    """An atomic binary output (atomic_open) through a Md5Writer, flushed before the file is closed."""
    with atomic_open(path, "wb") as f:
        out = Md5Writer(f)
        yield out
        out.flush()


def json_bytes(obj) -> bytes:
    """Compact UTF-8 JSON bytes, key order as built: orjson, or stdlib json for what orjson refuses
    (integers past 64 bits). Same text either way, so it also keys caches by content."""
    try:
        return orjson.dumps(obj)
    except TypeError:      # orjson.JSONEncodeError is a TypeError
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


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


def md5_file(path: Path | str, known: dict[str, str] | None = None) -> str:
    """The md5 dvc.lock records: of a file's bytes, or for a folder `<md5>.dir`, the md5 of the JSON list of
    its files ({"md5", "relpath"} sorted by path parts), which is how dvc-data hashes a tree (checked
    against a real dvc.lock in tests/test_tracking.py). `known`: md5s of files already hashed, by path."""
    path = Path(path)
    if path.is_dir():
        files = sorted((p.relative_to(path).parts, p) for p in path.rglob("*") if p.is_file())
        listing = [{"md5": (known or {}).get(str(p)) or md5_file(p), "relpath": "/".join(parts)} for parts, p in files]
        return hashlib.md5(json.dumps(listing, sort_keys=True).encode()).hexdigest() + ".dir"
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
