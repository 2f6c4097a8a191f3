"""Outputs written atomically get ordinary permissions (0666 & ~umask), not mkstemp's private 0600."""
from __future__ import annotations

import os
import stat

import pytest

from callforge.core import io


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_umask_read_at_import_is_left_unchanged():
    assert io.UMASK == current_umask()


@pytest.mark.parametrize("write", [
    lambda p: io.atomic_write_text(p, "x\n"),
    lambda p: io.write_json(p, {"a": 1}),
    lambda p: io.write_jsonl(p, [{"a": 1}]),
])
def test_atomic_writes_get_ordinary_file_mode(tmp_path, write):
    path = tmp_path / "sub" / "out.json"
    write(path)
    assert mode(path) == 0o666 & ~current_umask()
    assert [p.name for p in path.parent.iterdir()] == ["out.json"]     # no temp file left behind


def test_binary_atomic_open_and_replacing_a_private_file(tmp_path):
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")
    os.chmod(path, 0o600)
    with io.atomic_open(path, "wb") as f:
        f.write(b"new")
    assert path.read_bytes() == b"new"
    assert mode(path) == 0o666 & ~current_umask()


def test_failed_write_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError):
        with io.atomic_open(tmp_path / "out.txt") as f:
            f.write("partial")
            raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_temp_folder_gets_ordinary_dir_mode(tmp_path):
    d = io.mkdtemp_public(dir=tmp_path, prefix=".adapter.")
    assert mode(d) == 0o777 & ~current_umask()
