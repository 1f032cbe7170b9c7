"""The dialog a card's source button opens: the passage in its source — the printed
page with the passage marked (PDF), or the section's neighbouring passages (text
reports)."""

from __future__ import annotations

import streamlit as st

from retrieval.export import clean_text
from ui.cards import h, md


@st.dialog("Source", width="large")
def source_dialog(hit) -> None:
    """The passage of `hit` in its source (the searcher and corpus folder are the ask
    page's, in st.session_state)."""
    from retrieval.source import source_view

    p = hit.passage
    st.markdown("**" + md(p.citation) + "**")
    searcher = st.session_state["rq_searcher"]
    with st.spinner("Opening the source…"):
        view = source_view(searcher.store, p, st.session_state["rq_corpus"])
    if view.note:
        st.info(md(view.note))
    if view.kind == "pdf_page" and view.image:
        st.image(view.image, caption=md(f"Printed page {view.page_label} of "
                                        f"{p.source_file} — the passage is marked in yellow"),
                 alt=clean_text(f"Page {view.page_label} of {p.report_title}, with the "
                                "passage marked"))
        if view.continues_on:
            st.caption(md("The passage continues on printed page(s) "
                          + ", ".join(view.continues_on)))
        return
    st.caption(md(f"The passage in its section, with the passages before and after it "
                  f"({p.source_file})"))
    shown = p.section
    for q in (*view.before, view.passage, *view.after):
        if q.section != shown:  # a neighbour from another subsection says which
            st.caption(md(" › ".join(q.section)))
            shown = q.section
        if q.passage_id == p.passage_id:
            st.html(f'<div class="rq-card"><div class="rq-text"><mark>{h(q.text)}</mark>'
                    "</div></div>")
        else:
            st.text(clean_text(q.text))
