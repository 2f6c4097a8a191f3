"""Dialog generation (ToolACE §2): user, assistant and tool agents turn the API pool into
function-calling dialogs of six data types, with consistency voting and complexity steering.

    pool.py       the API pool: parameters, result fields, which results feed which parameters
    sampling.py   data type per sample, candidate APIs and distractors, arguments (and the config check)
    builders.py   skeletons (the plan of a dialog) for each data type
    render.py     offline words around a skeleton (user_agent.py, assistant_agent.py, tool_agent.py)
    llm_dialog.py the same plans played by a model through the gateway (prompts.py, voting.py)
    checks.py     every dialog must be well formed and really its data type
    steering.py   regenerate harder / simpler until the complexity score is inside the bounds
    generate.py   the offline engine (batches over the stage's ordered map of worker processes)
    stage.py      the stage: run(cfg, ctx)
"""
