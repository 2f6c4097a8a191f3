"""Stage `split` (ToolACE §5): the training subsets and the held-out eval split, as id manifests.

    samples.py      what split reads of a sample (SampleMeta), the complexity scores, the API pool
    holdout.py      the held-out eval APIs and the samples that use only them
    decontam.py     dropping training samples that copy an evaluation (BFCL) question
    clusters.py     grouping the APIs into clusters (context tree, or description text)
    difficulty.py   easy / medium / hard by complexity (the target model's loss)
    diversity.py    div_low / div_medium / div_high from few / some / all API clusters
    manifest.py     the manifests data/split/<subset>.jsonl and each subset's stats
    stage.py        run(cfg, ctx): the stage, top to bottom

The subsets by name (export writes one folder per training subset):
"""
DIFFICULTY = ("easy", "medium", "hard")
DIVERSITY = ("div_low", "div_medium", "div_high")
TRAIN_SUBSETS = ("full", *DIFFICULTY, *DIVERSITY)
SUBSETS = (*TRAIN_SUBSETS, "eval")
