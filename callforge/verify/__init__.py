"""Dual-layer verification (ToolACE §4): a rule layer of small named checks, then LLM judges.

rules.py   the named checks, each `(SampleView) -> list of reason codes`
judges.py  the model layer: three LLM judges through the gateway
runner.py  runs both layers, keeps every reason code per sample, counts pass rates and drops
stage.py   the stage's entry point, run(cfg, ctx): data/dialogs.jsonl in, verified and rejected rows out
"""
