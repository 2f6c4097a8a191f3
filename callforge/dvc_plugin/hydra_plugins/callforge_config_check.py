"""Loaded by DVC's Hydra integration (`plugins_path` in .dvc/config) before it composes conf/ for
`dvc exp run -S key=value`.

Importing callforge.core.config registers the `callforge_check` resolver that conf/config.yaml's
`config_check` key calls: resolving the composition then checks it against callforge's typed schema
(unknown or added keys, wrong types, ranges, choices) before DVC touches any output. Under DVC the
error is also a DvcException, which DVC prints as a single `ERROR: <key>: <problem>` line.
"""
import sys

from callforge.core import config

if "dvc" in sys.modules:
    from dvc.exceptions import DvcException

    class DvcCompositionError(config.CompositionError, DvcException):
        pass

    config.resolver_error = DvcCompositionError
