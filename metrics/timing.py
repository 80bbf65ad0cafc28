"""Where the evaluator's time goes: seconds accumulated per named phase."""

from __future__ import annotations

import collections
import contextlib
import time
from collections.abc import Iterable, Iterator


class PhaseTimer:
    def __init__(self):
        self.seconds = collections.defaultdict(float)

    @contextlib.contextmanager
    def phase(self, name: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - started

    def timed(self, items: Iterable, name: str) -> Iterator:
        """Yields from `items`, counting the time spent producing each item under `name`."""
        iterator = iter(items)
        while True:
            with self.phase(name):
                item = next(iterator, _END)
            if item is _END:
                return
            yield item

    def report(self) -> str:
        total = sum(self.seconds.values()) or 1.0
        return ", ".join(
            f"{name} {seconds:.1f} s ({100 * seconds / total:.0f}%)"
            for name, seconds in sorted(self.seconds.items(), key=lambda kv: -kv[1])
        )


_END = object()
