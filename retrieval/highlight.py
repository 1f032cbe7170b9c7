"""Highlights: the sentence(s) of a passage that best answer the question, so a reader
sees the answer without reading the whole card."""

from __future__ import annotations

from retrieval.query import Query


def best_sentences(scored: list[tuple[float, str]], query: Query, k: int = 2) -> str:
    """Pick the best sentence by embedding similarity plus shared question terms;
    add the next best when it is nearly as good and adjacent. `scored` holds
    (similarity to the question, sentence) in passage order."""
    if not scored:
        return ""
    q = {t.stem for t in query.terms}

    def score(i: int) -> float:
        s, text = scored[i]
        st = query.stems_in(text) if q else None
        if not st:
            return s
        overlap = len(q & st) / len(q)
        return s + 0.3 * overlap

    ranked = sorted(range(len(scored)), key=score, reverse=True)
    best = ranked[0]
    chosen = [best]
    if k > 1 and len(ranked) > 1:
        second = ranked[1]
        if abs(second - best) == 1 and score(second) >= 0.85 * score(best):
            chosen.append(second)
    return " ".join(scored[i][1] for i in sorted(chosen))
