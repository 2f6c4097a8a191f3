"""DVC stage `report`: a static HTML report of the variant (counts, charts, every sample), readable offline.
Reads the pipeline's outputs and metrics; writes data/report/ (declared in dvc.yaml)."""
from callforge.core.stage import main
from callforge.report.stage import run

if __name__ == "__main__":
    main("report", run)
