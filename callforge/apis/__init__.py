"""The API pool (ToolACE's tool self-evolution synthesis): stage `apis`.

    stage           run(cfg, ctx): data/taxonomy.json -> data/apis.jsonl, data/apis_rejected.jsonl
    pool            adaptation, evolution rounds, the example buffer, admission
    self_evolution  diversity operators of evolution
    vocab           parameter names -> typed JSON Schemas (offline writer)
    offline         the procedural API writer (provider "offline")
    llm             the model-driven API writer (through callforge.core.gateway)
    prompts         the API writer's prompt and expected answer shape
    rules           API-definition rules with reason codes
    dedup           near-duplicate index (MinHash buckets + exact Jaccard)
    importers       OpenAI tools JSON, BFCL function docs, OpenAPI 3
    stats           pool statistics for metrics/apis.json
"""
