"""Does a sentence state what was asked?

Whole-text similarity says a passage is *about* the question; it does not say the
passage *answers* it. "What was the satisfaction rate among victims of burglary?"
is close to "83.7 percent of victims were satisfied" — every word but one is met, and
the one that is not ("burglary") is the question. So answerability is judged per
sentence, word by word:

- every subject word of the question must be met by the sentence or by what a reader
  of the page knows (its section path, report title and body): by the word itself, or
  by a word the embedding model puts close to it (token vectors of the same model the
  index uses, stored with the build — see ingest/index_format);
- a question that asks for a count, a sum, a rate or a date needs a sentence that
  states one — among the sentences that meet its subject best.

The signals feed the abstention model (retrieval/abstain.py), fitted out of sample and
out of family, and the reason names what is missing ("the reports discuss restorative
justice but give no sum for it")."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ingest.passages import passage_sentences
from retrieval.query import Query
from retrieval.text import stem, tokens
from retrieval.understand import Embed, subject_terms

#: Hits whose sentences are read.
HITS = 3
#: A sentence meets the subject "as well as the best" within this much unmet share.
NEAR_BEST = 0.1
#: A word at least this close (token vectors) meets a question word in the reasons'
#: wording; the features use the similarity itself.
MEETS = 0.6

#: What a question asks for, by its form (general English, any report).
SLOTS = (
    ("date", re.compile(r"^\W*when\b|\b(?:what|which)\s+(?:date|day|month|year)\b|"
                        r"\bhow long ago\b|\bsince when\b", re.I)),
    ("count", re.compile(r"\bhow many\b|\b(?:the\s+)?(?:total\s+)?number of\b|"
                         r"\bcount of\b|\bhow often\b", re.I)),
    ("sum", re.compile(r"\bhow much\b(?![^?]*\b(?:chang\w*|increas\w*|decreas\w*|"
                       r"f[ae]ll\w*|r[io]se\w*|grow\w*|grew|improv\w*|better|worse)\b)|"
                       r"\b(?:cost|price|budget|spend(?:ing)?|expenditure|sum|amount)s?\s+"
                       r"(?:of|on|for)\b", re.I)),
    ("rate", re.compile(r"\b(?:what|which)\s+(?:percentage|proportion|share|rate|ratio)\b|"
                        r"\bpercent(?:age)?\b|%|\brates?\b|\bratios?\b|\bmargins?\b",
                        re.I)),
)
_NOUN = {"date": "date", "count": "number", "sum": "sum", "rate": "rate or percentage"}
_NUMBER_WORDS = r"(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|" \
                r"thirty|forty|fifty|hundreds?|thousands?|dozens?|millions?)"
_YEARISH = re.compile(r"^(?:19|20)\d{2}$")
_RATE_WORDS = re.compile(r"\bper\s+(?:\d|cent|thousand|hundred|head|capita)|percent|%|"
                         r"\brates?\b|\bratios?\b", re.I)
#: A figure followed by the noun it counts.
_COUNTED = re.compile(r"\s+(?!(?:per|percent|cent|times|and|or|in|of|to|for|from)\b)"
                      r"[a-z][a-z-]{2,}", re.I)
_NOT_COUNT = re.compile(r"\s*(?:%|per\s*cent|percent|(?:\w+\s+){0,2}(?:per|for every|in every)"
                        r"\s+(?:\d|1,000|thousand|hundred|head|capita)|times\b|x\b)", re.I)
_HAS = {
    "date": re.compile(r"\b(?:January|February|March|April|May|June|July|August|September|"
                       r"October|November|December)\b|\b(?:19|20)\d{2}\b|"
                       r"\b\d{1,2}/\d{1,2}/\d{2,4}\b", re.I),
    "sum": re.compile(r"[£$€]\s?\d|\b\d[\d,.]*\s*(?:million|billion|bn|m|k|thousand)\b|"
                      r"\bin (?:millions|billions|thousands)\b", re.I),
    "rate": re.compile(r"\d\s*(?:%|per\s*cent|percent)|\bper\s+(?:1,?000|100,?000|head|"
                       r"capita|thousand)|\b(?:rate|ratio|margin)\b[^.]{0,40}\d|\d[^.]{0,40}"
                       r"\b(?:rate|ratio|margin)\b", re.I),
}


def wanted_slot(text: str) -> str | None:
    """The kind of thing the question asks for: date, count, sum or rate (or None)."""
    for name, rx in SLOTS:
        if rx.search(text):
            return name
    return None


def states(slot: str, sentence: str) -> bool:
    """Whether a sentence (or table row) states a thing of this kind."""
    if slot == "count":
        # Where the sentence (or table row, with its unit) speaks of rates, a bare
        # figure is one of them: a count needs its noun ("12,345 burglaries").
        rates = bool(_RATE_WORDS.search(sentence))
        for m in re.finditer(r"(?<![\w.])\d[\d,]*(?:\.\d+)?(?![\w])", sentence):
            # A count is a number that is no year, percentage, rate or ratio.
            after = sentence[m.end():m.end() + 24]
            before = sentence[max(0, m.start() - 12):m.start()]
            if _YEARISH.match(m.group(0).replace(",", "")) or _NOT_COUNT.match(after) \
                    or re.search(r"\b(?:per|every)\s*$", before, re.I):
                continue
            if rates and not _COUNTED.match(after):
                continue
            return True
        return bool(re.search(rf"\b{_NUMBER_WORDS}\b", sentence, re.I))
    return bool(_HAS[slot].search(sentence))


@dataclass
class Alignment:
    """How well the best hits' sentences meet the question's subject and slot."""

    features: dict = field(default_factory=dict)
    #: Subject words met and not met by the best-meeting sentence, question order.
    met: tuple[str, ...] = ()
    unmet: tuple[str, ...] = ()
    #: The kind of thing asked for, and whether a best-meeting sentence states one.
    slot: str | None = None
    slot_found: bool = True

    def reason(self) -> str | None:
        """A one-line reason naming what is missing, or None when nothing is."""
        about = " ".join(self.met[:5])
        if self.slot and not self.slot_found and about:
            tail = f" for {' '.join(self.unmet[:3])}" if self.unmet else ""
            return f"the reports discuss {about} but give no {_NOUN[self.slot]}{tail}"
        if self.unmet and about:
            return f"the reports discuss {about} but not {' '.join(self.unmet[:3])}"
        return None


ZERO = {"unmet": 0.0, "unmet_top": 0.0, "unmet_worst": 0.0, "slot_missing": 0.0}


def align(store, embed: Embed, query: Query, hits) -> Alignment:
    """The alignment signals of a question against its best hits (see module doc), in
    the index in `store`, with `embed` the index's embedding model."""
    terms = subject_terms(query, store.faiss.ntotal)
    slot = wanted_slot(query.text)
    if not hits or not terms:
        return Alignment(dict(ZERO), slot=slot)
    tvecs = _vectors(store, embed, [t.word for t in terms])
    idf = np.array([t.idf for t in terms], dtype=np.float32)
    best = None  # (unmet share, per-term similarity, sentence)
    top_unmet = None
    rows = []
    for rank, h in enumerate(hits[:HITS]):
        p = h.passage
        context = tokens(" ".join((*p.section, p.report_title, p.force)))
        for sent in passage_sentences(p.text):
            sims = _meet(store, terms, tvecs, tokens(sent) + context)
            unmet = float((idf * (1 - sims)).sum() / idf.sum())
            rows.append((unmet, sims, sent))
            if rank == 0 and (top_unmet is None or sent in h.highlight):
                top_unmet = unmet if top_unmet is None else min(top_unmet, unmet)
            if best is None or unmet < best[0]:
                best = (unmet, sims, sent)
    unmet, sims, _ = best
    worst = float(((1 - sims) * idf).max() / idf.max())
    found = True
    if slot:
        found = any(states(slot, s) for u, _, s in rows if u <= unmet + NEAR_BEST)
    met = tuple(t.word for t, s in zip(terms, sims) if s >= MEETS)
    miss = tuple(t.word for t, s in zip(terms, sims) if s < MEETS)
    feats = {"unmet": unmet, "unmet_top": top_unmet or 0.0, "unmet_worst": worst,
             "slot_missing": float(bool(slot) and not found)}
    return Alignment(feats, met, miss, slot, found)


def _vectors(store, embed: Embed, words: list[str]) -> np.ndarray:
    """Token vectors of question words: the build's vocabulary vectors where the word
    is in it, else embedded now (cached)."""
    idx = store.vocab_index
    vv = store.vocab_matrix
    out, todo = [], []
    for w in words:
        j = idx.get(w)
        out.append(None if j is None or vv is None else vv[j])
        if out[-1] is None:
            todo.append(w)
    if todo:
        got = dict(zip(todo, embed(todo)))
        out = [v if v is not None else np.asarray(got[w], dtype=np.float32)
               for v, w in zip(out, words)]
    return np.vstack(out)


def _meet(store, terms, tvecs: np.ndarray, words: list[str]) -> np.ndarray:
    """Per question term, how well some word of the sentence or its context meets it:
    1 for the same stem, else the best token-vector similarity."""
    stems = {stem(w) for w in words}
    exact = np.array([t.stem in stems or any(e.lower() in words for e in t.equivalents)
                      for t in terms], dtype=bool)
    idx = store.vocab_index
    rows = sorted({idx[w] for w in words if w in idx})
    sims = np.zeros(len(terms), dtype=np.float32)
    if rows and store.vocab_matrix is not None:
        wv = store.vocab_matrix[rows]
        sims = np.clip((tvecs @ wv.T).max(axis=1), 0.0, 1.0)
    return np.where(exact, 1.0, sims)

