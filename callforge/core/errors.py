"""The one error type callforge raises for bad input or bad config: a reason code plus a message.

A stage catches it at its top (callforge.core.stage.main) and prints one line, `callforge <stage>:
<code>: <message>`, with exit status 2. Per-sample problems are not raised: they become rows with a
reason code in the stage's rejected/dropped output.
"""
from __future__ import annotations


class CallforgeError(ValueError):
    """.code is a stable, dotted reason code (`<area>.<what>`); str() is "<code>: <message>"."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    def __reduce__(self):     # rebuilt as itself when raised in a worker process (ctx.map)
        return type(self), (self.code, self.message)
