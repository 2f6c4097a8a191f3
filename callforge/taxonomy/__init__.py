"""The API context tree (ToolACE's speciation): stage `taxonomy`.

    stage         run(cfg, ctx): params -> data/taxonomy.json
    context_tree  the offline tree, tree utilities, speciation with a model
    prompts       the speciation prompts and expected answer shapes
"""
