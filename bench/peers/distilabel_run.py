"""distilabel's side of bench/bench_peers.py, run by the python of distilabel's own virtualenv (never a
callforge dependency; this file imports nothing of callforge).

    <distilabel venv>/bin/python bench/peers/distilabel_run.py JOB.json   # prints one JSON line

JOB.json: {"mode": "textgen" | "apigen", "base_url", "concurrency", "rows": [...], "cache_dir"}
- textgen: TextGeneration with OpenAILLM over rows of {"instruction"}: one request each.
- apigen: APIGenGenerator, then APIGenSemanticChecker (distilabel's APIGen steps) over rows of
  {examples, func_name, func_desc, tools, execution_result}: two requests each; the execution checker
  needs the functions as Python code, which a pool of described APIs does not have, so it is left out.
Both steps take batches of `concurrency` rows (distilabel sends a batch's requests at once). The figures
cover `pipeline.run` (its worker processes included): wall seconds, CPU seconds, rows kept.
"""
from __future__ import annotations

import json
import logging
import resource
import sys
import time
from importlib.metadata import version


def _cpu() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main(job_path: str) -> None:
    from distilabel.models import OpenAILLM
    from distilabel.pipeline import Pipeline
    from distilabel.steps import LoadDataFromDicts
    from distilabel.steps.tasks import APIGenGenerator, APIGenSemanticChecker, TextGeneration

    job = json.loads(open(job_path).read())
    c = job["concurrency"]

    def llm():
        return OpenAILLM(model="bench", base_url=job["base_url"], api_key="unset", max_retries=0, timeout=120,
                         generation_kwargs={"max_new_tokens": 1024, "temperature": 0.7})

    with Pipeline(name=f"bench-{job['mode']}", cache_dir=job["cache_dir"]) as pipeline:
        load = LoadDataFromDicts(data=job["rows"], batch_size=c)
        if job["mode"] == "textgen":
            load >> TextGeneration(llm=llm(), input_batch_size=c)
        else:
            load >> APIGenGenerator(llm=llm(), input_batch_size=c, number=1, use_default_structured_output=False) \
                >> APIGenSemanticChecker(llm=llm(), input_batch_size=c)
    t0, c0 = time.perf_counter(), _cpu()
    distiset = pipeline.run(use_cache=False)
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    rows = list(distiset["default"]["train"])
    if job["mode"] == "textgen":
        kept = sum(1 for r in rows if r.get("generation"))
    else:
        kept = sum(1 for r in rows if r.get("keep_row_after_semantic_check"))
    print(json.dumps({"wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "rows": len(rows), "kept": kept,
                      "versions": {"distilabel": version("distilabel"), "openai": version("openai")}}))


if __name__ == "__main__":
    logging.disable(logging.WARNING)
    main(sys.argv[1])
