"""The short answer above the cited cards: one or two sentences taken verbatim from the
best passages' highlighted sentences, each followed by the marker of the passage it
comes from ("… [1] … [2]"). Nothing is generated: every word is the report's. When the
answer abstains, the reason takes its place.

A second sentence is added only when it brings something: it comes from another
passage that is itself a strong match, it is not a restatement of the first (word
overlap), and the two stay short enough to read at a glance.

A question in several parts ("How satisfied are victims, and is it improving?", "What
is X and how does it compare with Y?") gets a sentence for each part the passages
answer. The question is split where English joins clauses (", and is…", "and how…",
"?" or ";" between them); the first part is answered as above, and each later part by
the sentence of the best few passages — any sentence of their text, not only the
highlight — that the embedding model finds closest to it (read with the first part
when it points back: "is *it* improving?"), that no chosen sentence already says, and,
for a part that asks about change ("is it improving?", "has it changed?"), preferably
one that states a change or an earlier period's figure ("… recorded in the previous
year"). This needs the search's embedding model: `short_answer(answer, searcher)`;
without one, a question in several parts is answered as if it had one.

The short answer is made once, with the answer (:func:`with_short_answer`), and kept in
it (Answer.short): showing or serialising an answer makes nothing."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from ingest.passages import passage_sentences
from retrieval.answer import Answer, Hit, ShortAnswer
from retrieval.followup import leans_on_previous, pronoun_subject
from retrieval.followup import words as _words
from retrieval.instructions import read_instructions
from retrieval.text import content_terms, stem, tokens

#: Above this many words the first sentence stands alone.
MAX_WORDS = 70
#: A sentence sharing more than this share of its content words with the first is
#: a restatement (summary bullets restate findings), not a second point.
MAX_OVERLAP = 0.5
#: How far down the ranking a second sentence may come from.
SECOND_FROM = 3
#: The passages a later part's sentence may come from (the best few).
PART_FROM = 3
#: A later part's sentence must be at least this similar to the part (cosine, with the
#: part read with the first when it points back); below it the passages do not answer
#: that part and it gets no sentence.
PART_MIN_SIM = 0.35
#: Similarity above which a sentence restates one already chosen.
RESTATE_SIM = 0.9
#: A part is answered already when no sentence meets it by this much more than the
#: sentences chosen so far (the lead often answers two parts at once).
MET_MARGIN = 0.05
#: For a part about change, the preference for a sentence that names an earlier period
#: ("previous year", "since 2010", two years) and, less, one that states a change.
EARLIER_BONUS, CHANGE_BONUS = 0.15, 0.05

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9“\"‘(])")


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


def short_answer(answer: Answer, searcher=None) -> ShortAnswer:
    """The short answer of an answer (see the module docstring). With the `searcher`
    (a retrieval.search.Searcher) whose embedding model found it, a question in
    several parts gets a sentence for each part; without one it is answered as a
    one-part question."""
    if answer.abstained or not answer.hits:
        return ShortAnswer(((answer.no_answer_line, None),))
    hits = sorted(answer.hits, key=lambda h: h.rank)
    first = _lead(hits[0])
    if not first:
        return ShortAnswer(())
    parts: list[tuple[str, int | None]] = [(first, hits[0].rank)]
    # The parts the question asks, not its instructions ("Round your answer to two
    # decimal places."): an instruction is not answered by a sentence of the report.
    asked = question_parts(read_instructions(answer.question).subject)
    if searcher is not None and len(asked) > 1:
        parts.extend(_part_sentences(asked, first, hits[:PART_FROM], searcher))
        return ShortAnswer(tuple(parts))
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


def with_short_answer(answer: Answer, searcher=None) -> Answer:
    """The answer carrying its short answer, made now (with the searcher's embedding
    model, when given, for a question in several parts)."""
    return replace(answer, short=short_answer(answer, searcher).parts)


# -- questions in several parts ---------------------------------------------------------

_AUX_OR_WH = (r"(?:is|are|was|were|does|do|did|has|have|had|can|could|will|would|should|"
              r"may|might|must|how|what|why|when|where|which|who|whether)")
#: Where a question joins two questions: "?" or ";" with more after it, and "and"/"but"
#: before a verb or question word (", and is it improving?", "and how does it compare").
_PART_BREAK = re.compile(
    r"(?<=[?;])\s+(?=\S)|;\s*|,?\s+(?:and|but)\s+(?=" + _AUX_OR_WH + r"\b)"
    r"|,\s*(?:and|but)\s+(?=(?:what|how)\s+about\b)", re.I)
#: A part that asks about change over time.
_ASKS_CHANGE = re.compile(
    r"\b(?:improv\w*|better|worse|chang\w*|trend\w*|ris(?:e|en|ing)|rose|fall(?:en|ing)?|fell|"
    r"increas\w*|decreas\w*|declin\w*|reduc\w*|drop\w*|grow\w*|go(?:ing|ne)? (?:up|down)|"
    r"coming (?:up|down)|over time|last year|previous\w*|earlier|before|since|compared? "
    r"(?:with|to) (?:last|previous|earlier))\b", re.I)
#: A sentence that names an earlier period than the one it reports.
_EARLIER = re.compile(
    r"\b(?:previous(?:ly)?|last year|the year before|prior year|a year (?:earlier|before|ago)|"
    r"earlier|since (?:19|20)\d\d|(?:over|in) the (?:past|last|previous) \w+ (?:years?|months?)|"
    r"(?:up|down) from|compared with the (?:previous|same)|than in (?:19|20)\d\d)\b", re.I)
#: A sentence that states a change.
_CHANGE = re.compile(
    r"\b(?:increas(?:e|ed|es|ing)|decreas(?:e|ed|es|ing)|rose|risen|fell|fallen|improved|"
    r"improvement|deteriorat\w+|declin(?:e|ed|ing)|reduc(?:ed|tion)|dropped|grown|grew|"
    r"changed?)\b", re.I)
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")


def question_parts(question: str) -> list[str]:
    """A question split into the questions it joins: "How satisfied are victims, and is
    it improving?" → ["How satisfied are victims", "is it improving?"]. One part when
    it asks one thing ("burglary and robbery rates" joins nouns, not questions)."""
    text = " ".join(question.split())
    parts, start = [], 0
    for m in _PART_BREAK.finditer(text):
        # "How and why did crime fall?" joins two question words, not two questions.
        if len(_words(text[start:m.start()])) > 1:
            parts.append(text[start:m.start()])
            start = m.end()
    parts.append(text[start:])
    parts = [p.strip(" ,;") for p in parts]
    return [p for p in parts if _words(p)] or [text]


def _names_earlier_period(sentence: str) -> bool:
    return bool(_EARLIER.search(sentence)) or len(set(_YEAR.findall(sentence))) > 1


#: A sentence that opens like this continues the one before it ("Its current rate is
#: lower than…"): it is read with that one to judge what it is about.
_CONTINUES = re.compile(r"^\W*(?:it|its|they|their|them|this|these|that|those|such)\b",
                        re.I)


_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")


def _adds_nothing(sentence: str, said: list[str]) -> bool:
    """Whether a sentence only restates the chosen ones: it gives no figure they do not
    give, and most of its content words are in one of them ("Its current rate is lower
    than the 85.5 percent … in the previous year" adds a figure to "… a rate of 83.7
    percent, which is lower than …")."""
    figures = set(_FIGURE.findall(sentence)) - set(_FIGURE.findall(" ".join(said)))
    if figures:
        return False
    terms = {stem(t) for t in content_terms(sentence)}
    if not terms:
        return True
    return any(len(terms & {stem(t) for t in content_terms(c)}) / len(terms) > MAX_OVERLAP
               for c in said)


def _candidates(hits: list[Hit]) -> list[tuple[str, str | None, int]]:
    """The sentences of the passages (verbatim, whitespace aside), each with the
    sentence before it when it opens by pointing back to it ("Its current rate…": it is
    about what that one is about) and its passage's rank. Headings, questions, the
    lead-ins of lists ("… and also explain how:") and long rows are left out."""
    out = []
    for h in hits:
        sents = [" ".join(x.split()) for x in passage_sentences(h.passage.text)]
        for i, x in enumerate(sents):
            n = len(x.split())
            if n < 4 or n > MAX_WORDS or x.endswith(("?", ":")):
                continue
            out.append((x, sents[i - 1] if i and _CONTINUES.match(x) else None, h.rank))
    return out


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    n = float(np.linalg.norm(v))
    return v / n if n else v


#: Known sentences are looked up by this many leading characters.
_KEY = 12


class _Vectors:
    """Vectors of the passages' sentences and of other texts: a sentence's is the one
    the index stored for it at build time (the same model, no embedding at question
    time); a text of several sentences has the mean of theirs; anything else is
    embedded by the searcher's model (cached)."""

    def __init__(self, searcher, hits: list[Hit]):
        self.searcher = searcher
        store = searcher.store
        rows = store.sentences(store.rowids_of([h.passage.passage_id for h in hits]))
        self.known = {" ".join(t.split()): _unit(v) for _, t, v in rows}
        self._by_start: dict[str, list[str]] = {}
        for k in self.known:
            self._by_start.setdefault(k[:_KEY], []).append(k)

    def of(self, texts: list[str]) -> list[np.ndarray]:
        """A unit vector for each text."""
        out: dict[str, np.ndarray] = {}
        todo = []
        for t in dict.fromkeys(texts):
            parts = sentences(t)
            if t in self.known:
                out[t] = self.known[t]
            elif len(parts) > 1 and all(p in self.known for p in parts):
                out[t] = _unit(np.mean([self.known[p] for p in parts], axis=0))
            elif rows := self._known_run(t):
                # A highlight of table rows: the rows the index holds, joined (no
                # sentence end to split at); embedding it whole took 13 ms a question.
                out[t] = _unit(np.mean([self.known[p] for p in rows], axis=0))
            else:
                todo.append(t)
        if todo:
            out.update(zip(todo, (_unit(v) for v in self.searcher.embed(todo))))
        return [out[t] for t in texts]

    def _known_run(self, text: str) -> list[str] | None:
        """The known sentences that `text` joins, in order (a highlight joins its
        passage's sentences with spaces), or None when it is not such a run."""
        rest, run = " ".join(text.split()), []
        while rest:
            # The longest known sentence that starts what is left and ends at a space.
            head = max((k for k in self._by_start.get(rest[:_KEY], ()) if rest.startswith(k)
                        and (len(k) == len(rest) or rest[len(k)] == " ")),
                       key=len, default=None)
            if head is None:
                return None
            run.append(head)
            rest = rest[len(head):].lstrip()
        return run if len(run) > 1 else None


def _part_sentences(asked: list[str], lead: str, hits: list[Hit],
                    searcher) -> list[tuple[str, int]]:
    """For each part of the question after the first that the sentences chosen so far
    (the lead first) do not answer, the sentence of the passages that answers it best,
    with its passage's rank. A sentence's measure is its similarity to the part —
    averaged with its similarity to the first part and this one together when the part
    points back ("is it improving?"), and taken with the sentence before it when the
    sentence points back ("Its current rate…") — plus, for a part about change, a
    preference for an earlier period's figure. A sentence is added when it is similar
    enough, meets the part better than the chosen ones by a margin, and restates none
    of them."""
    cands = _candidates(hits)
    if not cands:
        return []
    vectors = _Vectors(searcher, hits)
    own = dict(zip((c[0] for c in cands), vectors.of([c[0] for c in cands])))
    about = {}
    for text, before, _ in cands:
        about[text] = own[text] if before is None else _unit(
            own[text] + vectors.of([before])[0])
    added: list[tuple[str, int]] = []
    # A part that leans on the first ("is it improving?") or whose subject is a
    # pronoun ("how does it compare with…") is also read with the first.
    reads = [(part, [part] + ([f"{asked[0]} {part}"] if leans_on_previous(part, asked[0])
                              or pronoun_subject(part) else []))
             for part in asked[1:]]
    # Every part's texts in one model call (cached), not one a part (0.6 ms less on a
    # three-part question).
    searcher.embed([t for _, asks in reads for t in asks])
    # The lead answers the first part: the ranker chose it for the whole question, and
    # similarity alone would prefer a sentence that only echoes the question's words.
    for part, asks in reads:
        said = [lead] + [t for t, _ in added]
        said_flat = " ".join(said)
        left = [c for c in cands if c[0] not in said_flat and not _adds_nothing(c[0], said)]
        if not left:
            break
        ask_v = np.vstack(searcher.embed(asks))
        said_v = vectors.of(said)
        change = bool(_ASKS_CHANGE.search(part))

        def measure(sentence: str, vec: np.ndarray, _change: bool = change,
                    _ask: np.ndarray = ask_v) -> tuple[float, float]:
            sim = float(np.mean(_ask @ vec))
            bonus = 0.0
            if _change:
                bonus = EARLIER_BONUS if _names_earlier_period(sentence) else (
                    CHANGE_BONUS if _CHANGE.search(sentence) else 0.0)
            return sim, sim + bonus

        met = max(measure(t, v)[1] for t, v in zip(said, said_v))
        best, best_score = None, met + MET_MARGIN
        for sentence, _, rank in left:
            sim, score = measure(sentence, about[sentence])
            if sim < PART_MIN_SIM or score <= best_score:
                continue
            if any(float(own[sentence] @ u) > RESTATE_SIM for u in said_v):
                continue
            best, best_score = (sentence, rank), score
        if best:
            added.append(best)
    return added
