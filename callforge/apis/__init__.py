"""The API pool (ToolACE's tool self-evolution synthesis).

    vocab      parameter names -> typed JSON Schemas (offline writer)
    offline    the procedural API writer (provider "offline")
    llm        the model-driven API writer (through callforge.core.gateway)
    prompts    the model prompts and expected answer shapes
    operators  diversity operators of evolution
    rules      API-definition rules with reason codes
    dedup      near-duplicate index (MinHash buckets + exact Jaccard)
    pool       adaptation, evolution rounds, the example buffer, admission
    importers  OpenAI tools JSON, BFCL function docs, OpenAPI 3
    stats      pool statistics for metrics/apis.json
"""
