"""What the index learns about its own language at build time, stored with the build
(ingest.index_format.write_lexicon): how many passages use each word (spelling correction checks a
question's words against these, never against a fixed list), and the short forms of
the bodies and places the reports name ("WMP" for West Midlands Police, "west mids"
for West Midlands). Learned from the reports' text by rules of form, so a new archive
teaches its own names."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field

from core.models import Passage, Report

#: A run of two to six capitalised words, optionally joined by "and"/"of"/"for"/"the":
#: the form of a proper name in English prose ("West Midlands Police", "Crime Survey
#: for England and Wales").
_NAME = re.compile(r"\b[A-Z][a-z]+(?:\s+(?:(?:and|of|for|the)\s+)?[A-Z][a-z]+){1,5}\b")
#: Words that open sentences or headings in capitals without being part of a name.
_OPENERS = frozenset("""the a an this that these those there however overall in on at for
of and but how what when where which who why our its it their we he she they as by with
from to also some many most all each every both since while although after before""".split())
#: Name endings that say what kind of body it is; users often drop them ("West
#: Midlands" for West Midlands Police).
_KIND_WORDS = frozenset({"police", "constabulary", "service", "council", "councils",
                         "partnership", "authority", "authorities", "force"})
#: A clipped name word needs this many letters to be clipped ("Midlands" → "mids").
_CLIP_MIN = 7
#: Initialisms of fewer letters ("EW") collide with too many other things.
_INITIALISM_MIN = 3
#: A name must be seen this often to earn aliases: one stray capitalised run is noise.
_MIN_SEEN = 2

_WORD = re.compile(r"[a-z]{3,}")


@dataclass
class LexiconStats:
    """What the lexicon is learned from, as counts that add up across reports and
    segments (and subtract when a report is deleted): passages using each word, proper
    names seen, words written in lower case, and words written capitalised mid-sentence
    per inspected body."""

    words: Counter = field(default_factory=Counter)
    names: Counter = field(default_factory=Counter)
    lower: Counter = field(default_factory=Counter)
    caps: dict[str, Counter] = field(default_factory=dict)

    @classmethod
    def of(cls, passages: list[Passage], force: str = "") -> LexiconStats:
        """The statistics of some passages (of one body's report, for `caps`)."""
        st = cls()
        caps: Counter = Counter()
        for p in passages:
            text = p.text
            st.words.update(set(_WORD.findall((text + " " + " ".join(p.section)).lower())))
            st.lower.update(set(_WORD.findall(text)))
            if force:
                caps.update(m.group(0).lower() for m in _MID_CAPITAL.finditer(text))
        st.names = _names([p.text for p in passages])
        if force and caps:
            st.caps[force] = caps
        return st

    def add(self, other: LexiconStats, sign: int = 1) -> None:
        """Add (sign 1) or take away (sign -1) another's counts."""
        for mine, theirs in ((self.words, other.words), (self.names, other.names),
                             (self.lower, other.lower)):
            for k, v in theirs.items():
                mine[k] += sign * v
                if mine[k] <= 0:
                    del mine[k]
        for f, c in other.caps.items():
            mine = self.caps.setdefault(f, Counter())
            for k, v in c.items():
                mine[k] += sign * v
                if mine[k] <= 0:
                    del mine[k]

    def to_json(self) -> str:
        return json.dumps({"words": self.words, "names": self.names, "lower": self.lower,
                           "caps": self.caps}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> LexiconStats:
        d = json.loads(text)
        return cls(Counter(d["words"]), Counter(d["names"]), Counter(d["lower"]),
                   {f: Counter(c) for f, c in d["caps"].items()})

    def lexicon(self, reports: list[Report]) -> dict:
        """The build's lexicon: word counts, learned short forms, places."""
        words = dict(self.words)
        return {"words": words, "aliases": _aliases(reports, Counter(self.names), words),
                "places": _places(reports, self.lower, self.caps)}


def _names(texts: list[str]) -> Counter[str]:
    c: Counter[str] = Counter()
    for t in texts:
        for m in _NAME.finditer(t):
            words = m.group(0).split()
            while words and words[0].lower() in _OPENERS:
                words = words[1:]
            while words and words[-1].lower() in ("and", "of", "for", "the"):
                words = words[:-1]
            if len(words) >= 2:
                c[" ".join(words)] += 1
    return c


def _aliases(reports: list[Report], seen: Counter, words: dict[str, int]) -> dict[str, str]:
    """Short forms (lower case) → the name they stand for: the initialism of every name
    of three or more capitalised words the reports use at least twice, and for the
    inspected forces also the clipped forms ("west mids"). A short form that is itself
    a word of the reports is left out: it would shadow that word."""
    seen = Counter(seen)
    for r in reports:
        if r.force:
            seen[r.force] += _MIN_SEEN
    out: dict[str, str] = {}

    def add(alias: str, name: str) -> None:
        a = " ".join(alias.lower().split())
        if a and a != name.lower() and a not in words and a not in out:
            out[a] = name

    forces = {r.force for r in reports if r.force}
    for name, n in sorted(seen.items(), key=lambda x: (-x[1], x[0])):
        if n < _MIN_SEEN:
            continue
        parts = name.split()
        caps = [w for w in parts if w[0].isupper()]
        if len(caps) >= _INITIALISM_MIN:
            add("".join(w[0] for w in caps), name)
        if name not in forces:
            continue
        # The inspected bodies' own names are the ones users shorten further.
        core = parts[:-1] if parts[-1].lower() in _KIND_WORDS and len(parts) > 2 else parts
        for i, w in enumerate(core):
            if len(w) >= _CLIP_MIN:
                add(" ".join(core[:i] + [w[:3] + "s"] + core[i + 1:]), " ".join(core))
    return out


#: A capitalised word not at the start of a sentence.
_MID_CAPITAL = re.compile(r"(?<=[a-z,;] )[A-Z][a-z]{3,}\b")


def _places(reports: list[Report], lower: Counter, caps: dict[str, Counter]) -> dict[str, str]:
    """Proper names (lower case) → the one inspected body whose reports use them: the
    towns, districts and local schemes of a force's area ("Birmingham" → West Midlands
    Police), so a question that names a place is read as being about that force.
    A name is a word the reports only ever write capitalised, seen at least twice
    inside sentences, in the reports of exactly one body. Learned only when the index
    holds two or more bodies (with one, every name is that body's and says nothing)."""
    if len({r.force for r in reports if r.force}) < 2:
        return {}
    seen: dict[str, Counter[str]] = {}
    for f, c in caps.items():
        for w, n in c.items():
            seen.setdefault(w, Counter())[f] += n
    names = {w for r in reports for w in r.force.lower().split()}
    out = {}
    for w, by in seen.items():
        if w in lower or w in names or w in _KIND_WORDS or len(by) != 1:
            continue
        (f, n), = by.items()
        if n >= _MIN_SEEN:
            out[w] = f
    return out
