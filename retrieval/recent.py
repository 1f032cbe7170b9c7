"""The one least-recently-used cache of retrieval, thread-safe: a question's readings
and its passages' scores (retrieval/search.py), the vectors of its texts
(retrieval/embedding_cache.py), and what a Store read of recent passages and which
passages a filter allows (retrieval/store.py). A question's steps read the same things
again (its candidates, then abstention and the short answer read its hits' sentences;
a comparison's fallback answer reaches the passages its per-report searches read), and
a user who changes a filter asks the same question again."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable


class Recent:
    """The values of the last `size` keys used (the least recently used go first).
    The values must not be changed by those who read them."""

    def __init__(self, size: int):
        self.size = size
        self._values: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, make: Callable):
        """The value of `key`, made by `make` when not kept (outside the lock: making
        one can take milliseconds; two threads making the same key keep the first)."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = make()
        with self._lock:
            value = self._values.setdefault(key, value)
            self._trim()
            return value

    def found(self, keys: Iterable) -> dict:
        """The kept values of those of `keys` that are kept."""
        out = {}
        with self._lock:
            values = self._values
            for k in keys:
                if k in values:
                    values.move_to_end(k)
                    out[k] = values[k]
        return out

    def keep(self, values: dict) -> None:
        """Keep these values (key → value)."""
        with self._lock:
            self._values.update(values)
            for k in values:
                self._values.move_to_end(k)
            self._trim()

    def clear(self) -> None:
        """Forget every value."""
        with self._lock:
            self._values.clear()

    def _trim(self) -> None:
        while len(self._values) > self.size:
            self._values.popitem(last=False)

    def __len__(self) -> int:
        return len(self._values)
