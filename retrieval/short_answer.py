"""The short answer above the cited cards: one or two sentences taken verbatim from the
best passages' highlighted sentences, each followed by the marker of the passage it
comes from ("… [1] … [2]"). Nothing is generated: every word is the report's. When the
answer abstains, the reason takes its place.

A second sentence is added only when it brings something: it comes from another
passage that is itself a strong match, it is not a restatement of the first (word
overlap), and the two stay short enough to read at a glance."""

from __future__ import annotations

import re
from dataclasses import dataclass

from retrieval.answer import NO_ANSWER, Answer, Hit
from retrieval.text import stem, tokens

#: Above this many words the first sentence stands alone.
MAX_WORDS = 70
#: A sentence sharing more than this share of its content words with the first is
#: a restatement (summary bullets restate findings), not a second point.
MAX_OVERLAP = 0.5
#: How far down the ranking a second sentence may come from.
SECOND_FROM = 3

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9“\"‘(])")


@dataclass(frozen=True)
class ShortAnswer:
    """The short answer: its parts (verbatim text, passage rank or None for the
    abstention reason), the joined text with markers, and the ranks cited."""

    parts: tuple[tuple[str, int | None], ...]

    @property
    def text(self) -> str:
        """The parts joined, each cited part followed by its marker: "… [1] … [2]"."""
        return " ".join(t if r is None else f"{t} [{r}]" for t, r in self.parts)

    @property
    def cites(self) -> tuple[int, ...]:
        """The passage ranks cited, in order."""
        return tuple(r for _, r in self.parts if r is not None)

    def to_dict(self) -> dict:
        """README's `short_answer` object."""
        return {"text": self.text, "cites": list(self.cites)}


def sentences(text: str) -> list[str]:
    """Text split into sentences at a full stop, question or exclamation mark followed
    by a capital, digit or quote (a highlight is whole sentences of the passage)."""
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]


def _terms(text: str) -> set[str]:
    return {stem(t) for t in tokens(text) if len(t) > 2}


def _restates(sentence: str, chosen: list[str]) -> bool:
    words = _terms(sentence)
    if not words:
        return True
    return any(len(words & _terms(c)) / len(words) > MAX_OVERLAP for c in chosen)


def _lead(hit: Hit) -> str:
    """A passage's highlighted sentences, or its first sentence when it has none."""
    if hit.highlight.strip():
        return " ".join(hit.highlight.split())
    first = sentences(hit.passage.text)
    return " ".join(first[0].split()) if first else ""


def short_answer(answer: Answer) -> ShortAnswer:
    """The short answer of an answer (see the module docstring)."""
    if answer.abstained or not answer.hits:
        why = f" ({answer.reason})" if answer.reason else ""
        return ShortAnswer(((NO_ANSWER.rstrip(".") + why + ".", None),))
    hits = sorted(answer.hits, key=lambda h: h.rank)
    first = _lead(hits[0])
    if not first:
        return ShortAnswer(())
    parts: list[tuple[str, int | None]] = [(first, hits[0].rank)]
    words = len(first.split())
    if len(sentences(first)) == 1 and words < MAX_WORDS:
        for h in hits[1:SECOND_FROM]:
            # Only a passage the ranking itself calls a strong match adds a point:
            # a partial one would put a weaker claim beside the best one.
            if h.match != "strong":
                continue
            for s in sentences(_lead(h)):
                if words + len(s.split()) <= MAX_WORDS and not _restates(
                        s, [t for t, _ in parts]):
                    parts.append((s, h.rank))
                    break
            if len(parts) > 1:
                break
    return ShortAnswer(tuple(parts))
