"""Query-side language: tokens, stop words, a light stemmer, the policing glossary
(retrieval/data/glossary.tsv), English word frequencies, and what a text states (a
figure, a number)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources

STOPWORDS = frozenset("""
a about above after again against all also am an and any are aren't as at be because been
before being below between both but by can could did didn't do does doesn't doing don't down
during each either else ever every few for from further get gets getting give given got had
has have having he her here hers herself him himself his how however i if in into is isn't it
its itself just know least less let like made make many may me might more most much must my
myself no nor not now of off on once only or other others our ours ourselves out over own
per please quite rather really said same say says see seem she should so some such tell
than that the their theirs them themselves then there these they this those through to too
under until up upon us use used using very want was wasn't way we well were weren't what
when where whether which while who whom whose why will with within without would yet you
your yours yourself yourselves any anything something thing things kind sort does done
one ones being also etc e.g i.e re isn doesn didn wasn aren weren hasn haven hadn
wouldn couldn shouldn won don ain whats
""".split())

# Words that say what kind of answer a question wants, not what it is about; they
# carry little topical signal for keyword coverage.
QUESTION_FRAME = frozenset("""
what which how many much does did do is are was were whether describe explain give list
show find example examples kind sort way ways approach happen happens happening
""".split())

#: A word token; see tokens().
TOKEN = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)?(?:-[a-z0-9]+)*")


_POSSESSIVE = re.compile(r"'s\b")


def token_text(text: str) -> str:
    """The lower-cased text that :func:`tokens` reads its tokens from: every token
    (and every :func:`stem_fragment` of its stem) is a substring of it."""
    return _POSSESSIVE.sub("", text.lower().replace("’", "'").replace("‘", "'"))


def tokens(text: str) -> list[str]:
    """Lower-case word tokens (numbers keep their decimal point)."""
    return TOKEN.findall(token_text(text))


#: Sentences whose stems are kept (text_stems): the candidates' sentences of the last
#: few dozen questions.
SENTENCE_CACHE = 32_768


@lru_cache(maxsize=SENTENCE_CACHE)
def text_stems(low: str) -> frozenset[str]:
    """The stems of the words of a :func:`token_text` (kept: ranking, highlights and
    abstention read the same sentences' stems for several questions and steps; a
    table-heavy filing's comparison stemmed them anew in each of its rankings)."""
    return frozenset(map(stem, set(TOKEN.findall(low))))


def stem_fragment(st: str) -> str:
    """A part of a stem that every word with that stem contains ("polic" of "policy",
    which "policies" stems to): a text whose :func:`token_text` lacks it has no word
    with that stem, which saves stemming its words (tests/test_text.py checks the
    claim on every word the stemmer can meet)."""
    return st if len(st) <= 3 or st[0].isdigit() else st[:-1]


#: Entries of the caches keyed by a passage or its text (its stems, its word
#: trigrams): a question's candidates (about 120) for the last few dozen questions.
#: At 100,000 entries they could hold up to 3 GB as questions reached new passages
#: (measured on the real filings: a passage's trigram set is 21 KB, its stems and
#: lower-cased text 9 KB). The 1M query process grew by 1.5 GB over its first
#: questions before; bounded, and with sentence codes read by pread, by 0.21 GB.
PASSAGE_CACHE = 4096


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light suffix stripper: enough to match plural/verb forms, no dictionary."""
    w = word.lower()
    if len(w) <= 3 or w[0].isdigit():
        return w
    for suf, rep in (("ational", "ate"), ("ization", "ize"), ("isation", "ise"),
                     ("iveness", "ive"), ("fulness", "ful"), ("ousness", "ous"),
                     ("ities", "ity"), ("ments", "ment"), ("ingly", ""), ("edly", ""),
                     ("ies", "y"), ("ing", ""), ("ied", "y"), ("ed", ""), ("es", "e"),
                     ("ly", ""), ("s", "")):
        if w.endswith(suf) and len(w) - len(suf) >= 3 and not (suf == "s" and w.endswith("ss")):
            w = w[: len(w) - len(suf)] + rep
            break
    if w.endswith("e") and len(w) > 4:
        w = w[:-1]
    return w


def content_terms(text: str) -> list[str]:
    """Topical words of a question (stop words and question framing removed)."""
    return [t for t in tokens(text) if t not in STOPWORDS and t not in QUESTION_FRAME
            and (len(t) > 1 or t.isdigit())]


@dataclass(frozen=True)
class Glossary:
    """Groups of equivalent terms (abbreviations, synonyms)."""

    groups: tuple[tuple[str, ...], ...]
    #: Groups of related words rather than equivalents (named with a leading ~).
    loose: frozenset[tuple[str, ...]] = frozenset()

    @classmethod
    def load(cls, text: str) -> Glossary:
        """Parse glossary.tsv text."""
        groups, loose = [], set()
        for line in text.splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            name, _, terms = line.partition("\t")
            g = tuple(t.strip() for t in terms.split("|") if t.strip())
            if len(g) >= 2:
                groups.append(g)
                if name.startswith("~"):
                    loose.add(g)
        return cls(tuple(groups), frozenset(loose))

    @staticmethod
    def _key(phrase: str) -> tuple[str, ...]:
        return tuple(stem(t) for t in tokens(phrase))

    def is_strict(self, group: tuple[str, ...]) -> bool:
        """Whether a group's terms are true equivalents (an abbreviation and what it
        stands for, spellings or synonyms of one term) rather than related words. Only
        true equivalents can stand in for a question's subject."""
        return group not in self.loose

    @cached_property
    def terms(self) -> tuple[str, ...]:
        """Every term of every group, as written."""
        return tuple(dict.fromkeys(t for g in self.groups for t in g))

    @cached_property
    def _terms(self) -> frozenset[str]:
        return frozenset(t.lower() for t in self.terms)

    def is_term(self, word: str) -> bool:
        """Whether a word is one of the glossary's terms."""
        return word.lower() in self._terms

    @cached_property
    def _patterns(self) -> list[list[tuple[str, object]]]:
        """Per group, per term: a compiled pattern (abbreviations) or stem key."""
        out = []
        for g in self.groups:
            row = []
            for term in g:
                if _is_abbreviation(term):
                    anycase = english_frequency(term.lower()) == 0
                    if _WORD.fullmatch(term):
                        row.append((term, _Word(term.lower() if anycase else term, anycase)))
                    else:
                        row.append((term, re.compile(rf"\b{re.escape(term)}s?\b",
                                                     re.I if anycase else 0)))
                elif self._key(term):
                    row.append((term, self._key(term)))
            out.append(row)
        return out

    @cached_property
    def _triggers(self) -> tuple[dict[str, set[int]], dict[tuple[bool, str], set[int]],
                                 frozenset[int]]:
        """Which groups a text can match: by a term's first stem; by an abbreviation
        ((in any case, lower-cased) or (as written)); and the groups with a pattern,
        always tried."""
        by_stem: dict[str, set[int]] = {}
        by_word: dict[tuple[bool, str], set[int]] = {}
        always = set()
        for i, row in enumerate(self._patterns):
            for _, pat in row:
                if isinstance(pat, _Word):
                    by_word.setdefault((pat.anycase, pat.text), set()).add(i)
                elif isinstance(pat, tuple):
                    by_stem.setdefault(pat[0], set()).add(i)
                else:
                    always.add(i)
        return by_stem, by_word, frozenset(always)

    def matches(self, text: str) -> list[tuple[str, tuple[str, ...]]]:
        """(term found in text, its group) for each glossary term the text contains.
        An abbreviation matches in any case unless, in lower case, it is also an
        English word ("PACT", "pact"): then only in capitals."""
        stems = [stem(t) for t in tokens(text)]
        have = set(stems)
        words = set(_WORD.findall(text))
        lower = {w.lower() for w in words}
        by_stem, by_word, always = self._triggers
        # Only the groups with a term whose first stem or word the text holds (and
        # those with a pattern) are tried, in their order: trying all 83 groups, the
        # 40 abbreviations by pattern, on a question's ~5 texts took 1 ms.
        tried = set(always)
        for w in have:
            tried.update(by_stem.get(w, ()))
        for anycase, seen in ((False, words), (True, lower)):
            for w in seen:
                tried.update(by_word.get((anycase, w), ()))
                if w.endswith("s"):
                    tried.update(by_word.get((anycase, w[:-1]), ()))
        out = []
        for i in sorted(tried):
            g, row = self.groups[i], self._patterns[i]
            for term, pat in row:
                if isinstance(pat, _Word):
                    # What \bTERMs?\b finds, as a set lookup.
                    seen = lower if pat.anycase else words
                    if pat.text in seen or pat.text + "s" in seen:
                        out.append((term, g))
                        break
                elif isinstance(pat, tuple):
                    if pat[0] in have and any(tuple(stems[i:i + len(pat)]) == pat
                                              for i in range(len(stems))):
                        out.append((term, g))
                        break
                elif pat.search(text):
                    out.append((term, g))
                    break
        return out

    def expansions(self, text: str) -> list[str]:
        """Every equivalent of every glossary term in text (excluding the text's own)."""
        out: list[str] = []
        for term, g in self.matches(text):
            out.extend(t for t in g if t != term)
        return list(dict.fromkeys(out))

    def expand(self, text: str) -> str:
        """Spell out abbreviations for the embedding model, which does not know policing
        shorthand: "ASB" → "ASB (anti-social behaviour)"."""
        for term, group in self.matches(text):
            if not _is_abbreviation(term):
                continue
            long = next((t for t in group if not _is_abbreviation(t)), None)
            if long and long.lower() not in text.lower():
                flags = re.I if english_frequency(term.lower()) == 0 else 0
                text = re.sub(rf"\b({re.escape(term)}s?)\b", rf"\1 ({long})", text,
                              count=1, flags=flags)
        return text


_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class _Word:
    """An abbreviation matched as a whole word (plural too), in any case or as written."""

    text: str
    anycase: bool


def _is_abbreviation(term: str) -> bool:
    return term.isupper() and len(term) <= 8


@lru_cache(maxsize=1)
def _english() -> dict[str, int]:
    import symspellpy

    path = resources.files(symspellpy).joinpath("frequency_dictionary_en_82_765.txt")
    out = {}
    for line in path.read_text("utf-8").splitlines():
        w, _, n = line.partition(" ")
        out[w] = int(n or 0)
    return out


def english_frequency(word: str) -> int:
    """How common a word is in English (symspellpy's 82,765-word frequency list; 0 for
    a word it does not hold). Tells a misspelling from a real word, and everyday
    wording from a rare subject term."""
    return _english().get(word.lower(), 0)


@lru_cache(maxsize=1)
def glossary() -> Glossary:
    """The packaged policing glossary."""
    text = resources.files("retrieval").joinpath("data/glossary.tsv").read_text("utf-8")
    return Glossary.load(text)


_HAS_FIGURE = re.compile(r"\d+(?:\.\d+)?\s*(?:percent|per cent|%)|\b\d+\.\d+\b|\bper 1,000\b")


@lru_cache(maxsize=SENTENCE_CACHE)
def has_figure(text: str) -> bool:
    """Whether a passage states a rate, percentage or decimal figure (kept per text, as
    :func:`has_number`: a comparison and the question's answer reach the same
    passages)."""
    return bool(_HAS_FIGURE.search(text))


_NUMBER = re.compile(
    r"\b(?!(?:19|20)\d{2}\b)\d+(?:[.,]\d+)?\b|\b(?:one|two|three|four|five|six|seven|eight|"
    r"nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|thousand|dozen|half|"
    r"quarter|third)\b|%|percent", re.I)


@lru_cache(maxsize=SENTENCE_CACHE)
def has_number(text: str) -> bool:
    """Whether text states a quantity (a number that is not a year, or a number word).
    Kept per text: ranking asks it of every sentence of a candidate that holds the
    question's terms, again in each ranking of a comparison (a third of the time of
    the figure-focus feature)."""
    return bool(_NUMBER.search(text))
