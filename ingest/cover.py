"""General rules that read a report's body, document type, title and period from its
cover and text, for reports of any publisher: companies' filings, agencies' and
audit offices' reports, inspectorates' reports.

The rules use layout and language only (a short capitalised line holding an
organisation word is a name; the most prominent short line holding a document noun is
the type; "for the year ended <date>" is the period), never one publisher family's
wording, so a new kind of report needs no new rule. Where the PDF reader recorded
styles (:attr:`ingest.clean.Page.styles`: font size and bold per line), prominence
breaks ties between candidate lines; text reports without styles fall back to how
often the text names each candidate and to cover order.

:mod:`ingest.metadata` calls these when a report's title lines name no police
inspection.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from ingest.clean import Page

#: A printed year, alone or as a span ("2021/22").
YEAR = r"(?:19|20)\d{2}(?:/\d{2,4})?"

#: Words that make a short capitalised line an organisation's name.
_ORG_WORDS = frozenset("""
    corporation corp inc incorporated company co plc ltd limited llc llp lp group
    holdings police constabulary council authority agency office commission service
    services department ministry trust board university bank bancorp n.a. s.a. ag nv
    foundation institute association society inspectorate partnership college fund
    executive directorate bureau administration court tribunal ombudsman regulator
    commissioner""".split())
#: Legal-form words: dropped from a name to get what the text calls the body
#: ("Advanced Micro Devices, Inc." is "Advanced Micro Devices", "AMD").
_LEGAL_FORMS = frozenset("""
    corporation corp inc incorporated company co plc ltd limited llc llp lp n.a. s.a.
    ag nv holdings group""".split())
_CONNECTIVES = frozenset("and of the for & in on at by to de".split())
#: Small words a title-cased name keeps lower-case.
_SMALL_WORDS = frozenset("and of the for in on at by to de a an or".split())
#: Legal forms printed in capitals on covers, in their usual written form.
_SUFFIX_FORMS = {"inc": "Inc", "co": "Co", "ltd": "Ltd", "corp": "Corp"}
# Private-use characters: the PDF reader's table-row and caption marks.
_PRIVATE = re.compile("[\ue000-\uf8ff]")
_MONTH = (r"(?:January|February|March|April|May|June|July|August|September|October|"
          r"November|December)")
#: A period end as printed, US ("June 30, 2023") or UK ("30 June 2023") order.
_END_DATE = (rf"(?P<date>{_MONTH}\s+\d{{1,2}}\s*,\s*(?P<y1>(?:19|20)\d{{2}})|"
             rf"\d{{1,2}}\s+{_MONTH}\s+(?P<y2>(?:19|20)\d{{2}}))")
#: "for the fiscal year ended …", "for the quarterly period ended …", "for the six
#: months ended …": the period a report covers.
_PERIOD = re.compile(
    rf"(?<![a-z])for\s+the\s+(?P<kind>(?:(?:fiscal|financial)\s+)?year|quarter(?:ly\s+period)?|"
    rf"(?:three|six|nine|twelve)[- ]months?(?:\s+period)?|half[- ]year|"
    rf"(?:interim\s+)?period)\s+end(?:ed|ing)\s+(?:\S+\s+){{0,3}}?{_END_DATE}", re.I)
#: Nouns that name a kind of document ("Form 10-K", "Annual report", "Annual Report
#: and Accounts", "Value for money report", "Inspection of …").
_DOC_NOUN = re.compile(
    r"\b(?:form\s+[0-9A-Z][\w-]*|reports?|accounts|review|inspection|assessment|audit|"
    r"statements?|survey|evaluation|plan|strategy|return|study|prospectus)\b", re.I)
#: A line that says who wrote or received a report, not what it is.
_BYLINE = re.compile(r"(?i:\b(?:by|to|before)\s+(?:the\s+)?)[A-Z]|(?i:\bpursuant\b|\bprepared\b)")
_GROUP_TAIL = re.compile(
    r"\s+and\s+(?:its\s+)?(?:consolidated\s+)?(?:subsidiaries|affiliates)$", re.I)


def year_number(printed: str) -> int:
    """2021 from "2021/22": a span's year is the year it starts."""
    return int(printed[:4])


def _clean_line(line: str) -> str:
    # Rules drawn with underscores ("10-K ______") are layout, not words.
    return re.sub(r"\s+", " ", _PRIVATE.sub("", re.sub(r"_{3,}", " ", line))).strip()


def _is_sentence(line: str) -> bool:
    """Whether a line reads as prose: sentence punctuation inside or at its end
    (abbreviations such as "Inc." or "N.A." aside), a colon, or brackets."""
    t = re.sub(r"\b(?:[A-Z]\.){1,3}|(?i:\b(?:Inc|Co|Corp|Ltd|No|St)\.)", "", line)
    return bool(re.search(r"[.!?;:](?:\s|$)|[()\[\]]|^[-–—,]", t))


def _words(line: str) -> list[str]:
    return [w for w in re.split(r"[\s,]+", line) if w]


def _key(word: str) -> str:
    return word.lower().rstrip(".,").replace("’", "'") if word.lower() != "n.a." else "n.a."


def org_name(line: str) -> str | None:
    """``line`` as an organisation's name ("MICROSOFT CORPORATION", "National Audit
    Office", "JPMorgan Chase & Co.") or None: at most 8 words, not a sentence, at
    least one organisation word (Corporation, Inc., plc, Police, Council, Agency,
    Office, Bank …) and one distinctive word, mostly capitalised, no figures."""
    # A group's statements are headed "X Company and Subsidiaries": the body is X.
    t = _GROUP_TAIL.sub("", _clean_line(line)).strip(" ,")
    words = _words(t)
    if not 2 <= len(words) <= 8 or len(t) > 90 or _is_sentence(t):
        return None
    if any(re.search(r"\d", w) for w in words[1:]) or re.fullmatch(r"[\d.,-]+", words[0]):
        return None
    keys = [_key(w) for w in words]
    if not any(k in _ORG_WORDS for k in keys) or keys[-1] in _CONNECTIVES:
        return None
    distinct = [w for w, k in zip(words, keys) if k not in _ORG_WORDS | _CONNECTIVES]
    if not distinct or not words[0][:1].isupper() and not words[0][:1].isdigit():
        return None
    if any(not w[:1].isupper() and not w[:1].isdigit() for w in distinct):
        return None
    return t


def _core(name: str) -> str:
    """What a text calls the body: its name without a leading "The" and legal forms
    ("The Coca-Cola Company" → "Coca-Cola")."""
    words = _words(name)
    while words and _key(words[-1]) in _LEGAL_FORMS | {"&"}:
        words.pop()
    if words and words[0].lower() == "the":
        words = words[1:]
    return " ".join(words) or name


def _acronym(core: str) -> str | None:
    """"AMD" from "Advanced Micro Devices"; None for a one-word name, whose acronym
    would be a single letter."""
    caps = [w[0].upper() for w in _words(core) if w.lower() not in _CONNECTIVES]
    return "".join(caps) if len(caps) >= 2 else None


def _mentions(core: str, flat: str) -> int:
    """How often the text names the body: its core name (any case) and its acronym
    (as printed). The body a report is about or by is the one it keeps naming; a
    regulator's heading on the cover is named far less."""
    n = len(re.findall(rf"(?<!\w){re.escape(core)}(?!\w)", flat, re.I))
    acro = _acronym(core)
    if acro and acro.lower() != core.lower():
        n += len(re.findall(rf"(?<![\w-]){acro}(?![\w-])", flat))
    return n


def text_mentions(name: str, flat: str) -> int:
    """How often the text names an organisation: its name without a leading "The" and
    legal forms (:func:`_core`), and its acronym."""
    return _mentions(_core(name), flat)


def readable_name(name: str, text: str = "") -> str:
    """An ALL-CAPS name in a readable form: the spelling the text itself uses in
    mixed case where there is one ("JPMORGAN CHASE & CO." → "JPMorgan Chase & Co."),
    else words over 3 letters title-cased, small common words lower-cased, and other
    short words (acronyms such as "CVS", "AMD") kept as printed. Mixed-case names are
    kept as printed."""
    if any(c.islower() for c in name):
        return name
    if text:
        rx = re.compile(re.escape(name).replace(r"\ ", r"\s+"), re.I)
        spellings = Counter(m.group(0) for m in rx.finditer(text)
                            if any(c.islower() for c in m.group(0)))
        if spellings:
            return re.sub(r"\s+", " ", spellings.most_common(1)[0][0])
    out = []
    for i, w in enumerate(name.split()):
        bare = w.strip(".,").lower()
        if bare in _SMALL_WORDS and i:
            out.append(w.lower())
        elif bare in _SUFFIX_FORMS:
            out.append(w.lower().replace(bare, _SUFFIX_FORMS[bare]))
        elif len(re.sub(r"[^A-Za-z]", "", w)) > 3 or bare in _SMALL_WORDS:
            out.append("-".join(p.capitalize() for p in w.split("-")))
        else:
            out.append(w)
    return " ".join(out)


def _style_weight(page: Page, line: str) -> float:
    """How prominent a line is printed on its page: 1 for the page's largest font,
    0.5 more for bold; 0 when the reader gave no style (text reports)."""
    styles = page.styles
    # A title joined from two lines ("FORM" / "10-K") is printed as its first line.
    key = line if line in styles else next(
        (k for k in styles if k and line.startswith(k + " ")), None)
    if key is None:
        return 0.0
    biggest = max(size for size, _ in styles.values()) or 1.0
    size, bold = styles[key]
    return size / biggest + (0.5 if bold else 0.0)


def _cover(pages: list[Page]) -> list[tuple[Page, int, str]]:
    """(page, position, line) for the cover: the first page's lines and the first
    lines of the second, where a report prints its body, type and period."""
    out: list[tuple[Page, int, str]] = []
    for n, p in enumerate(pages[:2]):
        lines = [_clean_line(ln) for ln in p.lines]
        lines = [ln for ln in lines if ln]
        out += [(p, i, ln) for i, ln in enumerate(lines[:80] if n == 0 else lines[:8])]
    return out


def _standalone(name: str, pages: list[Page]) -> int:
    """On how many pages the name stands as a line of its own (a header, a statement's
    heading, a signature block): a body's name is printed so throughout."""
    low = name.lower()
    return sum(1 for p in pages[1:]
               if any(_clean_line(ln).lower() == low for ln in p.lines)
               or (p.header or "").strip().lower() == low)


def _path_matches(core: str, rel_path: str) -> bool:
    """Whether the file's path spells the body's name ("AMERICANWATERWORKS_2021_10K"):
    archives are often filed by body."""
    squashed = re.sub(r"[^a-z]", "", core.lower())
    return len(squashed) >= 3 and squashed in re.sub(r"[^a-z]", "", rel_path.lower())


def cover_body(pages: list[Page], flat: str, rel_path: str = "") -> str | None:
    """The organisation a report is about or by, from its cover's organisation-name
    lines (:func:`org_name`). Several names (a regulator's heading, the company) are
    ranked by how often the text names each, how often each stands as a line on later
    pages, how prominently it is printed (font size, bold, when known), whether the
    file's path spells it, and then cover order."""
    best, best_score = None, None
    seen: set[str] = set()
    for page, _, line in _cover(pages):
        # "U.S. Census Bureau, Statistical Abstract of the United States: 2012": a
        # publisher's name heads a line that goes on to name the publication.
        name = org_name(line) or org_name(re.split(r",\s|\s[–—:]\s", line, maxsplit=1)[0])
        if not name or name.lower() in seen:
            continue
        seen.add(name.lower())
        core = _core(name)
        score = (math.log1p(_mentions(core, flat)) + math.log1p(_standalone(name, pages))
                 + _style_weight(page, line) + (1.0 if _path_matches(core, rel_path) else 0.0))
        if best_score is None or score > best_score:
            best, best_score = name, score
    return readable_name(best, flat) if best else None


_ORG_IN_TEXT = re.compile(
    r"\b((?:[A-Z][\w'’.&-]*\s+(?:(?:and|of|&)\s+)?){1,5}"
    r"(?:Company|Corporation|Incorporated|Inc\.|Corp\.|plc|PLC|Ltd|Limited|Group|"
    r"Holdings|Co\.))")


def text_body(flat: str, rel_path: str = "") -> str | None:
    """The organisation a report names most often in its text, by its full name with
    a legal form ("The Coca-Cola Company"): for reports whose cover prints the name
    only as an image. At least three mentions."""
    counts = Counter(m.group(1) for m in _ORG_IN_TEXT.finditer(flat))
    ranked = []
    for name, n in counts.items():
        name = org_name(name)
        if name and n >= 3:
            core = _core(name)
            ranked.append((math.log1p(_mentions(core, flat)) + math.log1p(n)
                           + (1.0 if _path_matches(core, rel_path) else 0.0), name))
    return readable_name(max(ranked)[1], flat) if ranked else None


def _readable_type(line: str) -> str:
    """A document-type line in a readable case: "FORM 10-K" → "Form 10-K", "ANNUAL
    REPORT AND ACCOUNTS" → "Annual report and accounts"; mixed case kept."""
    if any(c.islower() for c in line):
        return line
    words = []
    for i, w in enumerate(line.split()):
        if re.search(r"\d", w) or len(w) <= 3 and w.lower() not in _SMALL_WORDS:
            words.append(w)
        else:
            words.append(w.capitalize() if i == 0 else w.lower())
    return " ".join(words)


def _prominence(pages: list[Page], page: Page, pos: int, line: str
                ) -> tuple[bool, float, int]:
    """Sort key of a cover line: on the first page, then printed larger or bold,
    then earlier. A second page (often a contents page) only fills in."""
    return page is pages[0], _style_weight(page, line), -pos


def _type_lines(pages: list[Page]) -> list[tuple[Page, int, str]]:
    """The cover's lines, and a short line joined to the next where a title wraps:
    "FORM" / "10-K", or "Annual Report" / "and Accounts" (a next line that starts in
    lower case continues the title)."""
    cover = _cover(pages)
    out = []
    for k, (page, pos, line) in enumerate(cover):
        nxt = cover[k + 1][2] if k + 1 < len(cover) and cover[k + 1][0] is page else ""
        # Only a fragment (a few words, no figures or punctuation) is joined on.
        fragment = (len(_words(line)) <= 3 and not re.search(r"[\d,.;:()]", line)
                    and not org_name(line))
        continued = fragment and (nxt[:1].islower() or nxt[:1] == "&")
        if not continued:
            out.append((page, pos, line))
        if nxt and fragment and (continued or not _DOC_NOUN.search(line)):
            out.append((page, pos, f"{line} {nxt}"))
    return out


def cover_type(pages: list[Page]) -> str | None:
    """The document type the cover names: the most prominent short line (at most 8
    words, not a sentence, not a byline such as "Report by the Comptroller …", not an
    organisation's name) holding a document noun ("Form 10-K", "Annual report",
    "Quarterly report", "Value for money report", "Inspection of …"); a year in it is
    left to the period. Cover order breaks ties."""
    best, best_key = None, None
    for page, pos, line in _type_lines(pages):
        t = re.sub(rf"\s*\b{YEAR}\b\s*", " ", line).strip(" ,–—-")
        # A contents entry ("Financial Statements 45") names a part, not the report.
        if (not _DOC_NOUN.search(t) or len(_words(t)) > 8 or _is_sentence(t)
                or re.search(r"\s\d{1,3}$", t)
                or _BYLINE.search(t) or org_name(t) or not t[:1].isupper()):
            continue
        key = _prominence(pages, page, pos, line)
        if best_key is None or key > best_key:
            best, best_key = _readable_type(t), key
    return best


def cover_heading(pages: list[Page]) -> str | None:
    """A neutral name for a report whose cover names no document type: its most
    prominent title-like line (short, not a sentence, not an organisation, a byline or
    a date) — "Managing the prison estate"."""
    best, best_key = None, None
    for page, pos, line in _cover(pages):
        words = _words(line)
        # A numbered table's or figure's title ("Table 324. Arrests by …") is a title.
        # So is one with a subtitle or year after a colon ("… and Age: 2009").
        probe = re.sub(r"^(?:Table|Figure|Chart)\s+[\w.-]*\d[\w.-]*\s+", "", line)
        probe = probe.replace(": ", " ")
        # (A byline names who wrote or receives it; "by Sex and Age" in a title case
        # title is no byline.)
        byline = _BYLINE.search(line) and (
            re.match(r"(?i)(?:an?\s+)?(?:\w+\s+){0,2}(?:by|to|before)\b", line)
            or re.search(r"(?i)\b(?:by|to|before)\s+the\b", line))
        if (not 2 <= len(words) <= 12 or _is_sentence(probe) or org_name(line)
                or byline or not line[:1].isupper()
                # Figures make a line a date, an address or a table row, unless it is
                # a title that names its year ("Arrests by Sex and Age: 2009").
                or re.search(r"\d", re.sub(r"\b(?:19|20)\d{2}\b|^(?:Table|Figure)\s+\d+\.?", "",
                                          line))):
            continue
        key = _prominence(pages, page, pos, line)
        if best_key is None or key > best_key:
            best, best_key = _readable_type(line), key
    return best


def report_period(text: str) -> tuple[str, str, int] | None:
    """(kind, end date as printed, year) of the period a report covers, from "for the
    (fiscal) year ended <date>", "for the quarterly period ended <date>", "for the six
    months ended <date>": kind is "year", "quarter" or "period"."""
    m = _PERIOD.search(text)
    if not m:
        return None
    k = m.group("kind").lower()
    kind = "quarter" if "quarter" in k or k.startswith("three") else (
        "year" if k.endswith("year") or k.startswith("twelve") else "period")
    date = re.sub(r"\s+,", ",", re.sub(r"\s+", " ", m.group("date")))
    return kind, date, int(m.group("y1") or m.group("y2"))


def general_title(pages: list[Page]) -> tuple[str, str | None, int | None, str] | None:
    """(type, period wording for the title, year, provenance) for a report that names
    no inspection: the cover's document type (:func:`cover_type`, else its heading,
    :func:`cover_heading`) and its period. The title is then "<type> <year>" for a year
    ("Form 10-K 2023", "Annual report 2023") and "<type>, quarter ended <date>" for a
    quarter or other period ("Form 10-Q, quarter ended June 30, 2023"). The year is
    the period end's year (for a 2022/23 year printed alone, 2022, as for
    inspections); without a period, a year printed in the type line or alone on the
    cover. None when the cover gives neither a type nor a heading."""
    itype = cover_type(pages) or cover_heading(pages)
    if itype is None:
        return None
    cover = [ln for _, _, ln in _cover(pages)]
    period = report_period(" ".join(cover))
    if period:
        kind, date, year = period
        wording = str(year) if kind == "year" else f"{kind} ended {date}"
        return itype, wording, year, "title page"
    for ln in cover:
        m = re.fullmatch(rf"(?:.*\s)?({YEAR})", ln)
        if m and (_DOC_NOUN.search(ln) or ln == m.group(1)):
            return itype, m.group(1), year_number(m.group(1)), "title page"
    m = re.search(rf"(?:^|\s)({YEAR})$", itype)
    if m:  # a heading that ends in its year ("Arrests by Sex and Age: 2009")
        return itype, None, year_number(m.group(1)), "title page"
    return itype, None, None, "title page"
