"""The basket in the ask page's sidebar: a download button per export format first
(reachable without scrolling), then each kept passage with its note, its formatted
citation to copy, and move/remove buttons; a basket file can be loaded back. The
basket itself is ui/basket.py."""

from __future__ import annotations

import streamlit as st

from core.errors import ReportQAError
from retrieval.export import FORMATS, export_filename, formatted_citation, render
from ui import basket as bk
from ui.cards import md


def basket_panel() -> None:
    """The basket's sidebar panel."""
    ss = st.session_state
    items = ss["basket"]
    st.header("Basket")
    n = len(items)
    st.caption(md(f"{n} passage{'s' if n != 1 else ''} kept for the annex" if n else
                  "Empty: switch on “Add to export” on a passage to keep it here."))
    flash = ss.pop("basket_flash", None)
    if flash:
        st.success(md(flash))
    topic = st.text_input("Topic (names the files)", key="topic",
                          placeholder="e.g. victim contact",
                          help="Export file names say the date, this topic and the count")
    _downloads([dict(r) for r in items], topic)
    for i, r in enumerate(items):
        _item(items, i, r)
    with st.expander("Load or empty the basket"):
        _load(items)
        st.button("Empty the basket", key="basket_empty",
                  on_click=lambda: st.session_state["basket"].clear(), disabled=not items)


def _downloads(rows: list[dict], topic: str) -> None:
    cols = st.columns(2)
    for i, fmt in enumerate(FORMATS.values()):
        with cols[i % 2]:
            st.download_button(
                fmt.label, data=render(rows, fmt.name) if rows else b"",
                file_name=export_filename(rows, fmt.name, topic=topic or None),
                mime=fmt.mime, key=f"dl_{fmt.name}", disabled=not rows,
                on_click="ignore", width="stretch",
                help=f"The basket as {fmt.label}, notes included")


def _item(items: list[dict], i: int, r: dict) -> None:
    """One kept passage: citation, move/remove buttons, note, citation to copy."""
    ss = st.session_state
    pid = r["passage_id"]
    with st.container(border=True, key=f"bi:{pid}"):
        st.markdown(md(f"{i + 1}. {r['citation']}"))
        with st.container(horizontal=True):
            st.button("Up", key=f"up:{pid}", on_click=bk.move, args=(items, pid, -1),
                      disabled=i == 0, help="Move up")
            st.button("Down", key=f"down:{pid}", on_click=bk.move, args=(items, pid, 1),
                      disabled=i == len(items) - 1, help="Move down")
            st.button("Remove", key=f"rm:{pid}", on_click=bk.remove, args=(items, pid),
                      help="Take it out of the basket")
        nkey = f"note:{pid}"
        if nkey not in ss:
            ss[nkey] = r.get("note", "")
        # Named by the citation (as the card's toggle is): a name that stays with
        # the passage when it moves, and differs from every other note's.
        st.text_area(f"Note on {r['citation']}", key=nkey, height=68,
                     label_visibility="collapsed", max_chars=bk.MAX_NOTE,
                     placeholder="Your note for the briefing",
                     on_change=lambda p=pid, k=nkey: bk.set_note(
                         st.session_state["basket"], p, st.session_state[k]))
        st.code(formatted_citation(r), language=None, wrap_lines=True)


def _load(items: list[dict]) -> None:
    """The uploader that adds a basket file's passages (a JSON export) to the basket."""
    ss = st.session_state
    up = st.file_uploader("Load a basket (a JSON export)", type=["json"], key="basket_file")
    if up is None or up.file_id in ss["loaded_files"]:
        return
    ss["loaded_files"].add(up.file_id)
    try:
        loaded = bk.load(up.getvalue(), up.name)
    except ReportQAError as e:
        st.error(md(e.line()))
        return
    added = sum(bk.add(items, it) for it in loaded)
    for it in loaded:
        ss[f"note:{it['passage_id']}"] = next(
            x["note"] for x in items if x["passage_id"] == it["passage_id"])
    # Drawn again from the top, so the count and the items show the load.
    ss["basket_flash"] = f"Loaded {added} passage(s) from {up.name}"
    st.rerun()
