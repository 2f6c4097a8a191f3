"""ToolACE's subset ablation in one command (`callforge ablation`): fine-tune on each training subset
(full, easy / medium / hard by complexity, div_low / div_medium / div_high by API clusters), score every
tuned model on the same BFCL questions, and tabulate each against the baseline subset, paired.

run.py    the command: presets (conf/ablation/), shared upstream work, one train + evaluate per subset,
          resumable (data/ablation/<subset>/result.json, keyed by everything that shapes it)
table.py  the table (metrics/ablation.md and .json), the figure (metrics/ablation.png)
"""
