"""Relevance in words: each cited passage is a "strong", "partial" or "weak" match,
instead of a ranking score a reader cannot interpret.

The words come from the ranking score through two thresholds fitted on the training
questions: "strong" where a passage at that score holds the gold evidence at least half
the time, "weak" where it does less than one time in five. In an abstained answer every
passage is "weak": the abstainer has judged that none answers. Serving only reads the
fitted thresholds (retrieval/data/relevance.json); `reportqa-fit relevance` fits them
(fitting/relevance.py).
"""

from __future__ import annotations

#: The words, best first, and what the UI says of each.
WORDS = ("strong", "partial", "weak")
#: Share of passages holding the evidence at the threshold's score.
STRONG_PRECISION = 0.5
WEAK_PRECISION = 0.2


def match_word(score: float, thresholds: dict, abstained: bool) -> str:
    """The relevance word of a passage with this ranking score: "weak" for every
    passage of an abstained answer; "" when no thresholds are fitted for the index's
    model (its scores are on another scale; then only the order says anything)."""
    if abstained:
        return "weak"
    if not thresholds:
        return ""
    if score >= float(thresholds["strong"]):
        return "strong"
    if score >= float(thresholds["partial"]):
        return "partial"
    return "weak"


