"""Keep the cyclic garbage collector's full passes short in a process that holds a large,
long-lived heap (the event history, the models' rows, every imported module).

A full (generation 2) pass walks every tracked object: on a 100,000-photo library that is a
100-130 ms stall of the event loop every few seconds, the worst of a page fetch's p99.
`gc.freeze()` moves the objects alive now into a permanent generation that passes skip;
reference counting still frees them when they go, only a cycle among them would stay.
"""

from __future__ import annotations

import gc


def settle_long_lived() -> None:
    """Collect once, then exempt every object alive now from later full passes."""
    gc.collect()
    gc.freeze()


def release_long_lived() -> None:
    """Return the frozen objects to the collector (the process's bridge stopped)."""
    gc.unfreeze()
