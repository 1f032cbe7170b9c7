"""The ask page: the conversation and its chat input — each question answered through
retrieval.respond (a question across reports gets the comparison, as on the command
line) — and, in the sidebar, the filters, the basket, the conversations and what the
index holds."""

from __future__ import annotations

import threading
import time

import streamlit as st

from core.errors import ReportQAError
from retrieval.answer import Filters
from retrieval.export import clean_text
from retrieval.query import MAX_QUESTION_CHARS, cut_question
from retrieval.respond import respond
from ui.answer_view import render_answer, render_turn
from ui.basket_panel import basket_panel
from ui.cards import md, turn_anchor
from ui.conversations import conversations_panel
from ui.filters import sidebar_filters
from ui.live_index import LiveIndex


def ask_page(live: LiveIndex) -> None:
    """The conversation and chat input; the sidebar: basket, filters, conversations."""
    ss = st.session_state
    # The source dialog opens passages with these.
    ss["rq_searcher"] = live.searcher
    ss["rq_corpus"] = live.settings.corpus_dir
    with st.sidebar:
        with st.expander("Filters", expanded=False):
            filters, top_k = sidebar_filters(live.facets)

    if ss["reask"] is not None:
        _reask(live.searcher)
    st.title("Ask the inspection reports")
    for problem in ss["problems"]:
        st.warning(md(problem))
    if not ss["turns"]:
        st.caption(md(f"{len(live.status['reports'])} report(s), {live.status['passages']} "
                      "passages indexed. Ask in plain English, e.g. “How does the force "
                      "tackle anti-social behaviour?”, then ask a follow-up."))
    for turn in ss["turns"]:
        render_turn(turn)

    # No max_chars: the browser would drop a longer paste whole, without a word.
    prompt = st.chat_input("Ask a question about the reports", key="question")
    if prompt:
        question, was_cut = cut_question(" ".join(clean_text(prompt).split()))
        if question:
            tid = ss["next_turn"]
            with st.chat_message("user"):
                st.html(f'<div class="rq-turn" id="{turn_anchor(tid)}"></div>')
                st.text(question)
                if was_cut:
                    st.caption(md(f"Your question was cut to its first "
                                  f"{MAX_QUESTION_CHARS:,} characters."))
            with st.chat_message("assistant"):
                turn = _ask(live.searcher, question, filters, top_k, live.warm)
                if turn is not None:
                    render_answer(turn)
            _scroll_to(tid)

    # Drawn last, so the basket includes an answer given in this run.
    with st.sidebar:
        basket_panel()
        conversations_panel()
        _index_caption(live.status)


def _ask(searcher, question: str, filters: Filters, top_k: int,
         warm: threading.Thread) -> dict | None:
    """Answer a question as the conversation's next turn; None (the error shown) when
    it could not be answered."""
    ss = st.session_state
    history = [t["question"] for t in ss["turns"]]
    t0 = time.perf_counter()
    try:
        if warm.is_alive():
            with st.spinner("Loading the language model (first question only)…"):
                warm.join()
        reply = respond(searcher, question, top_k=top_k, filters=filters, history=history,
                        step=st.spinner)
    except ReportQAError as e:
        st.error(md(e.line()))
        return None
    turn = {"id": ss["next_turn"], "question": question, "answer": reply.answer,
            "comparison": reply.comparison, "filters": filters, "top_k": top_k,
            "seconds": time.perf_counter() - t0}
    ss["next_turn"] += 1
    ss["turns"].append(turn)
    return turn


def _reask(searcher) -> None:
    """Answer a turn again as a new question (its "Ask as a new question" button)."""
    ss = st.session_state
    tid, ss["reask"] = ss["reask"], None
    for t in ss["turns"]:
        if t["id"] == tid:
            reply = respond(searcher, t["question"], top_k=t["top_k"], filters=t["filters"],
                            follow_up=False)
            t["answer"], t["comparison"] = reply.answer, reply.comparison


def _scroll_to(turn_id: int) -> None:
    """Bring a new turn into view even when the reader had scrolled up (the chat
    keeps its place otherwise)."""
    # A component iframe (same origin) reaches the page; st.html's scripts can be
    # stripped once another element has fixed the page's sanitiser configuration.
    # Streamlit scrolls the chat to its bottom as the answer's elements arrive, so
    # the turn's start is brought back to the top for two seconds, unless the reader
    # scrolls or types meanwhile.
    anchor = turn_anchor(turn_id)
    st.iframe(
        "<script>(function(){const w=window.parent,d=w.document;let moved=false,n=0;"
        "for(const e of ['wheel','touchstart','keydown','mousedown'])"
        "d.addEventListener(e,()=>{moved=true;},{once:true,capture:true});"
        f"function go(){{const el=d.getElementById('{anchor}');"
        "if(el&&!moved){const t=el.getBoundingClientRect().top;"
        "if(t<0||t>150){el.scrollIntoView({block:'start'});}"
        f"w.rqScrolled='{anchor}';}}if(n++<20&&!moved){{setTimeout(go,100);}}}}"
        "setTimeout(go,50);})();</script>", height=1, alt="Scrolls the new answer into view")


def _index_caption(status: dict) -> None:
    """What the analyst needs to know of the index: its date and what it holds."""
    n_rep = len(status["reports"])
    st.caption(md(f"Index of {status['built_at'][:16].replace('T', ' ')} UTC: {n_rep} "
                  f"report{'s' if n_rep != 1 else ''} · {status['passages']} passages · "
                  f"model {status['model']}"))
    st.page_link(st.session_state["rq_pages"]["library"], label="What the index holds",
                 icon=":material/menu_book:")
