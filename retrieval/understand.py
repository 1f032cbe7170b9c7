"""A question read against one index: parsed (retrieval/query.py) with the index's
words, forces and years; the texts it is embedded as; and, for words the corpus never
uses, the nearest corpus words by the embedding model ("happy" → "satisfied")."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from retrieval.query import Query, bridgeable, bridged, parse

#: Embeds texts: a list of vectors for a list of texts.
Embed = Callable[[list[str]], list[np.ndarray]]

#: Nearest corpus words for a question word the corpus never uses: at most this many,
#: each at least this similar ("happy" → "satisfied").
BRIDGE_K, BRIDGE_MIN = 2, 0.6
#: A word in at least this share of passages is setting, not subject ("crime" in a
#: crime inspection, the force's own name).
SUBJECT_MAX_SHARE = 0.5


class QueryTexts(NamedTuple):
    """The texts a question is embedded as: itself, and itself without its absent words
    (abstention's absent_gain compares the two). Its subject and its absent words alone
    were embedded too, for two more abstention signals; out of family they changed
    nothing (shipped unanswerable abstained 0.40 with them, 0.39 without, near-miss 0.15
    and 0.17; archive, filings and dev2 the same) and cost a fifth of a new question's
    model time (docs/performance.md)."""

    #: The question as searched.
    full: str
    #: The question without its absent words (None when none is absent).
    reduced: str | None


def query_texts(query: Query) -> QueryTexts:
    """The question, and the question without its absent words."""
    absent = {t.word for t in query.absent}
    reduced = None
    if absent:
        kept = [w for w in query.embed_text.split() if w.lower().strip("()") not in absent]
        reduced = " ".join(kept) or None
    return QueryTexts(query.embed_text, reduced)


def subject_terms(query: Query, n_passages: int) -> list:
    """The question's subject terms that a sentence must meet to answer it
    (retrieval/answerability.py): in the index, no number, and not setting."""
    n = max(1, n_passages)
    return [t for t in query.terms if t.present and not any(c.isdigit() for c in t.word)
            and t.df < SUBJECT_MAX_SHARE * n]


def understand(store, embed: Embed, question: str, context: str | None = None) -> Query:
    """The question read against the index in `store`. Everything it needs embedded —
    itself, without its absent words, the absent words (for their nearest corpus
    words), its subject words that have no vocabulary vector (answerability) — goes to
    the model in one call (a call of its own costs 2-4 ms more). (Embedding the texts
    only abstention wants in the background, beside the search, gained nothing
    measurable on two cores, measured again with one BLAS thread: p95 40.2 against
    39.6 ms at 100k, interleaved.)"""
    query = parse(question, store.lexicon, context=context, bodies=store.bodies,
                  report_years=store.report_years)
    words = bridgeable(query)
    n = store.faiss.ntotal
    unknown = [t.word for t in subject_terms(query, n) if t.word not in store.vocab_index]
    embed([t for t in query_texts(query) if t] + words + unknown)
    return bridged(query, bridge(store, embed, words)) if words else query


def bridge(store, embed: Embed, words: list[str]) -> dict[str, tuple[float, tuple[str, ...]]]:
    """For question words the corpus never uses: the similarity of the nearest corpus
    word by the embedding model, and the nearest words close enough to stand in for
    them in search."""
    vv = store.vocab_matrix
    if vv is None or not words or not len(store.vocab):
        return {}
    tv = np.vstack(embed(words))
    sims = np.asarray(vv @ tv.T, dtype=np.float32)  # (vocab, words)
    out = {}
    k = min(BRIDGE_K, len(store.vocab) - 1)
    for i, w in enumerate(words):
        col = sims[:, i]
        top = np.argpartition(-col, k)[:BRIDGE_K]
        top = top[np.argsort(-col[top])]
        out[w] = (float(col[top[0]]),
                  tuple(store.vocab[j] for j in top if col[j] >= BRIDGE_MIN))
    return out
