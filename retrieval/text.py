"""Query-side language: tokens, stop words, a light stemmer, the policing glossary
(retrieval/data/glossary.tsv) and what a question asks for (a figure, a
recommendation, a judgment; years, numbers and names it mentions)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
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
one ones being also etc e.g i.e re
""".split())

# Words that say what kind of answer a question wants, not what it is about; they
# carry little topical signal for keyword coverage.
QUESTION_FRAME = frozenset("""
what which how many much does did do is are was were whether describe explain give list
show find example examples kind sort way ways approach happen happens happening
""".split())

_TOKEN = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)?(?:-[a-z0-9]+)*")


def tokens(text: str) -> list[str]:
    """Lower-case word tokens (numbers keep their decimal point)."""
    t = text.lower().replace("’", "'").replace("‘", "'")
    t = re.sub(r"'s\b", "", t)
    return _TOKEN.findall(t)


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

    @classmethod
    def load(cls, text: str) -> Glossary:
        """Parse glossary.tsv text."""
        groups = []
        for line in text.splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            _, _, terms = line.partition("\t")
            g = tuple(t.strip() for t in terms.split("|") if t.strip())
            if len(g) >= 2:
                groups.append(g)
        return cls(tuple(groups))

    @staticmethod
    def _key(phrase: str) -> tuple[str, ...]:
        return tuple(stem(t) for t in tokens(phrase))

    def matches(self, text: str) -> list[tuple[str, tuple[str, ...]]]:
        """(term found in text, its group) for each glossary term the text contains.
        Abbreviations (all capitals in the glossary) match case-sensitively."""
        toks = tokens(text)
        stems = [stem(t) for t in toks]
        out = []
        for g in self.groups:
            for term in g:
                if term.isupper() and len(term) <= 6:
                    if re.search(rf"\b{re.escape(term)}s?\b", text):
                        out.append((term, g))
                        break
                    continue
                k = self._key(term)
                if k and any(tuple(stems[i:i + len(k)]) == k for i in range(len(stems))):
                    out.append((term, g))
                    break
        return out

    def expansions(self, text: str) -> list[str]:
        """Every equivalent of every glossary term in text (excluding the text's own)."""
        out: list[str] = []
        for term, g in self.matches(text):
            out.extend(t for t in g if t != term)
        return list(dict.fromkeys(out))


def expand_abbreviations(text: str, g: Glossary | None = None) -> str:
    """Spell out abbreviations for the embedding model, which does not know policing
    shorthand: "ASB" → "ASB (anti-social behaviour)"."""
    g = g or glossary()
    for term, group in g.matches(text):
        if not (term.isupper() and len(term) <= 6):
            continue
        long = next((t for t in group if not t.isupper()), None)
        if long and long.lower() not in text.lower():
            text = re.sub(rf"\b{re.escape(term)}(s?)\b", rf"{term}\1 ({long})", text, count=1)
    return text


@lru_cache(maxsize=1)
def glossary() -> Glossary:
    """The packaged policing glossary."""
    text = resources.files("retrieval").joinpath("data/glossary.tsv").read_text("utf-8")
    return Glossary.load(text)


_FIGURE_Q = re.compile(
    r"\b(how many|how much|what (?:percentage|proportion|rate|number|figure|share)|"
    r"rate|rates|percent|percentage|per cent|proportion|number of|figures?|statistics|"
    r"per 1,?000|by how much|increase|decrease|fall|rise|compare[sd]?|£|cost|budget)\b|%",
    re.I)
_RECOMMEND_Q = re.compile(r"\brecommend", re.I)
_JUDGMENT_Q = re.compile(r"\b(grade[sd]?|grading|judg(?:e)?ments?|rated|rating|outstanding|"
                         r"requires improvement|inadequate)\b", re.I)


@dataclass(frozen=True)
class QuestionProfile:
    """What a question asks for, from its wording."""

    wants_figure: bool
    wants_recommendation: bool
    wants_judgment: bool
    years: tuple[str, ...]
    numbers: tuple[str, ...]
    names: tuple[str, ...]


def profile(question: str) -> QuestionProfile:
    """Classify a question (figure / recommendation / judgment) and pull out the
    years, numbers and proper names it mentions."""
    years = tuple(re.findall(r"\b((?:19|20)\d{2})\b", question))
    numbers = tuple(n for n in re.findall(r"\b\d+(?:[.,]\d+)?\b", question) if n not in years)
    # Proper names: capitalised word runs not at the start of the question.
    names = []
    for m in re.finditer(r"(?<![.?!]\s)(?<!^)\b([A-Z][a-z]+(?:\s+(?:and\s+)?[A-Z][a-z]+)*)",
                         question):
        w = m.group(1)
        if w.lower() in STOPWORDS or w.lower() in QUESTION_FRAME:
            continue
        names.append(w)
    return QuestionProfile(
        wants_figure=bool(_FIGURE_Q.search(question)),
        wants_recommendation=bool(_RECOMMEND_Q.search(question)),
        wants_judgment=bool(_JUDGMENT_Q.search(question)),
        years=years, numbers=numbers, names=tuple(dict.fromkeys(names)),
    )


_HAS_FIGURE = re.compile(r"\d+(?:\.\d+)?\s*(?:percent|per cent|%)|\b\d+\.\d+\b|\bper 1,000\b")


def has_figure(text: str) -> bool:
    """Whether a passage states a rate, percentage or decimal figure."""
    return bool(_HAS_FIGURE.search(text))


def split_units(text: str) -> list[str]:
    """Sentences of a passage, table rows and list items kept whole (one per line)."""
    out: list[str] = []
    for line in text.split("\n"):
        parts = re.split(r"(?<=[.!?])['’”)]?\s+(?=[A-Z0-9‘“(•])", line.strip())
        out.extend(p for p in parts if p.strip())
    return out


_NUMBER = re.compile(
    r"\b(?!(?:19|20)\d{2}\b)\d+(?:[.,]\d+)?\b|\b(?:one|two|three|four|five|six|seven|eight|"
    r"nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|thousand|dozen|half|"
    r"quarter|third)\b|%|percent", re.I)


def has_number(text: str) -> bool:
    """Whether text states a quantity (a number that is not a year, or a number word)."""
    return bool(_NUMBER.search(text))
