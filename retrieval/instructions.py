"""Telling a question's subject from the instructions around it.

Analysts paste questions with directions for whoever answers them: "Answer the
following question as if you are an equity research analyst.", "Round your answer to
two decimal places.", "Provide a response by primarily using the statement of
income.", "According to the details outlined in the balance sheet, what is …". Those
words say how to answer, not what is asked: searched as words they pull in passages
about "answers" and "analysts", and counted as absent subjects they make a good
question look unanswerable. So a question is split, by rules of English form, into

- its subject: the sentences and clauses that ask something;
- hints: the statement, section or table an instruction points to ("the statement of
  cash flows", "the balance sheet"), which ranking may prefer but never requires;
- instructions: everything else that directs the answer (rounding, units, the role to
  play, "explain why").

Nothing here knows any report's wording: the rules read imperative openings, the
second person ("your answer") and framing clauses ("according to …,")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

#: A sentence that opens like this directs the answer: an imperative verb of answering,
#: or a request addressed to the reader.
_IMPERATIVE = re.compile(
    r"^\W*(?:please\s+)?(?:answer|respond|reply|round|give|provide|state|explain|show|"
    r"calculate|compute|estimate|approximate|assume|use|using|base|basing|rely|relying|"
    r"express|report|list|return|format|write|keep|include|ignore|consider|do\s+not|"
    r"don't|make\s+sure|be\s+sure|note\s+that|remember|we\s+need\s+to|you\s+are|"
    r"imagine|pretend|act\s+as|think|if\s+.{0,120}?\b(?:then|,)\s*(?:please\s+)?"
    r"(?:state|explain|say|answer|note))\b", re.I)
#: Words that mark a sentence as addressed to whoever answers.
_SECOND_PERSON = re.compile(r"\b(?:your|yourself|you\s+(?:are|have|do|can|should|must|"
                            r"may|will))\b", re.I)
#: A definition the question supplies ("DPO is defined as: …", "Define X as …"): it
#: names the figures needed, so it stays searchable, but it is not the subject.
_DEFINITION = re.compile(r"^\W*(?:define\b|.{1,80}?\bis\s+defined\s+as\b)", re.I)
#: A framing clause ahead of the question proper: "According to the details outlined
#: in the balance sheet, what …", "Taking into account the income statement, …".
_FRAME = re.compile(
    r"^\W*(?:(?:according\s+to|based\s+(?:on|off)|basing\s+(?:\w+\s+){0,3}?(?:on|by|off(?:\s+of)?)|"
    r"taking\s+into\s+account|using|relying\s+on|looking\s+at|drawing\s+on|"
    r"with\s+reference\s+to|referring\s+to|from)\b[^,?]{3,200}),\s*", re.I)
#: A trailing direction: "… in USD millions", "(round to one decimal place)", "… by
#: primarily using the statement of income".
_TAIL = re.compile(
    r"\s*(?:\((?:in\s+)?(?:units?\s+of\s+)?(?:usd|us\$|\$|£|gbp|eur|percent\w*)[^)]*\)|"
    r",?\s+in\s+(?:usd|us\$|gbp|eur|£|\$)\s*(?:millions?|billions?|thousands?)?|"
    r"\((?:[^()]*\b(?:round|decimal|units?\s+of)\b[^()]*)\)|"
    r",?\s+(?:by|while)\s+(?:primarily\s+)?(?:using|relying\s+on|referring\s+to)\s+[^?.]+)"
    r"(?=\s*[?.]?\s*$)", re.I)
#: A unit direction anywhere in a sentence: "How much (in USD billions) did …".
_UNITS = re.compile(r"\s*\((?:in\s+)?(?:units?\s+of\s+)?(?:usd|us\$|\$|£|gbp|eur|"
                    r"percent\w*|millions?|billions?|thousands?)\b[^)]*\)", re.I)
#: An imperative lead-in ending in a colon: "Answer in one sentence: what is …".
_LEAD_IN = re.compile(r"^([^:?]{3,80}):\s+(?=\S)")
#: Where an instruction points: "the <…> statement", "statement of <…>", "balance
#: sheet", "notes to …", "<…> section/table/note" — the part of a report to prefer.
_POINTS_TO = re.compile(
    r"\b(?:the\s+)?((?:[\w&'-]+\s+){0,3}(?:statements?|sheets?|sections?|tables?|notes?|"
    r"chapters?|summary|schedules?|annex|appendix)(?:\s+(?:of|on|to)\s+(?:the\s+)?"
    r"(?:[\w&'-]+\s*){1,3})?)", re.I)
#: Words of an instruction that never name a part of a report.
_FRAME_WORDS = frozenset("""the a an details detail information info data provided
primarily mainly clearly plainly outlined shown stated given presented found within in
on of and or from by using use based basing judgment judgments judgement judgements
off taking into account according relying rely looking at line items item figures
question answer response your you this that these those reported as only can who
perspective investment analyst""".split())


@dataclass(frozen=True)
class Reading:
    """A question split into what it asks and how it wants it answered."""

    #: The text to search: the asking sentences and clauses (definitions kept).
    subject: str
    #: Parts of a report the instructions point to ("statement of cash flows").
    hints: tuple[str, ...] = ()
    #: The instruction text left out of the search, as typed.
    instructions: tuple[str, ...] = ()


_SENTENCE = re.compile(r"(?<=[.?!])\s+(?=[A-Za-z(\"'])")
#: A full stop that ends an abbreviation, not a sentence ("e.g.", "U.S.", "No.").
_ABBREVIATION = re.compile(r"(?:\b(?:e\.g|i\.e|etc|vs|no|nos|approx|inc|co|corp|ltd|st|"
                           r"mr|mrs|ms|dr)|\b[A-Z](?:\.[A-Z])*)\.$", re.I)


def _sentences(text: str) -> list[str]:
    """Sentences, typed with or without a capital after the full stop."""
    out: list[str] = []
    for part in _SENTENCE.split(" ".join(text.split())):
        if out and _ABBREVIATION.search(out[-1]):
            out[-1] += " " + part
        elif part.strip():
            out.append(part)
    return out


def _hints(text: str) -> list[str]:
    out = []
    for m in _POINTS_TO.finditer(text):
        words = [w for w in re.findall(r"[\w&'-]+", m.group(1))
                 if w.lower() not in _FRAME_WORDS]
        if words and any(w.lower().rstrip("s") in ("statement", "sheet", "section",
                                                    "table", "note", "chapter", "summary",
                                                    "schedule", "annex", "appendix")
                         for w in words) and len(words) > 1:
            out.append(" ".join(words))
    return out


@lru_cache(maxsize=1024)
def read_instructions(question: str) -> Reading:
    """Split a question into its subject, the report parts its instructions point to,
    and the instructions themselves. A question with no instruction comes back whole.
    Kept per question: its reading, its follow-up test and its short answer each ask
    (65 µs a filings question)."""
    sentences = _sentences(question)
    if not sentences:
        return Reading(question)
    asking, instructions, hints = [], [], []
    for s in sentences:
        lead = _LEAD_IN.match(s)
        if lead and _IMPERATIVE.match(lead.group(1)) and not _DEFINITION.match(s):
            instructions.append(lead.group(1))
            hints += _hints(lead.group(1))
            s = s[lead.end():]
        for u in _UNITS.finditer(s):
            instructions.append(u.group(0).strip())
        s = _UNITS.sub("", s)
        is_question = s.rstrip().endswith("?")
        if not is_question and (_IMPERATIVE.match(s) or _SECOND_PERSON.search(s)) \
                and not _DEFINITION.match(s):
            instructions.append(s)
            hints += _hints(s)
            continue
        m = _FRAME.match(s)
        if m and len(s) - m.end() > 10:
            instructions.append(m.group(0).strip().rstrip(","))
            hints += _hints(m.group(0))
            s = s[m.end():]
        t = _TAIL.search(s)
        if t and t.start() > 10:
            instructions.append(t.group(0).strip())
            hints += _hints(t.group(0))
            s = s[:t.start()] + s[t.end():]
        asking.append(s.strip())
    if not asking:  # all instructions: search what there is rather than nothing
        return Reading(question)
    subject = " ".join(asking)
    return Reading(subject, tuple(dict.fromkeys(hints)), tuple(instructions))
