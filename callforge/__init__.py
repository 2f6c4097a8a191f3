"""callforge: a DVC + Hydra + MLflow build system for function-calling training data (the ToolACE method)."""
