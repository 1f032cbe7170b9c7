"""Answers as lossless JSON records and back, so a conversation can be saved and
reopened exactly as it was read (the passages as cited then, even after the index has
been rebuilt). Unlike the machine-readable answer (Answer.to_dict), a record
keeps every field of each passage.

Records come back from files a user uploads: anything malformed is one ReportQAError
naming what is wrong, never a traceback."""

from __future__ import annotations

from dataclasses import asdict, fields

from core.errors import ReportQAError
from core.models import Passage
from retrieval.answer import Answer, Comparison, ComparisonRow, Filters, Hit
from retrieval.short_answer import with_short_answer

#: Bumped when a record's shape changes incompatibly.
RECORD_VERSION = 1


def _hit(h: Hit) -> dict:
    return {"passage": h.passage.to_dict(), "score": float(h.score), "highlight": h.highlight,
            "rank": h.rank, "match": h.match}


def _hit_from(d: dict) -> Hit:
    return Hit(Passage.from_dict(d["passage"]), float(d["score"]), str(d["highlight"]),
               int(d["rank"]), match=str(d.get("match", "")))


def answer_record(a: Answer) -> dict:
    """A JSON-able record of an answer, every field kept."""
    d = {f.name: getattr(a, f.name) for f in fields(Answer) if f.name not in ("hits",)}
    d["hits"] = [_hit(h) for h in a.hits]
    d["corrections"] = [list(c) for c in a.corrections]
    d["signals"] = {k: float(v) for k, v in (a.signals or {}).items()
                    if isinstance(v, int | float)}
    return d


def answer_from_record(d: dict) -> Answer:
    """The Answer a record was made from."""
    d = dict(d)
    d["hits"] = tuple(_hit_from(h) for h in d.get("hits", ()))
    d["corrections"] = tuple(tuple(c) for c in d.get("corrections", ()))
    known = {f.name for f in fields(Answer)}
    a = Answer(**{k: v for k, v in d.items() if k in known})
    # Records saved before answers kept every short answer hold none for a question
    # in one part: it is made from the answer, as it was then.
    return a if a.short is not None else with_short_answer(a)


def comparison_record(c: Comparison) -> dict:
    """A JSON-able record of a comparison across reports."""
    rows = []
    for r in c.rows:
        row = {f.name: getattr(r, f.name) for f in fields(ComparisonRow) if f.name != "hit"}
        row["hit"] = _hit(r.hit) if r.hit else None
        rows.append(row)
    return {"question": c.question, "rows": rows, "searched_as": c.searched_as,
            "build_id": c.build_id, "reason": c.reason, "id": c.id}


def comparison_from_record(d: dict) -> Comparison:
    """The Comparison a record was made from."""
    rows = tuple(ComparisonRow(**{**r, "hit": _hit_from(r["hit"]) if r.get("hit") else None})
                 for r in d.get("rows", ()))
    return Comparison(**{**d, "rows": rows})


def filters_record(f: Filters) -> dict:
    """A JSON-able record of search filters."""
    return asdict(f)


def filters_from_record(d: dict) -> Filters:
    """The Filters a record was made from."""
    return Filters(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


def turn_record(turn: dict) -> dict:
    """One conversation turn (question, answer, comparison, filters, passages asked
    for, seconds taken) as a record."""
    return {"id": turn["id"], "question": turn["question"],
            "answer": answer_record(turn["answer"]),
            "comparison": comparison_record(turn["comparison"])
            if turn.get("comparison") is not None else None,
            "filters": filters_record(turn["filters"]), "top_k": turn["top_k"],
            "seconds": turn.get("seconds", 0.0)}


def turn_from_record(d: dict, where: str) -> dict:
    """A conversation turn from its record; `where` names the file for the error."""
    try:
        return {"id": int(d["id"]), "question": str(d["question"]),
                "answer": answer_from_record(d["answer"]),
                "comparison": comparison_from_record(d["comparison"])
                if d.get("comparison") else None,
                "filters": filters_from_record(d.get("filters") or {}),
                "top_k": int(d.get("top_k", 5)), "seconds": float(d.get("seconds", 0.0))}
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise ReportQAError(f"{where}: not a saved reportqa conversation ({type(e).__name__}:"
                            f" {e})", fix="open a file saved by “Save conversation”") from None
