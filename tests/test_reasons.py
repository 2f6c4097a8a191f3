"""One registry of reason codes (callforge/core/reasons.py): every code callforge can write or raise is in it.

The check is derived from the source, not remembered: every string constant in callforge/ shaped like a
code of a registered area (`<area>.<what>`) must be a registered code, except where the string is a seed
or request tag (arguments of derive / rng_for, a gateway request's `tag=` and `key=`), which name random
streams, not outcomes.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

from callforge.core import reasons

ROOT = Path(__file__).resolve().parent.parent
AREAS = {code.split(".")[0] for code in reasons.REASONS if "." in code}
CODE_SHAPED = re.compile(r"^([a-z]+)\.[a-z0-9_]+$")
NOT_OUTCOMES = {"derive", "rng_for"}       # seed derivation keys
FILE_NAME = re.compile(r"\.(yaml|json|jsonl|py|md|txt|gguf)$")


def _tags(tree: ast.AST) -> set[int]:
    """ids of constants used as seed keys or request tags."""
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in NOT_OUTCOMES:
                skip.update(id(a) for a in node.args)
            for k in node.keywords:
                if k.arg in ("tag", "key"):      # request tags and per-request seed keys
                    skip.update(id(c) for c in ast.walk(k.value))
    return skip


def code_strings() -> dict[str, str]:
    """code -> first place it appears, for every code-shaped constant in callforge/ outside the registry."""
    found = {}
    for path in sorted((ROOT / "callforge").rglob("*.py")):
        if path.name == "reasons.py":
            continue
        tree = ast.parse(path.read_text())
        skip = _tags(tree)
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
                    and (m := CODE_SHAPED.match(node.value)) and m.group(1) in AREAS
                    and not FILE_NAME.search(node.value)):
                found.setdefault(node.value, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_every_code_in_the_source_is_registered():
    found = code_strings()
    assert len(found) > 50, "the scan should see the codes the stages raise and record"
    missing = {c: where for c, where in found.items() if not reasons.describe(c)}
    assert not missing, f"reason codes used but not in callforge/core/reasons.py: {missing}"


def test_registry_entries_are_described_and_well_formed():
    for code, text in reasons.REASONS.items():
        assert text and not text[0].isupper() and not text.endswith("."), code
        assert re.match(r"^[a-z0-9_]+(\.[a-z0-9_<>*]+)?$", code), code


def test_describe_reads_http_statuses_as_one_code():
    assert reasons.describe("llm.http_503") == reasons.REASONS["llm.http_<status>"]
    assert reasons.describe("llm.no_such_thing") == ""


def test_readme_names_every_area():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Reason codes", 1)[-1].split("\n## ", 1)[0]
    assert "## Reason codes" in readme
    for area in sorted(AREAS):
        assert f"`{area}.`" in section, f"README's Reason codes section does not name the area {area}"
