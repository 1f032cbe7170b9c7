"""One turn of the conversation on the ask page: the question, then the reply — the
comparison table when it got one, the short answer, how the question was read, and a
card per cited passage with its "Add to export" toggle and its source button."""

from __future__ import annotations

import streamlit as st

from retrieval.answer import Answer, Filters
from retrieval.export import clean_text
from ui import basket as bk
from ui.cards import card_html, h, md, short_answer_html, turn_anchor
from ui.comparison_view import render_comparison
from ui.source_dialog import source_dialog
from ui.state import toggle_key


def filters_caption(f: Filters) -> str:
    """The filters an answer was searched with, in one line ("" when none)."""
    parts = []
    if f.report_ids:
        parts.append("reports: " + ", ".join(f.report_ids))
    if f.forces:
        parts.append("force: " + ", ".join(f.forces))
    if f.years:
        parts.append("year: " + ", ".join(str(y) for y in f.years))
    if f.section:
        parts.append("section: " + f.section)
    if f.kinds:
        parts.append("kind: " + ", ".join(f.kinds))
    if f.programmes:
        parts.append("programme: " + ", ".join(f.programmes))
    if f.latest_only:
        parts.append("latest reports only")
    return "Filters — " + "; ".join(parts) if parts else ""


def _turn(turn_id: int) -> dict:
    return next(t for t in st.session_state["turns"] if t["id"] == turn_id)


def _on_toggle(key: str, turn_id: int, passage_id: str) -> None:
    """Add the passage to the basket or take it out."""
    ss = st.session_state
    if ss.get(key):
        answer = _turn(turn_id)["answer"]
        hit = next(x for x in answer.hits if x.passage.passage_id == passage_id)
        bk.add(ss["basket"], bk.item_of(answer, hit))
    else:
        bk.remove(ss["basket"], passage_id)


def _add_all(turn_id: int) -> None:
    answer = _turn(turn_id)["answer"]
    for hit in answer.hits:
        bk.add(st.session_state["basket"], bk.item_of(answer, hit))


def _ask_as_new(turn_id: int) -> None:
    # The ask page answers it again at the start of its next run.
    st.session_state["reask"] = turn_id


def render_answer(turn: dict) -> None:
    """A turn's reply: comparison, short answer, reading notes and passage cards."""
    answer: Answer = turn["answer"]
    tid = turn["id"]
    st.html(f'<h2 class="rq-sr">Answer to: {h(turn["question"])}</h2>')
    if turn.get("comparison") is not None:
        render_comparison(turn["comparison"], tid)
    st.html(short_answer_html(answer.short_answer, tid))
    if not answer.abstained and turn.get("comparison") is None:
        st.caption(md(answer.summary_line))
    elif answer.abstained and answer.hits:
        st.caption("Nearest passages:")
    if answer.follow_up_of:
        cols = st.columns([4, 1])
        cols[0].caption(md(f"Read as a follow-up to “{answer.follow_up_of}” — searched "
                           f"as: {answer.searched_as}"))
        cols[1].button("Ask as a new question", key=f"new:{tid}",
                       on_click=_ask_as_new, args=(tid,),
                       help="Search this question on its own, without the previous one")
    notes = []
    if answer.corrections:
        notes.append("Spelling corrected: " + ", ".join(f"{a} → {b}"
                                                        for a, b in answer.corrections))
    cap = filters_caption(turn["filters"])
    if cap:
        notes.append(cap)
    about = answer.scope or {}
    if about.get("bodies") or about.get("years"):
        named = [*about.get("bodies", []), *(str(y) for y in about.get("years", []))]
        notes.append("Answered from the reports on " + ", ".join(named))
    if notes:
        st.caption(md(" · ".join(notes)))
    in_basket = bk.ids(st.session_state["basket"])
    for hit in answer.hits:
        pid = hit.passage.passage_id
        key = toggle_key(tid, pid)
        with st.container(border=True):
            st.html(card_html(hit, answer.abstained, tid))
            # The basket is the truth (it can change from the sidebar or a reload).
            st.session_state[key] = pid in in_basket
            c1, c2 = st.columns([3, 2])
            with c1:
                # The label is the citation, so each toggle has its own accessible
                # name; the visible words are the caption beside it.
                st.toggle(f"Add to export: [{hit.rank}] {clean_text(hit.passage.citation)}",
                          key=key, on_change=_on_toggle, args=(key, tid, pid))
            is_pdf = hit.passage.source_file.lower().endswith(".pdf")
            what = (f"Source page {hit.passage.page}" if is_pdf and hit.passage.page
                    else "Show in context")
            if c2.button(what, key=f"src:{tid}:{pid}", icon=":material/description:",
                         help="Open the passage in its source"):
                source_dialog(hit)
    if len(answer.hits) > 1 and not answer.abstained:
        st.button("Add all to export", key=f"all:{tid}", on_click=_add_all, args=(tid,),
                  help="Put every passage of this answer in the basket")


def render_turn(turn: dict) -> None:
    """A past turn: the user's question, then the reply."""
    with st.chat_message("user"):
        st.html(f'<div class="rq-turn" id="{turn_anchor(turn["id"])}"></div>')
        st.text(turn["question"])
    with st.chat_message("assistant"):
        render_answer(turn)
