"""Registers callforge's typed schema with Hydra, so that every composition of conf/ is checked.

conf/config.yaml names `callforge_schema` first in its defaults list: the composed config is then
merged onto `callforge.config_schema.Config` *during composition*, so a wrong type or an unknown key
(also `+new.key=...`) fails there, and resolving it runs the range checks. That matters for
`dvc exp run -S ...`: DVC composes conf/ itself (its Hydra integration) and only afterwards starts
removing outputs. DVC finds this module through `plugins_path` in .dvc/config; callforge's own
composition (callforge.config.compose) imports it directly.
"""
from callforge.config import register_schema

register_schema()
