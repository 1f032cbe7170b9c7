"""A Searcher over another's index and model that records each call to the model."""

from __future__ import annotations

from retrieval.search import Searcher


def counting_searcher(searcher) -> tuple[Searcher, list[list[str]]]:
    """A fresh Searcher (nothing embedded yet) on `searcher`'s index and model, and the
    list of texts of each model call it makes."""
    calls: list[list[str]] = []
    model = searcher.embedder

    class Counting:
        name = model.name

        def encode(self, texts, *a, **kw):
            calls.append(list(texts))
            return model.encode(texts, *a, **kw)

    return Searcher(searcher.store, Counting(), searcher.config), calls
