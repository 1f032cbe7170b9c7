"""Understanding a question once: one parse that every stage reads.

:func:`parse` turns what the user typed into a typed :class:`Query`: the text as
searched (case and punctuation never matter; misspelt words corrected against the
index's own vocabulary), its content terms with their document frequency and IDF,
their equivalents (policing glossary, short forms of names the index learned, and, for
wording only, the nearest corpus words by the embedding model), the forces and years
it names and whether the index covers them, and the kind of answer it wants. Candidate
search, ranking, abstention, highlighting and the UI's "searched as" line all read
this one object."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from importlib import resources

from retrieval.instructions import read_instructions
from retrieval.text import (
    content_terms,
    english_frequency,
    glossary,
    stem,
    stem_fragment,
    text_stems,
    token_text,
    tokens,
)

#: Words shorter than this are never spell-corrected: too many real short words sit
#: one edit from each other.
_SPELL_MIN = 4
#: Edits allowed: one for words of up to five letters, two for longer ones.
_SPELL_LONG = 6


@dataclass(frozen=True)
class Term:
    """One content word of the question."""

    word: str
    stem: str
    #: Passages holding the word (FTS5's stemmer).
    df: int
    idf: float
    #: True equivalents the index holds (abbreviation ↔ expansion, learned short forms):
    #: with one of these the subject is present even when the word is not.
    equivalents: tuple[str, ...] = ()
    #: Corpus words near it in meaning (glossary relations, embedding neighbours): they
    #: help find passages but never make an absent subject present.
    related: tuple[str, ...] = ()
    #: Similarity of the nearest corpus word by the embedding model (1 when the index
    #: holds the word): low for a subject the reports never touch ("football"), high
    #: for wording they merely phrase differently ("happy" → "satisfied").
    nearest: float = 1.0

    @property
    def present(self) -> bool:
        """Whether the index holds the word or a true equivalent of it. Numbers count
        as present: they are figures asked about, not subjects (years are checked on
        their own)."""
        return self.df > 0 or bool(self.equivalents) or any(c.isdigit() for c in self.word)


@dataclass(frozen=True)
class Query:
    """A question as the system understands it."""

    question: str
    #: Normalised, spell-corrected text: what is searched.
    text: str
    corrections: tuple[tuple[str, str], ...] = ()
    terms: tuple[Term, ...] = ()
    #: Equivalence groups for keyword search and term coverage.
    groups: tuple[tuple[str, ...], ...] = ()
    #: The text given to the embedding model (abbreviations and short forms spelt out).
    embed_text: str = ""
    forces: tuple[str, ...] = ()
    #: Forces the question names that no indexed report covers.
    missing_forces: tuple[str, ...] = ()
    years: tuple[str, ...] = ()
    #: Years the question names that no passage mentions.
    missing_years: tuple[str, ...] = ()
    #: Proper names the question names (typed capitalised, no English word) that no
    #: passage uses: an organisation, place or scheme the reports never mention.
    unknown_names: tuple[str, ...] = ()
    #: What kind of thing the answer must state: figure, date, grade.
    wants: frozenset[str] = frozenset()
    wants_recommendation: bool = False
    #: The question is about the inspection itself (its method, what grades mean).
    about_inspection: bool = False
    #: The previous question, when this one was read as its follow-up.
    context: str | None = None
    #: Parts of a report the question's instructions point to ("the balance sheet"):
    #: ranking may prefer them (retrieval/instructions.py).
    hints: tuple[str, ...] = ()
    #: Instruction text left out of the search ("Round your answer to two decimals").
    instructions: tuple[str, ...] = ()

    @cached_property
    def weights(self) -> dict[str, float]:
        """Stemmed content terms with their IDF weights."""
        out: dict[str, float] = {}
        for t in self.terms:
            out[t.stem] = max(out.get(t.stem, 0.0), t.idf)
        return out

    @cached_property
    def stem_fragments(self) -> frozenset[str]:
        """A part of each term's stem that any text holding the term contains."""
        return frozenset(stem_fragment(k) for k in self.weights)

    def stems_in(self, text: str) -> frozenset[str]:
        """The stems of a text's words, or none when it holds none of the question's
        terms: most sentences hold none, and a substring test for each term's stem
        fragment spares stemming their words."""
        low = token_text(text)
        if not any(f in low for f in self.stem_fragments):
            return frozenset()
        return text_stems(low)

    @property
    def absent(self) -> tuple[Term, ...]:
        """Content terms the index holds neither as written nor as a true equivalent."""
        return tuple(t for t in self.terms if not t.present)


# -- the index's language ---------------------------------------------------------------

class Lexicon:
    """The index's words (with passage counts) and learned short forms, and spelling
    correction against them. Built once per loaded index."""

    def __init__(self, words: dict[str, int], aliases: dict[str, str],
                 df: Callable[[str], int], df_together: Callable[[tuple[str, ...]], int],
                 n_passages: int, places: dict[str, str] | None = None):
        self.words = words
        self.aliases = aliases
        #: Place names (lower case) → the inspected body whose reports use them.
        self.places = places or {}
        #: Passages holding a phrase; passages holding all of several words.
        self.df = df
        self.df_together = df_together
        self.n = max(1, n_passages)
        #: Per-index results that depend only on the index (retrieval/scope.py).
        self.memo: dict = {}

    @cached_property
    def _spell(self):
        from symspellpy import SymSpell

        s = SymSpell(max_dictionary_edit_distance=2, prefix_length=7)
        for w, c in self.words.items():
            s.create_dictionary_entry(w, max(1, int(c)))
        return s

    def warm_up(self) -> None:
        """Build both spellers now (the English one takes ~5 s), not on the first
        misspelt word; and count the passages that use each of the glossary's terms,
        not when a question first meets one: a phrase's count is a search of the
        keyword index (up to 4 ms at 100,000 passages; all 340 terms take 0.2 s there,
        1.4 s at 1M)."""
        _ = self._spell
        english_speller()
        for term in glossary().terms:
            self.df(term)

    def idf(self, df: int) -> float:
        """IDF of a term in this index."""
        return math.log(1 + self.n / (1 + df))

    def known(self, word: str) -> bool:
        """Whether a word is left as typed: the index uses it, it is English, it is a
        policing abbreviation or a learned short form, or it is not a plain word."""
        w = word.lower()
        return (len(w) < _SPELL_MIN or not w.isalpha() or w in self.words
                or english_frequency(w) > 0 or w in self._alias_words
                or glossary().is_term(w))

    @cached_property
    def _alias_words(self) -> frozenset[str]:
        return frozenset(w for a in self.aliases for w in a.split())

    def correct(self, word: str) -> str | None:
        """The index word a misspelt word stands for, or None (unknown words stay)."""
        if self.known(word):
            return None
        from symspellpy import Verbosity

        w = word.lower()
        edits = 1 if len(w) < _SPELL_LONG else 2
        # The index's own words first; then English, so that a misspelt word the
        # reports use only in another form ("reccomend" → "recommend", which matches
        # "recommendations") is still mended.
        for spell in (self._spell, english_speller()):
            found = spell.lookup(w, Verbosity.CLOSEST, max_edit_distance=edits)
            if found:
                return min(found, key=lambda s: (s.distance, -s.count, s.term)).term
        return None


@lru_cache(maxsize=1)
def english_speller():
    """A speller over symspellpy's English word list (loaded once: ~5 s)."""
    import symspellpy
    from symspellpy import SymSpell

    s = SymSpell(max_dictionary_edit_distance=2, prefix_length=7)
    s.load_dictionary(str(resources.files(symspellpy).joinpath(
        "frequency_dictionary_en_82_765.txt")), term_index=0, count_index=1)
    return s


def bridged(query: Query, near: dict[str, tuple[float, tuple[str, ...]]]) -> Query:
    """The query with, for each word the corpus never uses, the similarity of its
    nearest corpus word and the corpus words close enough to stand in for it in search
    ("happy" → satisfied). For ranking only: they never make an absent subject present."""
    terms, groups = [], list(query.groups)
    for t in query.terms:
        if t.word in near:
            sim, words = near[t.word]
            t = replace(t, related=tuple(dict.fromkeys(t.related + words)), nearest=sim)
            if words:
                groups.append((t.word, *words))
        terms.append(t)
    return replace(query, terms=tuple(terms), groups=tuple(groups))


def bridgeable(query: Query) -> list[str]:
    """The question's words that the corpus never uses and the model may bridge."""
    return [t.word for t in query.absent if t.word.isalpha()]


# -- forces ------------------------------------------------------------------------------

@dataclass(frozen=True)
class ForceName:
    canonical: str
    pattern: re.Pattern


@lru_cache(maxsize=1)
def forces() -> tuple[ForceName, ...]:
    """The packaged table of police forces (retrieval/data/forces.tsv)."""
    text = resources.files("retrieval").joinpath("data/forces.tsv").read_text("utf-8")
    out = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        canonical, _, others = line.partition("\t")
        forms = [canonical] + [f for f in others.split("|") if f.strip()]
        alts = []
        for f in sorted(set(forms), key=len, reverse=True):
            exact = f.startswith("=")
            body = r"\s+".join(re.escape(w) for w in f.lstrip("=").split())
            # A form marked "=" (Met) is also a common word: it must be typed as a name.
            alts.append(body if exact else f"(?i:{body})")
        out.append(ForceName(canonical, re.compile(r"\b(?:" + "|".join(alts) + r")\b")))
    return tuple(out)


@lru_cache(maxsize=1024)
def named_forces(text: str) -> tuple[str, ...]:
    """Canonical names of the forces a text names (a question's text is read at
    several steps, each a search of every force's pattern)."""
    return tuple(f.canonical for f in forces() if f.pattern.search(text))


@lru_cache(maxsize=64)
def covered_forces(bodies: tuple[str, ...]) -> frozenset[str]:
    """The indexed bodies' names and every force name they match: worked out once per
    set of indexed bodies (per question it cost 28 ms at a thousand reports)."""
    return frozenset({c for b in bodies for c in named_forces(b)} | set(bodies))


# -- what the question asks for ------------------------------------------------------------

_WANTS = {
    "figure": re.compile(
        r"\b(how many|how much|what (?:percentage|proportion|rate|number|figure|share)|"
        r"rates?|percent|percentage|per ?cent|proportion|number of|no\.? of|figures?|"
        r"stats?|statistics|numbers?|per (?:1,?000|thousand|head)|by how much|"
        r"increase[sd]?|decrease[sd]?|fall|fell|rise|rose|drop(?:ped)?|£|cost|budget|"
        r"total)\b|%", re.I),
    "date": re.compile(r"^\s*when\b|\bwhat (?:date|day|month)\b|\bwhich (?:date|month)\b|"
                       r"\bhow long ago\b", re.I),
    "grade": re.compile(r"\b(grade[sd]?|grading|judg(?:e)?ments?|rated|rating|"
                        r"outstanding|requires? improvement|inadequate)\b", re.I),
}
_RECOMMEND = re.compile(r"\b(recc?om+end\w*|areas? for improvement|improvements? needed|"
                        r"what should|should (?:the force|they|it|wmp)|afis?)\b", re.I)
#: A question about the inspection itself names it (or its method, or what its grades
#: mean); "what does HMIC say about X" asks about X, not about the inspection.
_ABOUT_INSPECTION = re.compile(
    r"\b(inspect(?:ion|ions|ors?|ed|ing)|methodolog\w*|fieldwork|case files?|"
    r"interview(?:ed|s)?|focus groups?|(?:judg(?:e)?ments?|grades?|ratings?) mean\w*|"
    r"what (?:do|does) (?:good|outstanding|inadequate|requires improvement) mean)\b", re.I)
_YEAR = re.compile(r"\b((?:19|20)\d{2})\b")
#: A year after these words bounds a period ("since 2014", "2014 to 2017"): it asks
#: about the time around it, not about that year, and names no report.
PERIOD_BOUND = re.compile(r"\b(?:since|from|after|before|until|between|to)\s*"
                          r"(?:(?:fy|fiscal(?:\s+year)?|q[1-4])\s*)?$", re.I)


#: The longest question searched, in characters: a pasted paragraph is a fine question,
#: a pasted report is not (its text would swamp the query). Longer ones are cut there.
MAX_QUESTION_CHARS = 2000


def cut_question(question: str) -> tuple[str, bool]:
    """The question cut to MAX_QUESTION_CHARS at a word boundary, and whether it was."""
    if len(question) <= MAX_QUESTION_CHARS:
        return question, False
    cut = question[:MAX_QUESTION_CHARS]
    return (cut.rsplit(" ", 1)[0] if " " in cut[-200:] else cut), True


_FY4 = re.compile(r"\b(FY|fy|Fy|YE|ye|CY|cy)\s*'?((?:19|20)\d{2})\b")
_FY2 = re.compile(r"\b(FY|fy|Fy|YE|ye|CY|cy)\s*'?(\d{2})\b")
_Q4 = re.compile(r"\b([Qq][1-4])\s*'?\s*((?:19|20)\d{2})\b")
_Q2 = re.compile(r"\b([1-4])[Qq]\s*'?(\d{2})\b")


#: A word typed as a proper name: a capital then lower-case letters ("Boeing").
_PROPER_NAME = re.compile(r"\b[A-Z][a-z]{3,}\b")
#: A name is rarer in English than this (symspellpy's counts: "Boeing" 4e6, everyday
#: words such as "video" 2e8).
_NAME_FREQUENCY = 5_000_000
#: Period markers that go with a year and are no subject of their own.
_PERIOD_MARK = re.compile(r"^(?:fy|ye|cy|q[1-4]|h[12]|ytd)$", re.I)


def _fiscal_years(text: str) -> str:
    """Years written the way analysts do, spelt out: "FY2018" and "FY18" → "FY 2018"
    (also "YE2021", year end, and "CY22", calendar year),
    "Q2'2023" and "2Q23" → "Q2 2023" (a year glued to a prefix is no word of its own)."""
    text = _FY4.sub(r"\1 \2", text)
    text = _FY2.sub(lambda m: f"{m.group(1)} 20{m.group(2)}", text)
    text = _Q4.sub(r"\1 \2", text)
    return _Q2.sub(lambda m: f"Q{m.group(1)} 20{m.group(2)}", text)


def normalise(question: str) -> str:
    """Punctuation-free question text (hyphens inside words and decimal points kept).
    Case is kept only so that the few names that are also common words ("Met",
    "PACT") can be told apart; everything downstream ignores it."""
    t = question.replace("’", "'").replace("‘", "'")
    t = _fiscal_years(t).replace("&", " and ")
    t = re.sub(r"[^\w\s'%£.,-]", " ", t)
    t = re.sub(r"(?<![0-9])[.,](?![0-9])", " ", t)
    t = re.sub(r"\s+-+\s+|^-+|-+$", " ", t)
    return " ".join(t.split())


def parse(question: str, lexicon: Lexicon, *, context: str | None = None,
          bodies: tuple[str, ...] = (), report_years: tuple[int, ...] = ()) -> Query:
    """Read a question (with the previous turn prepended when `context` is given)
    against an index of these `bodies` (sorted, each once: Store.bodies) and report
    years. Embedding-model neighbours of its absent words are added by
    :func:`bridged`."""
    reading = read_instructions(question.strip())
    asked = reading.subject
    if context:
        asked = f"{read_instructions(context.strip()).subject} {asked}"
    full = f"{context.strip()} {question.strip()}" if context else question.strip()
    text = normalise(asked)
    # Spelling: each word the index, English or the glossary does not know.
    corrections = []
    words = text.split(" ")
    for i, w in enumerate(words):
        fixed = lexicon.correct(w)
        if fixed and fixed != w.lower():
            corrections.append((w, fixed))
            words[i] = fixed
    text = " ".join(words)
    low = text.lower()

    # Equivalents: the policing glossary and the index's learned short forms.
    g = glossary()
    strict_groups: list[tuple[str, ...]] = []
    loose_groups: list[tuple[str, ...]] = []
    for _, grp in g.matches(text):
        (strict_groups if g.is_strict(grp) else loose_groups).append(grp)
    alias_hits = []
    for alias, name in lexicon.aliases.items():
        # The substring test first: an index of many bodies learns thousands of short
        # forms, and compiling a pattern for each (beyond re's cache) cost ~100 ms.
        if alias in low and re.search(r"\b" + re.escape(alias) + r"\b", low):
            strict_groups.append((alias, name.lower()))
            alias_hits.append((alias, name))

    def equivalents_of(word: str, groups) -> tuple[str, ...]:
        st = stem(word)
        out = []
        for grp in groups:
            if any(stem(x) == st for t in grp for x in tokens(t)):
                out.extend(t for t in grp if lexicon.df(t) > 0)
        return tuple(dict.fromkeys(out))

    words_ = []
    for w in content_terms(text):
        if _PERIOD_MARK.match(w):  # "FY", "Q2": the year beside them is the subject
            continue
        # A hyphenated compound the reports never write stands for its parts when they
        # all occur ("at-risk" → risk); otherwise it stays whole ("body-worn").
        parts = content_terms(w.replace("-", " ")) if "-" in w and lexicon.df(w) == 0 else []
        if parts and all(lexicon.df(p) > 0 for p in parts):
            words_.extend(parts)
        else:
            words_.append(w)
    terms = []
    for w in dict.fromkeys(words_):
        df = lexicon.df(w)
        terms.append(Term(w, stem(w), df, lexicon.idf(df), equivalents_of(w, strict_groups),
                          equivalents_of(w, loose_groups)))
    # Spell out abbreviations and short forms for the embedding model.
    # A question of punctuation alone keeps its characters: the model still gets a text.
    embed = g.expand(text) if text.strip() else full
    for alias, name in alias_hits:
        if name.lower() not in embed.lower():
            embed = re.sub(r"\b" + re.escape(alias) + r"\b", f"{alias} ({name})", embed,
                           count=1, flags=re.I)

    named = named_forces(full)
    covered = covered_forces(bodies)
    # A year that bounds a period ("since 2014") asks about the time after it, not
    # about that year: it is no year the answer must mention.
    years = tuple(dict.fromkeys(m.group(1) for m in _YEAR.finditer(text)
                                if not PERIOD_BOUND.search(text[: m.start()])))
    report_year_set = {str(y) for y in report_years if y}
    missing_years = tuple(y for y in years if y not in report_year_set and lexicon.df(y) == 0)
    wants = frozenset(k for k, rx in _WANTS.items() if rx.search(text))
    # A capital opening the question says nothing; one inside it marks a name.
    typed_names = {m.group(0).lower(): m.group(0)
                   for m in _PROPER_NAME.finditer(reading.subject) if m.start() > 0}
    unknown = tuple(typed_names[t.word] for t in terms
                    if t.word in typed_names and not t.present
                    and english_frequency(t.word) < _NAME_FREQUENCY and not g.is_term(t.word))

    return Query(
        question=question, text=text, corrections=tuple(corrections), terms=tuple(terms),
        groups=tuple(strict_groups + loose_groups), embed_text=embed,
        forces=named, missing_forces=tuple(f for f in named if f not in covered),
        years=years, missing_years=missing_years, unknown_names=unknown, wants=wants,
        wants_recommendation=bool(_RECOMMEND.search(text)),
        about_inspection=bool(_ABOUT_INSPECTION.search(text)), context=context,
        hints=reading.hints, instructions=reading.instructions)
