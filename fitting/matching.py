"""The gold-set matching rule (docs/answers.md, "Answer quality"): a passage answers
an evidence item if it holds the item after NFKC, curly quotes and all dashes
unified, all whitespace removed and case ignored; only its first 350 words count;
a list item needs all of its strings in the same passage."""

from __future__ import annotations

import re
import unicodedata

_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"',
                         "„": '"', "‟": '"', "′": "'", "″": '"'})
_DASHES = re.compile(r"[\u2010-\u2015\u2212\u2043\ufe58\ufe63\uff0d-]")


def norm(text: str) -> str:
    """Normalise text for evidence matching."""
    t = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    t = _DASHES.sub("-", t)
    return re.sub(r"\s+", "", t).lower()


def passage_window(text: str, words: int = 350) -> str:
    """The part of a passage that counts: its first 350 words, normalised."""
    return norm(" ".join(text.split()[:words]))


def item_in(item: str | list[str], normalised_passage: str) -> bool:
    """Whether one evidence item (string or list of strings) is in a passage."""
    if isinstance(item, str):
        return norm(item) in normalised_passage
    return all(norm(s) in normalised_passage for s in item)


def answers(evidence: list, passage_text: str) -> bool:
    """Whether a passage holds any of the evidence items."""
    w = passage_window(passage_text)
    return any(item_in(it, w) for it in evidence)


def answers_question(q: dict, text: str, source_file: str = "",
                     pdf_pages: tuple[int, ...] = ()) -> bool:
    """Whether a passage answers a gold question: it holds an evidence item; or, for a
    question that gives no evidence text but evidence pages (`file`,
    `evidence_pdf_pages`, 1-based), the passage comes from that file and covers one of
    them (a page holds more than the answer: text evidence, where given, is exact)."""
    ev = q.get("evidence") or []
    if ev:
        return answers(ev, text)
    pages, file = q.get("evidence_pdf_pages"), q.get("file")
    if not pages or not file:
        return False
    name = source_file.replace("\\", "/").rsplit("/", 1)[-1]
    return name.lower() == str(file).lower() and bool(set(pdf_pages) & set(pages))
