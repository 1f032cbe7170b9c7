"""What was read of recent passages, kept by rowid: a question's steps read the same
passages again (its candidates, then abstention and the short answer read its hits'
sentences; a comparison's fallback answer reaches the passages its per-report searches
read), and a user who changes a filter asks the same question again."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable


class RowCache:
    """Values by rowid for the last `size` rowids used (the least recently used go
    first); thread-safe. The values must not be changed by those who read them."""

    def __init__(self, size: int):
        self.size = size
        self._values: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def found(self, rowids: Iterable[int]) -> dict:
        """The cached values of those of `rowids` that are cached."""
        out = {}
        with self._lock:
            values = self._values
            for r in rowids:
                v = values.get(r)
                if v is not None:
                    values.move_to_end(r)
                    out[r] = v
        return out

    def keep(self, values: dict) -> None:
        """Cache these values (rowid → value)."""
        with self._lock:
            self._values.update(values)
            for r in values:
                self._values.move_to_end(r)
            while len(self._values) > self.size:
                self._values.popitem(last=False)

    def __len__(self) -> int:
        return len(self._values)
