"""Throughput of the executability layer on the BFCL call cases (make_cases.py: ground truths + mutants).

    .venv/bin/python bench/bench_executability.py [--data ../shared/bfcl] [--repeat 7]

The headline figure ("layer_calls_per_s", per wall second; "per_cpu_second" beside it) is the full layer as a caller meets it: per case, find
the compiled index for its raw BFCL tool list (content-keyed cache), then check every call
(name lookup, schema, constraints, and the reasons for mutants). The references put the issue's
jsonschema / jsonschema-rs figures next to it on this machine. Merged into bench/results.json
under "executability".
"""
from __future__ import annotations

import argparse
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import jsonschema  # noqa: E402
import jsonschema_rs  # noqa: E402

import callforge.calling.executability as ex  # noqa: E402
from callforge.calling.tools import normalise_tool  # noqa: E402


def best_rate(n_items: int, fn, repeat: int) -> tuple[float, float]:
    """(items per wall second, items per CPU second of this process), best of `repeat` runs.
    On a shared box the wall figure falls with other people's load; the CPU figure does not."""
    wall = cpu = float("inf")
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall = min(wall, time.perf_counter() - t)
        cpu = min(cpu, time.process_time() - c)
    return n_items / wall, n_items / max(cpu, 1e-9)


def machine() -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    u = platform.uname()
    return {"processor": platform.processor() or model, "cpu_model": model, "cpu_count": os.cpu_count(),
            "uname": f"{u.system} {u.release} {u.machine}", "python": platform.python_version(),
            "load_avg_1m": round(os.getloadavg()[0], 2)}  # other work on the box slows every figure


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "bfcl"))
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--out", default=str(REPO / "bench" / "results.json"))
    a = ap.parse_args()
    data = Path(a.data)
    if not (data / "make_cases.py").exists():
        print(f"no BFCL data at {data}; pass --data", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory() as tmp:
        cases_file = Path(tmp) / "cases.jsonl"
        subprocess.run([sys.executable, str(data / "make_cases.py"), str(data), str(cases_file)],
                       check=True, capture_output=True)
        raw_lines = cases_file.read_bytes()
    rows = [json.loads(x) for x in raw_lines.splitlines()]
    gt = [r for r in rows if r["expect_ok"]]
    n_calls = sum(len(r["calls"]) for r in rows)
    n_gt = sum(len(r["calls"]) for r in gt)

    def layer(rs=rows):
        for r in rs:
            ex.index_for(r["tools"]).check(r["calls"])

    def cold():
        ex._tool_cache.clear()
        ex._index_cache.clear()
        layer()

    def fast():
        for r in rows:
            ex.index_for(r["tools"]).ok(r["calls"])

    indexes = [ex.index_for(r["tools"]) for r in rows]

    def prebuilt():
        for r, idx in zip(rows, indexes):
            idx.check(r["calls"])

    # References: one plain JSON Schema per tool (unknown arguments forbidden), validity only.
    plain = [{t["name"]: {**t["parameters"], "additionalProperties": False}
              for t in map(normalise_tool, r["tools"])} for r in rows]
    pairs = [(p.get(c["name"]), c["arguments"]) for r, p in zip(rows, plain) for c in r["calls"]]
    rs_pre = [(jsonschema_rs.validator_for(s) if s else None, args) for s, args in pairs]
    py_pre = [(jsonschema.Draft202012Validator(s) if s else None, args) for s, args in pairs]

    def rs_prebuilt():
        for v, args in rs_pre:
            v is not None and v.is_valid(args)

    def rs_per_call():
        for s, args in pairs:
            s is not None and jsonschema_rs.validator_for(s).is_valid(args)

    def py_prebuilt():
        for v, args in py_pre:
            v is not None and v.is_valid(args)

    def py_per_call():
        for s, args in pairs:
            s is not None and jsonschema.Draft202012Validator(s).is_valid(args)

    def command():
        path = Path(tempfile.mkstemp(suffix=".jsonl")[1])
        try:
            path.write_bytes(raw_lines)
            ex.check_calls_command(str(path), io.StringIO())
        finally:
            path.unlink()

    layer()  # warm the caches: the steady state is what a long run sees
    rep = a.repeat
    rates = {
        "layer_calls_per_s": best_rate(n_calls, layer, rep),
        "layer_ground_truth_calls_per_s": best_rate(n_gt, lambda: layer(gt), rep),
        "layer_ok_only_calls_per_s": best_rate(n_calls, fast, rep),
        "layer_prebuilt_index_calls_per_s": best_rate(n_calls, prebuilt, rep),
        "layer_cold_cache_calls_per_s": best_rate(n_calls, cold, 3),
        "command_lines_per_s": best_rate(len(rows), command, 3),
        "ref_jsonschema_rs_prebuilt_calls_per_s": best_rate(n_calls, rs_prebuilt, rep),
        "ref_jsonschema_rs_per_call_calls_per_s": best_rate(n_calls, rs_per_call, 3),
        "ref_jsonschema_prebuilt_calls_per_s": best_rate(n_calls, py_prebuilt, 3),
        "ref_jsonschema_per_call_calls_per_s": best_rate(n_calls, py_per_call, 3),
    }
    result = {"cases": len(rows), "calls": n_calls, "ground_truth_calls": n_gt, "repeat": rep,
              **{k: round(v[0]) for k, v in rates.items()},
              "per_cpu_second": {k: round(v[1]) for k, v in rates.items()},
              "target_calls_per_s": 100_000, "machine": machine()}

    w = max(map(len, rates))
    print(f"{len(rows)} cases, {n_calls} calls ({n_gt} in ground truths), best of {rep}; "
          f"load average {result['machine']['load_avg_1m']}")
    print(f"  {'':<{w}}  {'per wall s':>12}  {'per CPU s':>12}")
    for k, (wall, cpu) in rates.items():
        print(f"  {k:<{w}}  {wall:>12,.0f}  {cpu:>12,.0f}")

    out = Path(a.out)
    merged = json.loads(out.read_text()) if out.exists() else {}
    merged["executability"] = result
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n")
    tmp.replace(out)
    print(f"merged into {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
