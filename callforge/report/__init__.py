"""The HTML report: what a variant built, readable offline from file:// (stage `report`, `callforge report`).

sources (what the pipeline wrote) -> overview + charts (static, escaped HTML and SVG made here) and
browse (sample cards in sidecar chunk files) -> page (data/report/index.html with its CSS and JS inlined).
compare_page puts two or more variants' MLflow runs side by side.
"""
