"""The one ordered parallel map every stage uses (through its context, `ctx.map`).

    for result in ordered_map(work, items, workers=4, init=setup, initargs=(settings,)):
        ...

Results come back in input order, so output never depends on the worker count. With workers <= 1 the
work runs in this process (init too, once). Otherwise a fork pool runs it: workers start at once with
the parent's modules and state already loaded. At most `ahead` items per worker are in flight, so a
lazy input is read only as fast as results are consumed and memory stays bounded. When a work item
raises, the items already in flight still finish (so their own clean-up runs) before the error reaches
the caller.
"""
from __future__ import annotations

import multiprocessing
from collections import deque
from typing import Callable, Iterable, Iterator


def ordered_map(fn: Callable, items: Iterable, workers: int = 1, *, init: Callable | None = None,
                initargs: tuple = (), ahead: int = 2) -> Iterator:
    if workers <= 1:
        if init is not None:
            init(*initargs)
        for item in items:
            yield fn(item)
        return
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    pool = multiprocessing.get_context(method).Pool(workers, init, initargs)
    try:
        pending, inflight = iter(items), deque()

        def submit() -> None:
            for item in pending:
                inflight.append(pool.apply_async(fn, (item,)))
                return
        for _ in range(ahead * workers):
            submit()
        while inflight:
            try:
                result = inflight.popleft().get()
            except BaseException:
                pool.close()
                pool.join()
                raise
            submit()
            yield result
        pool.close()
        pool.join()
    finally:
        pool.terminate()
