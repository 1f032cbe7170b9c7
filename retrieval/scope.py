"""Which reports a question is about: the bodies, places, years and programmes it
names, resolved against the reports the index holds, and whether it asks across
reports (a comparison).

A question that names an indexed body (by its name, a short form learned at index
time, a name in the force table, or a place its reports name) is answered from that
body's reports; one that names a report year is answered from that year's reports.
When what it names has no report in the index, the question is not answered from
another body's report: the scope carries the reason instead ("no indexed report
covers Cleveland Police"; "the index holds no 2017 inspection of West Midlands
Police")."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache

from core.models import Report, body_core
from retrieval.abstain import EVERYDAY_WORD
from retrieval.answer import Filters
from retrieval.query import PERIOD_BOUND, Lexicon, covered_forces, forces, named_forces
from retrieval.text import english_frequency

#: The kind word that ends a body's name; users often leave it off ("Kent").
_KIND = re.compile(r"\s+(?:police(?:\s+service)?|constabulary|police\s+force)$", re.I)
#: "<Name> Police" / "<Name> Constabulary" as typed: a body, indexed or not.
_BODY = re.compile(r"\b((?:[a-z][\w'-]+\s+){0,2}[a-z][\w'-]+)\s+(police|constabulary)\b", re.I)
#: Words that may stand before "police" without naming a body.
_NOT_NAMES = frozenset("""the a an local our their its this that which what each every all
any other some most many neighbourhood community transport british national city county
force forces by of for to with in on and or is are was were do does did how why when""".split())
#: A question asked across reports: comparisons, rankings, trends over the years.
_ACROSS = re.compile(
    r"\b(?:compar(?:e|ed|es|ing|ison|isons)|(?:each|every|all(?:\s+the)?|which|what|other|"
    r"different|most|many|how\s+many)\s+(?:of\s+the\s+)?(?:forces?|constabular\w+|reports?|"
    r"inspections?|areas?|regions?)|across\s+(?:the\s+|all\s+)?(?:region|regions|country|"
    r"forces?|reports?|england|archive|years?)|since\s+(?:19|20)\d{2}|over\s+(?:time|the\s+"
    r"years)|year\s+on\s+year|trends?|league\s+table|rank(?:ed|ing|ings)?|vs|versus)\b",
    re.I)
_YEAR = re.compile(r"\b((?:19|20)\d{2})(?:\s*/\s*(\d{2}))?\b")
#: A year next to these words names a report ("the 2017 inspection", "PEEL 2017"),
#: never a period its figures cover.
_REPORT_BEFORE = re.compile(r"\b(?:inspections?|inspected|reports?|assessments?|peel|hmicf?r?s?)"
                            r"\W+(?:\w+\W+){0,2}$", re.I)
_REPORT_AFTER = re.compile(r"^\W*(?:/\s*\d{2}\W+)?(?:\w+\W+)?(?:inspections?|reports?|"
                           r"assessments?|peel)\b", re.I)
#: Programme words: a question that names one is about those reports.
_PROGRAMMES = (
    (re.compile(r"\bpeel\b.*\beffectiveness\b|\beffectiveness\b.*\bpeel\b", re.I),
     "PEEL effectiveness"),
    (re.compile(r"\bpeel\b.*\befficiency\b|\befficiency\b.*\bpeel\b", re.I), "PEEL efficiency"),
    (re.compile(r"\bpeel\b.*\blegitimacy\b|\blegitimacy\b.*\bpeel\b", re.I), "PEEL legitimacy"),
    (re.compile(r"\bpeel\b", re.I), "PEEL"),
    (re.compile(r"\bcrime\s+inspections?\b", re.I), "crime inspection"),
    (re.compile(r"\bthematic\b", re.I), "thematic"),
)


@dataclass(frozen=True)
class Scope:
    """What a question is about among the indexed reports."""

    #: Indexed bodies it names.
    bodies: tuple[str, ...] = ()
    #: Report years it names.
    years: tuple[int, ...] = ()
    #: The programme it names ("PEEL", "PEEL effectiveness", "crime inspection").
    programme: str | None = None
    #: The reports it is about (empty: no restriction).
    report_ids: tuple[str, ...] = ()
    #: The reports of the bodies (and programme) it names, whatever their year (empty:
    #: it names none).
    body_report_ids: tuple[str, ...] = ()
    #: It asks across reports (compare, each force, which forces, since 2014, ...).
    compare: bool = False
    #: Why the index cannot answer it (a body, year or programme with no report).
    missing: str | None = None

    @property
    def narrows(self) -> bool:
        return bool(self.report_ids)

    def narrowed(self, filters: Filters) -> Filters:
        """The user's filters, restricted to the reports the question names. Filters
        the user chose by report, force or year win: the question does not override
        them. Under a year filter, the bodies the question names still narrow it
        ("American Express" with 2022 chosen: American Express's 2022 report, not
        every 2022 report)."""
        if not self.report_ids or filters.report_ids or filters.forces:
            return filters
        if filters.years:
            return replace(filters, report_ids=self.body_report_ids) \
                if self.body_report_ids else filters
        return replace(filters, report_ids=self.report_ids)

    def to_dict(self) -> dict:
        """The scope as an answer carries it (Answer.scope)."""
        return {"bodies": list(self.bodies), "years": list(self.years),
                "programme": self.programme, "reports": list(self.report_ids),
                "compare": self.compare}


def asks_across(text: str) -> bool:
    """Whether a question asks across reports."""
    return bool(_ACROSS.search(text))


def _forms(body: str, lexicon: Lexicon, bodies: tuple[str, ...] = ()) -> list[str]:
    """The ways a question may name an indexed body (worked out once per index)."""
    key = ("forms", body, bodies)
    if key not in lexicon.memo:
        lexicon.memo[key] = _forms_of(body, lexicon, bodies)
    return lexicon.memo[key]


def _distinct_lead(core: str, others: list[str]) -> str | None:
    """The first word of a many-word name, when it is no everyday English word and no
    other indexed body's name starts with it ("Lockheed", "JPMorgan", "Kraft")."""
    words = core.split()
    if len(words) < 2:
        return None
    lead = words[0]
    if len(lead) < 3 or english_frequency(lead.lower()) >= EVERYDAY_WORD:
        return None
    if any(body_core(o).split()[:1] == [lead] for o in others):
        return None
    return lead


def _forms_of(body: str, lexicon: Lexicon, bodies: tuple[str, ...] = ()) -> list[str]:
    forms = {body}
    core = body_core(body)
    for c in (core, _KIND.sub("", body).strip()):
        if c != body and (len(c) >= 4 or any(ch.isdigit() for ch in c) or c.isupper()):
            forms.add(c)
    caps = [w for w in re.split(r"[\s-]+", core) if w[:1].isupper()]
    if len(caps) >= 3:
        forms.add("".join(w[0] for w in caps))
    others = [b for b in bodies if b != body]
    lead = _distinct_lead(core, others)
    if lead:
        forms.add(lead)
    # The first two words of a longer name ("American Water" of American Water Works),
    # when no other indexed body's name starts with them.
    words = core.split()
    if len(words) >= 3 and not any(body_core(o).split()[:2] == words[:2] for o in others):
        forms.add(" ".join(words[:2]))
    for known in forces():
        if known.canonical == body or known.pattern.fullmatch(body) or known.pattern.fullmatch(
                core):
            forms.add(known.canonical)
    for alias, name in lexicon.aliases.items():
        if name.lower() in (body.lower(), core.lower()):
            forms.add(alias)
    return sorted(forms, key=len, reverse=True)


def _names(text: str, low: str, body: str, patterns: list[tuple[str, re.Pattern]]) -> bool:
    """Whether a question (`low`: its :func:`_lowered` text) names a body, by one of
    its forms' patterns (:func:`_form_patterns`) or a packaged force's."""
    # (A substring test first: most bodies are not named in most questions.)
    if any(first in low and pat.search(low) for first, pat in patterns):
        return True
    return any(p.search(text) for p in _force_patterns().get(body, ()))


def _lowered(text: str) -> str:
    return text.lower().replace("-", " ")


def _form_patterns(body: str, lexicon: Lexicon, bodies: tuple[str, ...] = ()
                   ) -> list[tuple[str, re.Pattern]]:
    """Per form of a body (:func:`_forms`), its first word and a pattern of its words
    in a lowered question (worked out once per index)."""
    key = ("form patterns", body, bodies)
    if key not in lexicon.memo:
        out = []
        for f in _forms(body, lexicon, bodies):
            words = _lowered(f).split()
            out.append((words[0], re.compile(
                r"\b" + r"\s+".join(re.escape(w) for w in words) + r"\b")))
        lexicon.memo[key] = out
    return lexicon.memo[key]


@lru_cache(maxsize=1)
def _force_patterns() -> dict[str, tuple[re.Pattern, ...]]:
    """The packaged forces' patterns by canonical name (a question is tested against
    every indexed body's: one lookup, not a pass over every force, for each)."""
    out: dict[str, tuple[re.Pattern, ...]] = {}
    for k in forces():
        out[k.canonical] = out.get(k.canonical, ()) + (k.pattern,)
    return out


def _abbreviates(token: str, words: list[str]) -> bool:
    """Whether a token is made of leading letters of the name's words, in order, from
    the first ("JPM" of JPMorgan Chase, "Amex" of American Express, "WMP" of West
    Midlands Police)."""
    if not token:
        return True
    if not words:
        return False
    w = words[0]
    return any(_abbreviates(token[i:], words[1:])
               for i in range(min(len(w), len(token)), 0, -1) if token[:i] == w[:i])


@lru_cache(maxsize=4096)
def _name_words(body: str) -> tuple[list[str], ...]:
    """The lower-cased words of a body's name and of its core name (split once per
    body, not for each word of each question: a scope took 0.3-0.6 ms for it on the
    filings' 12 bodies, 0.12 now)."""
    return tuple([w.lower() for w in re.split(r"[\s&,.-]+", name) if w]
                 for name in dict.fromkeys((body_core(body), body)))


def _abbreviated(typed: str, bodies: list[str], lexicon: Lexicon) -> list[str]:
    """Bodies a question names by a short form of its own making: a word typed in
    capitals, or no English or index word, that abbreviates exactly one body's name."""
    out = []
    for tok in re.findall(r"\b[A-Za-z][A-Za-z0-9]{2,7}\b", typed):
        low = tok.lower()
        capitals = sum(c.isupper() for c in tok) >= 2
        if not capitals and (english_frequency(low) > 0 or low in lexicon.words):
            continue
        hits = []
        for b in bodies:
            for words in _name_words(b):
                # A bare prefix of the first word ("Amer") counts only typed in
                # capitals ("JPM"); otherwise the letters must run over two words.
                prefix = words[0].startswith(low)
                if (capitals or not prefix) and _abbreviates(low, words):
                    hits.append(b)
                    break
        if len(hits) == 1:
            out.append(hits[0])
    return out


def _codes(text: str) -> set[str]:
    """Document-type codes in a text — words of letters and digits, hyphens dropped
    ("10-K", "10Q", "20-F") — but no years or bare numbers."""
    out = set()
    for w in re.findall(r"\b[\w-]+\b", text):
        w = w.replace("-", "").lower()
        if re.search(r"\d", w) and re.search(r"[a-z]", w) and len(w) <= 6:
            out.add(w)
    return out


def _type_codes(typed: str, pool: list[Report]) -> set[str]:
    """Codes the question names that tell some of the reports in scope from the others
    by their titles ("this 10-K" among a company's annual and quarterly reports)."""
    asked = _codes(typed)
    if not asked or len(pool) < 2:
        return set()
    titled = [_codes(r.title) for r in pool]
    return {c for c in asked if 0 < sum(c in t for t in titled) < len(pool)}


def _covers(r: Report, year: int) -> bool:
    """Whether a report is "the <year> report": its inspection year, the second year
    of a "2021/22" one, or the year it was published."""
    if r.year == year:
        return True
    span = rf"\b{r.year}\s*/\s*(?:{year}|{year % 100:02d})\b"
    if r.year == year - 1 and re.search(span, f"{r.title} {r.inspection_type}"):
        return True
    return (r.published or "")[:4] == str(year)


def resolve(text: str, reports: list[Report], lexicon: Lexicon,
            mentions: Callable[[str, tuple[str, ...]], bool] | None = None,
            typed: str | None = None, *, bodies: tuple[str, ...]) -> Scope:
    """The scope of a question (its normalised, spell-corrected text) among the
    indexed reports; `typed` is the question as typed (names are looked for there too:
    spelling correction may have turned an unknown name into a word); `bodies` the
    reports' bodies, sorted (Store.bodies).
    `mentions(phrase, report_ids)` says whether those reports' passages use a phrase
    (a year named as a figure's period, not as a report's)."""
    typed = typed or text
    texts = [(t, _lowered(t)) for t in dict.fromkeys((text, typed))]
    named = [b for b in bodies if any(_names(t, low, b, _form_patterns(b, lexicon, bodies))
                                          for t, low in texts)]
    for b in _abbreviated(typed, bodies, lexicon):
        if b not in named:
            named.append(b)
    for word in re.findall(r"[a-z][a-z'-]{3,}", text.lower()):
        b = lexicon.places.get(word)
        if b and b not in named:
            named.append(b)
    compare = asks_across(text) or len(named) > 1

    # Bodies named that no report covers: known forces, and "<Name> Police" forms
    # whose name the reports never use.
    covered = covered_forces(bodies)
    missing = [f for f in named_forces(typed) if f not in covered]
    for m in _BODY.finditer(typed):
        words = [w for w in m.group(1).split() if w.lower() not in _NOT_NAMES]
        # Leading everyday words ("local", "the city's") are not part of the name;
        # a rarer English word may be ("Kestrel Vale").
        while words and (english_frequency(words[0].lower()) >= EVERYDAY_WORD
                         or words[0].lower() in lexicon.words):
            words = words[1:]
        if not words:
            continue
        name = " ".join(w.capitalize() for w in words) + " " + m.group(2).capitalize()
        if any(named_forces(name)) or any(name.lower() in b.lower() for b in bodies):
            continue
        if any(w.lower() in lexicon.words for w in words):
            continue
        missing.append(name)
    missing = list(dict.fromkeys(missing))
    if missing and not named:
        return Scope(missing="no indexed report covers " + " or ".join(missing),
                     compare=compare)

    pool = [r for r in reports if not named or r.force in named]
    programme = next((p for rx, p in _PROGRAMMES if rx.search(text)), None)
    if programme:
        have = [r for r in pool if r.family.lower().startswith(programme.lower())]
        if not have:
            who = " or ".join(named) if named else "any body"
            return Scope(bodies=tuple(named), programme=programme, compare=compare,
                         missing=f"the index holds no {programme} report of {who}")
        pool = have

    years: list[int] = []
    for m in _YEAR.finditer(text):
        if PERIOD_BOUND.search(text[: m.start()]):
            compare = True
            continue
        y = int(m.group(1))
        hit = [r for r in pool if _covers(r, y)]
        if hit:
            years.append(y)
            continue
        as_report = bool(_REPORT_BEFORE.search(text[: m.start()])
                         or _REPORT_AFTER.search(text[m.end():]))
        if named and (as_report or not (
                mentions and mentions(str(y), tuple(r.report_id for r in pool)))):
            noun = "inspection" if any(r.programme for r in pool) else "report"
            return Scope(bodies=tuple(named), programme=programme, compare=compare,
                         missing=f"the index holds no {y} {noun} of " + " or ".join(named))
    body_ids = tuple(r.report_id for r in pool) if named and len(pool) < len(reports) else ()
    if len(years) > 1:
        compare = True
    if years:
        pool = [r for r in pool if any(_covers(r, y) for y in years)]
    kinds = _type_codes(typed, pool)
    if kinds:
        pool = [r for r in pool if _codes(r.title) & kinds]
    narrowed = bool(named or years or programme or kinds)
    ids = tuple(r.report_id for r in pool) if narrowed and len(pool) < len(reports) else ()
    return Scope(bodies=tuple(named), years=tuple(years), programme=programme,
                 report_ids=ids, body_report_ids=body_ids, compare=compare)
