"""What a DVC stage's code depends on, derived from its imports (so dvc.yaml's deps are checked, not remembered).

From `stages/<name>.py`, follow every `import callforge...` (also those inside functions: they run too)
through the package's modules, and add the package data those modules read with
`importlib.resources.files("callforge.<pkg>")`. The result is the set of project files whose change must
re-run the stage. tests/test_dvc_deps.py compares it with dvc.yaml.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

# Machinery a stage imports that cannot change what it writes, only how the run is recorded or scheduled:
# listing them in dvc.yaml would re-run the whole pipeline for a change in how MLflow is logged.
BESIDE_THE_DATA = {
    "callforge/core/tracking.py": "logs the stage to MLflow",
    "callforge/core/pipeline.py": "reads dvc.yaml's stage list (for tracking and shards)",
    "callforge/core/gc_pause.py": "decides when Python collects garbage",
}

_RESOURCE = re.compile(r"""resources\.files\(\s*["'](callforge(?:\.\w+)*)["']\s*\)""")


def _module_file(root: Path, dotted: str) -> Path | None:
    base = root / dotted.replace(".", "/")
    for p in (base.with_suffix(".py"), base / "__init__.py"):
        if p.is_file():
            return p
    return None


def _imports(path: Path) -> set[str]:
    """Dotted callforge modules `path` imports (each `from pkg import name` may name a module or an attribute)."""
    tree = ast.parse(path.read_text(), str(path))
    pkg = None
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("callforge"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:      # relative: resolve against this file's package
                if pkg is None:
                    parts = path.with_suffix("").parts
                    pkg = ".".join(parts[parts.index("callforge"):-1] if path.name != "__init__.py"
                                   else parts[parts.index("callforge"):-1])
                base = pkg.rsplit(".", node.level - 1)[0] if node.level > 1 else pkg
                mod = f"{base}.{node.module}" if node.module else base
            else:
                mod = node.module or ""
            if mod.startswith("callforge"):
                out.add(mod)
                out.update(f"{mod}.{a.name}" for a in node.names)
    return out


def code_deps(script: str | Path, root: Path = Path(".")) -> set[str]:
    """Project files (relative to root, POSIX) that `script` runs: itself, every callforge module it reaches
    (with the __init__.py of each package on the way) and the package data those modules read, less the
    machinery in BESIDE_THE_DATA."""
    root = Path(root)
    todo, seen, files = [root / script], set(), set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        files.add(path.relative_to(root).as_posix())
        for pkg in _RESOURCE.findall(path.read_text()):
            files.add(pkg.replace(".", "/"))
        for dotted in _imports(path):
            parts = dotted.split(".")
            for i in range(1, len(parts) + 1):      # importing a.b.c runs a, a.b and a.b.c
                f = _module_file(root, ".".join(parts[:i]))
                if f is not None:
                    todo.append(f)
    return files - set(BESIDE_THE_DATA)


def covered(path: str, deps: list[str]) -> bool:
    """Whether dvc.yaml's deps name `path` itself or a folder above it."""
    return any(path == d or path.startswith(d.rstrip("/") + "/") for d in deps)
