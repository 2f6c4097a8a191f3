"""dvc.yaml's deps and params are derived from the code, not remembered.

- Code: every project file a stage's script runs (its imports, followed through callforge/, plus the
  package data those modules read) must be a dep of the stage in dvc.yaml, or DVC would reuse the stage's
  outputs after a change that alters them. A listed code dep the stage no longer runs fails too (it
  re-runs the stage for nothing).
- Params: the harness hands a stage only the config sections dvc.yaml declares for it, so an undeclared
  read fails the stage loudly (tests below); a declared section the stage never reads is caught here too.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from callforge.core.pipeline import load_pipeline
from callforge.core.stage_deps import BESIDE_THE_DATA, code_deps, covered

ROOT = Path(__file__).resolve().parent.parent
STAGES = load_pipeline(ROOT)


def _script(spec) -> str:
    return spec.cmd.split()[-1]


@pytest.mark.parametrize("spec", STAGES, ids=[s.name for s in STAGES])
def test_dvc_yaml_lists_every_file_the_stage_runs(spec):
    needed = code_deps(_script(spec), ROOT)
    missing = sorted(f for f in needed if not covered(f, spec.deps))
    assert not missing, f"dvc.yaml stage {spec.name} is missing deps: {missing}"


@pytest.mark.parametrize("spec", STAGES, ids=[s.name for s in STAGES])
def test_dvc_yaml_lists_no_code_the_stage_does_not_run(spec):
    needed = code_deps(_script(spec), ROOT)
    code = [d for d in spec.deps if d.startswith(("callforge/", "stages/"))]
    unused = [d for d in code if not any(f == d or f.startswith(d.rstrip("/") + "/") for f in needed)]
    assert not unused, f"dvc.yaml stage {spec.name} lists code it never runs: {unused}"
    assert not set(code) & set(BESIDE_THE_DATA)


def test_the_derivation_follows_lazy_and_relative_imports(tmp_path):
    pkg = tmp_path / "callforge" / "pkg"
    pkg.mkdir(parents=True)
    (tmp_path / "callforge" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .b import x\n")
    (pkg / "b.py").write_text("def x():\n    from callforge.pkg import c\n")
    (pkg / "c.py").write_text('from importlib import resources\nresources.files("callforge.pkg")\n')
    (pkg / "unused.py").write_text("")
    (tmp_path / "stages").mkdir()
    (tmp_path / "stages" / "s.py").write_text("from callforge.pkg.a import x\n")
    assert code_deps("stages/s.py", tmp_path) == {
        "stages/s.py", "callforge/__init__.py", "callforge/pkg/__init__.py", "callforge/pkg/a.py",
        "callforge/pkg/b.py", "callforge/pkg/c.py", "callforge/pkg"}


def _project(tmp_path, monkeypatch, params: list[str]):
    import yaml
    cfg = yaml.safe_load((ROOT / "params.yaml").read_text())
    cfg["tracking"]["enabled"] = False
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(cfg))
    (tmp_path / "dvc.yaml").write_text(yaml.safe_dump(
        {"stages": {"probe": {"cmd": "python probe.py", "params": params, "outs": ["out.txt"]}}}))
    monkeypatch.chdir(tmp_path)


def test_a_stage_reading_an_undeclared_param_fails_naming_the_key(tmp_path, monkeypatch, capsys):
    from callforge.core.stage import main
    _project(tmp_path, monkeypatch, ["seed", "finetune.lr"])
    seen = {}

    def run(cfg, ctx):
        seen["declared"] = (cfg.seed, cfg.finetune.lr)
        return {"llm": cfg.llm.provider}         # not declared: must fail

    with pytest.raises(SystemExit) as e:
        main("probe", run)
    assert e.value.code == 2
    assert seen["declared"][1] > 0
    err = capsys.readouterr().err
    assert "`llm`" in err and "dvc.yaml does not declare" in err

    def run_other_leaf(cfg, ctx):
        return {"steps": cfg.finetune.max_steps}  # a sibling of the declared finetune.lr
    with pytest.raises(SystemExit):
        main("probe", run_other_leaf)
    assert "finetune.max_steps" in capsys.readouterr().err


def test_a_stage_reading_only_declared_params_runs(tmp_path, monkeypatch):
    from callforge.core.stage import main
    _project(tmp_path, monkeypatch, ["seed", "finetune.lr"])
    main("probe", lambda cfg, ctx: {"lr": cfg.finetune.lr, "seed": cfg.seed})
    import json
    assert json.loads((tmp_path / "metrics" / "probe.json").read_text())["seed"] == 0
