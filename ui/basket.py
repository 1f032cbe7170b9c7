"""The basket: the passages an analyst keeps for a briefing, in their order, each with
a note; it becomes the annex, in any export format (retrieval/export.py's FORMATS).

A basket item is an export row (retrieval/export.py: the passage's citation, text,
question it answered, ids) plus the note, so the basket needs no index to be shown,
saved, exported or reloaded, and a rebuilt index never changes what was kept. The
JSON export is also the basket file: "Load a basket" reads it back."""

from __future__ import annotations

import json

from core.errors import ReportQAError
from retrieval.answer import Answer, Hit
from retrieval.export import COLUMNS, clean_text, export_rows

#: The longest note kept (a note is a line or two for the briefing, not a document).
MAX_NOTE = 2000
#: Items a basket file may hold.
MAX_ITEMS = 500


def item_of(answer: Answer, hit: Hit, build_id: str = "") -> dict:
    """The basket item for one cited passage of an answer."""
    one = Answer(question=answer.question, hits=(hit,), abstained=answer.abstained,
                 confidence=answer.confidence, build_id=answer.build_id)
    row = export_rows([one], build_id=build_id)[0]
    row["note"] = ""
    return row


def ids(basket: list[dict]) -> set[str]:
    """The passage ids in the basket."""
    return {r["passage_id"] for r in basket}


def add(basket: list[dict], item: dict) -> bool:
    """Add an item at the end unless its passage is already in; whether it was added."""
    if item["passage_id"] in ids(basket):
        return False
    basket.append(item)
    return True


def remove(basket: list[dict], passage_id: str) -> None:
    """Take a passage out of the basket."""
    basket[:] = [r for r in basket if r["passage_id"] != passage_id]


def move(basket: list[dict], passage_id: str, step: int) -> None:
    """Move a passage `step` places (-1 up, +1 down), staying inside the basket."""
    i = next((n for n, r in enumerate(basket) if r["passage_id"] == passage_id), None)
    if i is None:
        return
    j = max(0, min(len(basket) - 1, i + step))
    basket.insert(j, basket.pop(i))


def set_note(basket: list[dict], passage_id: str, note: str) -> None:
    """Set a passage's note (cleaned of control characters, at most MAX_NOTE)."""
    for r in basket:
        if r["passage_id"] == passage_id:
            r["note"] = clean_text(note)[:MAX_NOTE]


def load(data: bytes, where: str) -> list[dict]:
    """A basket from a JSON export (a list of rows with their citation, text and
    passage id); ReportQAError naming `where` when it is not one."""
    fix = "load a JSON file exported from the basket"
    try:
        rows = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as e:
        raise ReportQAError(f"{where}: not JSON ({e})", fix=fix) from None
    if not isinstance(rows, list):
        raise ReportQAError(f"{where}: not a basket (a list of passages)", fix=fix)
    if len(rows) > MAX_ITEMS:
        raise ReportQAError(f"{where}: {len(rows)} passages, more than {MAX_ITEMS}",
                            fix="split the basket")
    out: list[dict] = []
    for n, r in enumerate(rows, 1):
        if not isinstance(r, dict) or not all(isinstance(r.get(k), str) and r.get(k)
                                               for k in ("passage_id", "citation", "text")):
            raise ReportQAError(f"{where}: passage {n} has no passage id, citation or text",
                                fix=fix)
        item = {}
        for c in COLUMNS:
            v = r.get(c, "")
            if not isinstance(v, str | int | float | bool) and v is not None:
                v = str(v)
            item[c] = clean_text(v) if isinstance(v, str) else v
        item["note"] = clean_text(r.get("note") or "")[:MAX_NOTE]
        if item["passage_id"] not in ids(out):
            out.append(item)
    return out
