"""Reading BFCL data out of a wheel or a folder, and deterministic per-category subsampling."""
from __future__ import annotations

import json
import zipfile

import pytest

from callforge.calling import bfcl
from callforge.calling.bfcl import BfclError, Source, subsample


def _lines(rows):
    return "\n".join(json.dumps(r) for r in rows) + "\n"


def make_wheel(path, n=30):
    qs = [{"id": f"simple_python_{i}", "question": [[{"role": "user", "content": f"q{i}"}]],
           "function": [{"name": "f", "parameters": {"type": "dict", "properties": {"x": {"type": "integer"}},
                                                     "required": ["x"]}}]} for i in range(n)]
    ans = [{"id": f"simple_python_{i}", "ground_truth": [{"f": {"x": [i]}}]} for i in range(n)]
    irr = [{"id": f"irrelevance_{i}", "question": [[{"role": "user", "content": "hi"}]], "function": qs[0]["function"]}
           for i in range(5)]
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("bfcl_eval/__init__.py", "")
        z.writestr("bfcl_eval/data/BFCL_v4_simple_python.json", _lines(qs))
        z.writestr("bfcl_eval/data/possible_answer/BFCL_v4_simple_python.json", _lines(ans))
        z.writestr("bfcl_eval/data/BFCL_v4_irrelevance.json", _lines(irr))
    return path


def test_reads_questions_and_answers_from_a_wheel(tmp_path):
    wheel = make_wheel(tmp_path / "bfcl_eval-0-py3-none-any.whl")
    with Source(wheel) as src:
        assert src.categories() == ["irrelevance", "simple_python"]
        simple = src.load("simple_python")
        irr = src.load("irrelevance")
        with pytest.raises(BfclError) as e:
            src.load("live_simple")
        assert e.value.code == "bfcl.unknown_category"
    assert len(simple) == 30 and simple[3].ground_truth == [{"f": {"x": [3]}}]
    assert simple[3].messages == [{"role": "user", "content": "q3"}]
    assert all(e.ground_truth is None for e in irr)


def test_reads_the_shared_folder(shared_bfcl):
    b = bfcl.load_benchmark(["simple_python", "parallel", "irrelevance"], per_category=7, seed=3, source=shared_bfcl)
    assert {k: len(v) for k, v in b.items()} == {"simple_python": 7, "parallel": 7, "irrelevance": 7}
    assert all(e.ground_truth for e in b["parallel"])


def test_subsample_is_seeded_stable_and_in_source_order(tmp_path):
    with Source(make_wheel(tmp_path / "w.whl")) as src:
        entries = src.load("simple_python")
    a = subsample(entries, 10, seed=1)
    assert {e.id for e in a} == {e.id for e in subsample(list(reversed(entries)), 10, seed=1)}
    assert [e.id for e in a] == [e.id for e in entries if e.id in {x.id for x in a}]   # source order
    assert {e.id for e in a} != {e.id for e in subsample(entries, 10, seed=2)}
    # adding entries never swaps out a chosen one unless a new one ranks higher
    assert {e.id for e in subsample(entries[:20], 5, seed=1)} <= {e.id for e in subsample(entries[:20], 6, seed=1)}
    assert subsample(entries, None, 0) == entries and subsample(entries, 0, 0) == []


def test_bad_sources_have_codes(tmp_path):
    bad = tmp_path / "x.whl"
    bad.write_bytes(b"not a zip")
    with pytest.raises(BfclError) as e:
        Source(bad)
    assert e.value.code == "bfcl.bad_wheel"
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "BFCL_v4_simple_python.json").write_text('{"id": "a", "question": [[]], "function": []}\nnot json\n')
    (folder / "possible_answer").mkdir()
    (folder / "possible_answer" / "BFCL_v4_simple_python.json").write_text('{"id": "a", "ground_truth": []}\n')
    with pytest.raises(BfclError) as e:
        Source(folder).load("simple_python")
    assert e.value.code == "bfcl.bad_line"


def test_fetch_reuses_a_cached_wheel(tmp_path):
    name = f"bfcl_eval-{bfcl.VERSION}-py3-none-any.whl"
    make_wheel(tmp_path / name)
    assert bfcl.fetch_wheel(tmp_path) == tmp_path / name   # no pip run: it is already there
