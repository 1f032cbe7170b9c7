"""The reportqa Streamlit app: ask a question, read the short answer and the cited
passages, open each passage's source page, ask a follow-up, and keep the passages you
need in a basket that becomes the briefing's annex.

Run with `reportqa serve`, which binds to 127.0.0.1 (or `streamlit run ui/app.py
--server.address 127.0.0.1`: without that option Streamlit listens on every interface,
and the app has no login). The index is the one `load_settings().index_dir` names
(REPORTQA_INDEX). The app only calls retrieval (and ingest's settings and index build):
it never opens index files itself.

Pages: Ask (the conversation; the sidebar holds the basket, filters and
conversations), Library (what the index holds), and Admin (changing the index) where
Settings.admin_enabled allows it.

Untrusted text — passages from reports, questions from users, uploaded files — reaches
the page only through st.text, widget options, or st.html after html.escape (ui/cards.py);
Markdown-rendering elements get it backslash-escaped. Control and bidi-override
characters are removed."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import threading
import time
from pathlib import Path

import streamlit as st

try:
    from core.settings import load_settings
except ImportError:  # `streamlit run ui/app.py` from a checkout that is not installed
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from core.settings import load_settings

from core.errors import ReportQAError
from retrieval.answer import Answer, Comparison, Filters
from retrieval.export import (
    FORMATS,
    clean_text,
    comparison_rows,
    export_filename,
    formatted_citation,
    render,
    safe_filename,
)
from retrieval.facets import GRADE_ORDER, current_build, facets, library
from retrieval.query import MAX_QUESTION_CHARS, cut_question
from retrieval.records import turn_from_record, turn_record
from ui import basket as bk
from ui.admin import admin_page, build
from ui.cards import CSS, card_html, h, short_answer_html, turn_anchor
from ui.cards import md as _md
from ui.workspace import MAX_SAVED, Workspace, new_session_id, valid_session_id

ANY_SECTION = "(any section)"
EXPORT_LABELS = {"csv": "CSV (Excel)", "md": "Markdown", "docx": "Word", "json": "JSON"}
#: The JSON of a downloaded conversation says what it is.
CONVERSATION_KIND = "reportqa conversation"


# -- resources (once per process, keyed by the live build) ---------------------------

@st.cache_resource(show_spinner="Opening the index…", max_entries=2)
def _searcher(index_dir: str, build: str, model: str | None = None):
    """The Searcher for this build; a rebuild changes `build`, so it is picked up.
    The model is the index's own unless REPORTQA_MODEL names one (as in the CLI)."""
    from retrieval.search import get_searcher

    return get_searcher(Path(index_dir), model)


@st.cache_resource(show_spinner=False, max_entries=2)
def _warm_up(index_dir: str, build: str, model: str | None) -> threading.Thread:
    """Load the embedding model and the speller in the background as soon as the page
    is first shown, so the first question does not wait for them (~10 s)."""
    searcher = _searcher(index_dir, build, model)

    def run() -> None:
        try:
            searcher.warm_up()
        except Exception:  # noqa: BLE001 — the first question reports the real error
            logging.getLogger(__name__).exception("model warm-up failed")

    t = threading.Thread(target=run, name="reportqa-warm-up", daemon=True)
    t.start()
    return t


@st.cache_resource(show_spinner=False, max_entries=2)
def _facets_and_status(index_dir: str, build: str, model: str | None
                       ) -> tuple[dict, dict]:
    store = _searcher(index_dir, build, model).store
    return facets(store), store.status().__dict__


# -- state: this browser session's conversation and basket, kept on disk ---------------

def _state(settings) -> None:
    """The session's state, loaded once per browser session from its file (the URL's
    `?s=` id names it, so a reload finds it again)."""
    ss = st.session_state
    if "session_id" not in ss:
        sid = st.query_params.get("s")
        if not valid_session_id(sid):
            sid = new_session_id()
        ss["session_id"] = sid
        ws = Workspace(settings.sessions, sid)
        data, problem = ws.load()
        ss["workspace"] = ws
        ss["problems"] = [problem] if problem else []
        ss["basket"] = data["basket"]
        ss["topic"] = data.get("topic", "")
        ss["saved"] = data.get("saved", [])
        try:
            ss["turns"] = [turn_from_record(t, str(ws.path)) for t in data["turns"]]
        except ReportQAError as e:
            ss["turns"] = []
            ss["problems"].append(e.line())
        ss["next_turn"] = max((t["id"] for t in ss["turns"]), default=0) + 1
    # A page switch drops the query string: put the session id back.
    if st.query_params.get("s") != ss["session_id"]:
        st.query_params["s"] = ss["session_id"]
    ss.setdefault("reask", None)
    ss.setdefault("loaded_files", set())


def _persist() -> None:
    """Write the session's basket and conversation to its file (if they changed)."""
    ss = st.session_state
    ws = ss.get("workspace")
    if ws is None:
        return
    problem = ws.save({"basket": ss["basket"], "topic": ss.get("topic", ""),
                       "turns": [turn_record(t) for t in ss["turns"]], "saved": ss["saved"]})
    if problem and problem not in ss["problems"]:
        ss["problems"].append(problem)
        st.warning(_md(problem))


def _toggle_key(turn_id: int, passage_id: str) -> str:
    return f"sel:{turn_id}:{passage_id}"


def _on_toggle(key: str, turn_id: int, passage_id: str) -> None:
    """Add the passage to the basket or take it out."""
    ss = st.session_state
    if ss.get(key):
        turn = next(t for t in ss["turns"] if t["id"] == turn_id)
        hit = next(x for x in turn["answer"].hits if x.passage.passage_id == passage_id)
        bk.add(ss["basket"], bk.item_of(turn["answer"], hit))
    else:
        bk.remove(ss["basket"], passage_id)


def _add_all(turn_id: int) -> None:
    ss = st.session_state
    turn = next(t for t in ss["turns"] if t["id"] == turn_id)
    for hit in turn["answer"].hits:
        bk.add(ss["basket"], bk.item_of(turn["answer"], hit))


def _clear() -> None:
    ss = st.session_state
    for t in ss["turns"]:
        for hit in t["answer"].hits:
            ss.pop(_toggle_key(t["id"], hit.passage.passage_id), None)
    ss["turns"] = []


# -- rendering ----------------------------------------------------------------------------

def _filters_caption(f: Filters) -> str:
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


def comparison_table(c: Comparison) -> list[dict]:
    """The comparison's rows as the app's table (one row per report)."""
    out = []
    for r in c.rows:
        ok = r.answers and r.hit is not None
        out.append({
            "Body": clean_text(r.force), "Year": r.year, "Programme": clean_text(r.programme),
            "Answers": "yes" if ok else "no",
            "Judgment": clean_text(r.judgment or ""),
            "Figure": r.figure if ok else None, "Unit": r.unit if ok else None,
            "Key sentence": clean_text(r.hit.highlight) if ok else "",
            "Citation": clean_text(r.hit.passage.citation) if ok else "",
            "Latest": "yes" if r.latest else "superseded",
        })
    return out


def _render_comparison(turn: dict) -> None:
    c: Comparison = turn["comparison"]
    st.markdown("**" + _md(c.summary_line) + "**")
    if not c.rows:
        return
    table = comparison_table(c)
    st.dataframe(table, hide_index=True, key=f"cmp:{turn['id']}", width="stretch")
    unit = c.chart_unit
    if unit:
        import pandas as pd

        data = pd.DataFrame([{"report": f"{r.force} {r.year or ''}".strip(), "figure": r.figure}
                             for r in c.answering if r.unit == unit and r.figure is not None])
        st.caption(_md(f"The figure each report's key sentence states ({unit})"))
        st.bar_chart(data, x="report", y="figure", height=260)
    rows = comparison_rows(c)
    cols = st.columns(len(FORMATS))
    for col, fmt in zip(cols, FORMATS):
        col.download_button(
            f"Table as {EXPORT_LABELS[fmt]}", data=render(rows, fmt) if rows else b"",
            file_name=safe_filename("compare " + c.question, fmt), mime=FORMATS[fmt][1],
            key=f"cmpdl:{turn['id']}:{fmt}", disabled=not rows, on_click="ignore")
    st.caption("The answering passage of each report follows.")


def _ask_as_new(turn_id: int) -> None:
    st.session_state["reask"] = turn_id


@st.dialog("Source", width="large")
def _source_dialog(hit) -> None:
    """The passage in its source: the printed page with the passage marked (PDF), or
    the section's neighbouring passages (text reports)."""
    from retrieval.source import source_view

    p = hit.passage
    st.markdown("**" + _md(p.citation) + "**")
    searcher = st.session_state["rq_searcher"]
    with st.spinner("Opening the source…"):
        view = source_view(searcher.store, p, st.session_state["rq_corpus"])
    if view.note:
        st.info(_md(view.note))
    if view.kind == "pdf_page" and view.image:
        st.image(view.image, caption=_md(f"Printed page {view.page_label} of "
                                         f"{p.source_file} — the passage is marked in yellow"),
                 alt=clean_text(f"Page {view.page_label} of {p.report_title}, with the "
                                "passage marked"))
        if view.continues_on:
            st.caption(_md("The passage continues on printed page(s) "
                           + ", ".join(view.continues_on)))
        return
    st.caption(_md(f"The passage in its section, with the passages before and after it "
                   f"({p.source_file})"))
    shown = p.section
    for q in (*view.before, view.passage, *view.after):
        if q.section != shown:  # a neighbour from another subsection says which
            st.caption(_md(" › ".join(q.section)))
            shown = q.section
        if q.passage_id == p.passage_id:
            st.html(f'<div class="rq-card"><div class="rq-text"><mark>{h(q.text)}</mark>'
                    "</div></div>")
        else:
            st.text(clean_text(q.text))


def _render_answer(turn: dict) -> None:
    answer: Answer = turn["answer"]
    tid = turn["id"]
    st.html(f'<h2 class="rq-sr">Answer to: {h(turn["question"])}</h2>')
    if turn.get("comparison") is not None:
        _render_comparison(turn)
    st.html(short_answer_html(answer.short_answer, tid))
    if not answer.abstained and turn.get("comparison") is None:
        st.caption(_md(answer.summary_line))
    elif answer.abstained and answer.hits:
        st.caption("Nearest passages:")
    if answer.follow_up_of:
        cols = st.columns([4, 1])
        cols[0].caption(_md(f"Read as a follow-up to “{answer.follow_up_of}” — searched "
                            f"as: {answer.searched_as}"))
        cols[1].button("Ask as a new question", key=f"new:{tid}",
                       on_click=_ask_as_new, args=(tid,),
                       help="Search this question on its own, without the previous one")
    notes = []
    if answer.corrections:
        notes.append("Spelling corrected: " + ", ".join(f"{a} → {b}"
                                                        for a, b in answer.corrections))
    cap = _filters_caption(turn["filters"])
    if cap:
        notes.append(cap)
    about = answer.scope or {}
    if about.get("bodies") or about.get("years"):
        named = [*about.get("bodies", []), *(str(y) for y in about.get("years", []))]
        notes.append("Answered from the reports on " + ", ".join(named))
    if notes:
        st.caption(_md(" · ".join(notes)))
    in_basket = bk.ids(st.session_state["basket"])
    for hit in answer.hits:
        pid = hit.passage.passage_id
        key = _toggle_key(tid, pid)
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
                _source_dialog(hit)
    if len(answer.hits) > 1 and not answer.abstained:
        st.button("Add all to export", key=f"all:{tid}", on_click=_add_all, args=(tid,),
                  help="Put every passage of this answer in the basket")


def _render_turn(turn: dict) -> None:
    with st.chat_message("user"):
        st.html(f'<div class="rq-turn" id="{turn_anchor(turn["id"])}"></div>')
        st.text(turn["question"])
    with st.chat_message("assistant"):
        _render_answer(turn)


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


# -- sidebar ------------------------------------------------------------------------------

def _sidebar_filters(fac: dict) -> tuple[Filters, int]:
    st.header("Filters")
    reports = {r["report_id"]: r for r in fac["reports"]}

    def report_label(rid: str) -> str:
        r = reports[rid]
        head = f"{r['force']} — {r['title']}" if r["force"] else r["title"]
        return clean_text(f"{head} ({r['year']})" if r["year"] else head)

    report_ids = st.multiselect("Report", list(reports), format_func=report_label,
                                key="f_reports", placeholder="All reports")
    forces = st.multiselect("Force", fac["forces"], format_func=clean_text, key="f_forces",
                            placeholder="All forces")
    years = st.multiselect("Year", fac["years"], key="f_years", placeholder="All years")
    section = st.selectbox("Section", [ANY_SECTION] + fac["sections"],
                           format_func=clean_text, key="f_section")
    kinds = st.multiselect("Kind", fac["kinds"], key="f_kinds", placeholder="All kinds")
    programmes = st.multiselect("Programme", fac.get("programmes", []), key="f_programmes",
                                placeholder="All programmes") \
        if len(fac.get("programmes", [])) > 1 else []
    latest = st.checkbox("Latest inspection only", key="f_latest",
                         help="Leave out reports superseded by a later report of the same "
                              "body and programme")
    top_k = st.slider("Passages per answer", 1, 20, 5, key="top_k")
    f = Filters(report_ids=tuple(report_ids), forces=tuple(forces),
                years=tuple(int(y) for y in years),
                section=None if section == ANY_SECTION else section, kinds=tuple(kinds),
                programmes=tuple(programmes), latest_only=bool(latest))
    return f, int(top_k)


def _basket_panel() -> None:
    """The basket: export buttons first (reachable without scrolling), then each kept
    passage with its note, its formatted citation to copy, and move/remove buttons."""
    ss = st.session_state
    items = ss["basket"]
    st.header("Basket")
    n = len(items)
    st.caption(_md(f"{n} passage{'s' if n != 1 else ''} kept for the annex" if n else
                   "Empty: switch on “Add to export” on a passage to keep it here."))
    flash = ss.pop("basket_flash", None)
    if flash:
        st.success(_md(flash))
    topic = st.text_input("Topic (names the files)", key="topic",
                          placeholder="e.g. victim contact",
                          help="Export file names say the date, this topic and the count")
    rows = [dict(r) for r in items]
    cols = st.columns(2)
    for i, fmt in enumerate(FORMATS):
        with cols[i % 2]:
            st.download_button(
                EXPORT_LABELS[fmt], data=render(rows, fmt) if rows else b"",
                file_name=export_filename(rows, fmt, topic=topic or None),
                mime=FORMATS[fmt][1], key=f"dl_{fmt}", disabled=not rows,
                on_click="ignore", width="stretch",
                help=f"The basket as {EXPORT_LABELS[fmt]}, notes included")
    for i, r in enumerate(items):
        pid = r["passage_id"]
        with st.container(border=True, key=f"bi:{pid}"):
            st.markdown(_md(f"{i + 1}. {r['citation']}"))
            with st.container(horizontal=True):
                st.button("Up", key=f"up:{pid}", on_click=bk.move, args=(items, pid, -1),
                          disabled=i == 0, help="Move up")
                st.button("Down", key=f"down:{pid}", on_click=bk.move, args=(items, pid, 1),
                          disabled=i == n - 1, help="Move down")
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
    with st.expander("Load or empty the basket"):
        up = st.file_uploader("Load a basket (a JSON export)", type=["json"],
                              key="basket_file")
        if up is not None and up.file_id not in ss["loaded_files"]:
            ss["loaded_files"].add(up.file_id)
            try:
                loaded = bk.load(up.getvalue(), up.name)
            except ReportQAError as e:
                st.error(_md(e.line()))
            else:
                added = sum(bk.add(items, it) for it in loaded)
                for it in loaded:
                    ss[f"note:{it['passage_id']}"] = next(
                        x["note"] for x in items if x["passage_id"] == it["passage_id"])
                # Drawn again from the top, so the count and the items show the load.
                ss["basket_flash"] = f"Loaded {added} passage(s) from {up.name}"
                st.rerun()
        st.button("Empty the basket", key="basket_empty",
                  on_click=lambda: st.session_state["basket"].clear(), disabled=not items)


def _conversation_record(turns: list[dict]) -> bytes:
    return (json.dumps({"kind": CONVERSATION_KIND, "turns": [turn_record(t) for t in turns]},
                       ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _open_turns(turns: list[dict]) -> None:
    ss = st.session_state
    _clear()
    ss["turns"] = turns
    ss["next_turn"] = max((t["id"] for t in turns), default=0) + 1


def _save_conversation(name: str) -> None:
    ss = st.session_state
    if not ss["turns"]:
        return
    when = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    kept = [c for c in ss["saved"] if c["name"] != name][-(MAX_SAVED - 1):]
    ss["saved"] = kept + [{
        "name": name, "saved_at": when, "turns": [turn_record(t) for t in ss["turns"]]}]


def _conversations_panel() -> None:
    """Save, reopen, download, upload and clear conversations."""
    ss = st.session_state
    turns = ss["turns"]
    with st.expander("Conversations", expanded=False):
        default = turns[0]["question"][:60] if turns else ""
        name = st.text_input("Name", key="conv_name", placeholder=default or "a name")
        if st.button("Save conversation", key="conv_save", disabled=not turns):
            _save_conversation(clean_text(name or default)[:80] or "conversation")
            st.success(_md(f"Saved “{name or default}”"))
        if ss["saved"]:
            names = [c["name"] for c in ss["saved"]][::-1]
            pick = st.selectbox("Saved conversations", names, key="conv_pick",
                                format_func=clean_text)
            if st.button("Open", key="conv_open"):
                rec = next(c for c in ss["saved"] if c["name"] == pick)
                try:
                    _open_turns([turn_from_record(t, pick) for t in rec["turns"]])
                except ReportQAError as e:
                    st.error(_md(e.line()))
                else:
                    st.rerun()
        st.download_button("Download conversation (JSON)",
                           data=_conversation_record(turns) if turns else b"",
                           file_name=safe_filename("conversation " + default, "json"),
                           mime="application/json", key="conv_download", disabled=not turns,
                           on_click="ignore")
        up = st.file_uploader("Open a conversation file", type=["json"], key="conv_file")
        if up is not None and up.file_id not in ss["loaded_files"]:
            ss["loaded_files"].add(up.file_id)
            try:
                data = json.loads(up.getvalue().decode("utf-8-sig"))
                if not isinstance(data, dict) or data.get("kind") != CONVERSATION_KIND:
                    raise ReportQAError(f"{up.name}: not a saved reportqa conversation",
                                        fix="open a file saved by “Download conversation”")
                _open_turns([turn_from_record(t, up.name) for t in data["turns"]])
            except (UnicodeDecodeError, ValueError) as e:
                st.error(_md(f"{up.name}: not JSON ({e})"))
            except ReportQAError as e:
                st.error(_md(e.line()))
            else:
                st.rerun()
        st.button("Clear conversation", on_click=_clear, key="clear", disabled=not turns)


def _index_caption(status: dict) -> None:
    """What the analyst needs to know of the index: its date and what it holds."""
    n_rep = len(status["reports"])
    st.caption(_md(f"Index of {status['built_at'][:16].replace('T', ' ')} UTC: {n_rep} "
                   f"report{'s' if n_rep != 1 else ''} · {status['passages']} passages · "
                   f"model {status['model']}"))
    st.page_link(st.session_state["rq_pages"]["library"], label="What the index holds",
                 icon=":material/menu_book:")


# -- the page -----------------------------------------------------------------------------

def _ask(searcher, question: str, filters: Filters, top_k: int,
         warm: threading.Thread) -> dict | None:
    ss = st.session_state
    history = [t["question"] for t in ss["turns"]]
    t0 = time.perf_counter()
    try:
        if warm.is_alive():
            with st.spinner("Loading the language model (first question only)…"):
                warm.join()
        with st.spinner("Searching the reports…"):
            answer = searcher.ask(question, top_k=top_k, filters=filters, history=history)
        comparison = None
        if (answer.scope or {}).get("compare") and not answer.follow_up_of and \
                len(searcher.store.reports) > 1:
            with st.spinner("Comparing the reports…"):
                comparison = searcher.compare(question, filters=filters)
            if comparison.answering:
                answer = comparison.as_answer()
            else:
                comparison = None
    except ReportQAError as e:
        st.error(_md(e.line()))
        return None
    turn = {"id": ss["next_turn"], "question": question, "answer": answer,
            "comparison": comparison, "filters": filters, "top_k": top_k,
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
            t["answer"] = searcher.ask(t["question"], top_k=t["top_k"], filters=t["filters"],
                                       follow_up=False)


def _library_page(searcher, build: str) -> None:
    """The report library: what the index holds, sortable and filterable, with the
    grades across bodies; choosing a report filters the chat to it."""
    import pandas as pd

    st.title("Report library")
    rows = library(searcher.store)
    bodies = sorted({r["body"] for r in rows if r["body"]})
    progs = sorted({r["programme"] for r in rows if r["programme"]})
    years = sorted({r["year"] for r in rows if r["year"]})
    c1, c2, c3, c4 = st.columns([3, 3, 2, 2])
    pick_b = c1.multiselect("Body", bodies, key="lib_bodies", placeholder="All bodies")
    pick_p = c2.multiselect("Programme", progs, key="lib_programmes",
                            placeholder="All programmes")
    pick_y = c3.multiselect("Year", years, key="lib_years", placeholder="All years")
    only_latest = c4.checkbox("Latest only", key="lib_latest")
    shown = [r for r in rows if (not pick_b or r["body"] in pick_b)
             and (not pick_p or r["programme"] in pick_p)
             and (not pick_y or r["year"] in pick_y) and (r["latest"] or not only_latest)]
    st.caption(_md(f"{len(shown)} of {len(rows)} reports · index built "
                   f"{searcher.store.manifest.get('built_at', '?')}"))
    table = [{"Body": clean_text(r["body"]), "Programme": clean_text(r["programme"]),
              "Year": r["year"], "Published": r["published"] or "", "Pages": r["pages"],
              "Passages": r["passages"], "Overall": r["overall"] or "",
              "Judgments": "; ".join(f"{clean_text(j['of'])}: {j['grade']}"
                                     for j in r["judgments"]),
              "Latest": "yes" if r["latest"] else "superseded",
              "File": clean_text(r["source_file"])} for r in shown]
    event = st.dataframe(table, hide_index=True, key="lib_table", on_select="rerun",
                         selection_mode="single-row", width="stretch")
    picked = list(getattr(getattr(event, "selection", None), "rows", []) or [])
    if picked:
        rep = shown[picked[0]]
        st.markdown("**" + _md(f"{rep['body']} — {rep['title']}") + "**")
        if st.button("Ask about this report", key="lib_ask", type="primary"):
            st.session_state["f_reports"] = [rep["report_id"]]
            st.switch_page(st.session_state["rq_pages"]["ask"])
    grades = [{"body": r["body"] or r["title"], "grade": j["grade"]}
              for r in shown for j in r["judgments"] if j["grade"] in GRADE_ORDER]
    if grades:
        st.header("Grades across bodies")
        data = pd.DataFrame(grades).value_counts().reset_index(name="judgments")
        st.bar_chart(data, x="body", y="judgments", color="grade", height=300)


def _chat_page(searcher, warm, fac: dict, status: dict, settings, build_id: str) -> None:
    """The conversation and chat input; the sidebar: basket, filters, conversations."""
    st.session_state["rq_searcher"] = searcher
    st.session_state["rq_corpus"] = settings.corpus_dir
    with st.sidebar:
        with st.expander("Filters", expanded=False):
            filters, top_k = _sidebar_filters(fac)

    if st.session_state["reask"] is not None:
        _reask(searcher)
    st.title("Ask the inspection reports")
    for problem in st.session_state["problems"]:
        st.warning(_md(problem))
    if not st.session_state["turns"]:
        st.caption(_md(f"{len(status['reports'])} report(s), {status['passages']} "
                       "passages indexed. Ask in plain English, e.g. “How does the force "
                       "tackle anti-social behaviour?”, then ask a follow-up."))
    for turn in st.session_state["turns"]:
        _render_turn(turn)

    # No max_chars: the browser would drop a longer paste whole, without a word.
    prompt = st.chat_input("Ask a question about the reports", key="question")
    if prompt:
        question, was_cut = cut_question(" ".join(clean_text(prompt).split()))
        if question:
            tid = st.session_state["next_turn"]
            with st.chat_message("user"):
                st.html(f'<div class="rq-turn" id="{turn_anchor(tid)}"></div>')
                st.text(question)
                if was_cut:
                    st.caption(_md(f"Your question was cut to its first "
                                   f"{MAX_QUESTION_CHARS:,} characters."))
            with st.chat_message("assistant"):
                turn = _ask(searcher, question, filters, top_k, warm)
                if turn is not None:
                    _render_answer(turn)
            _scroll_to(tid)

    # Drawn last, so the basket includes an answer given in this run.
    with st.sidebar:
        _basket_panel()
        _conversations_panel()
        _index_caption(status)


def _open_index(with_facets: bool):
    """The live index's settings, build, searcher (and warm-up thread, facets and
    status for the ask page); None, after showing the no-index page, when there is no
    usable index."""
    try:
        settings = load_settings()
    except ReportQAError as e:  # a bad REPORTQA_* value: one line, not a traceback
        st.error(_md(e.line()))
        return None
    _state(settings)
    index_dir = str(settings.index_dir)
    build_id = current_build(index_dir)
    if build_id is None:
        _no_index_page(settings)
        return None
    try:
        searcher = _searcher(index_dir, build_id, settings.query_model)
        model = settings.query_model
        extra = (_warm_up(index_dir, build_id, model),
                 *_facets_and_status(index_dir, build_id, model)) if with_facets else ()
    except ReportQAError as e:
        _no_index_page(settings, problem=e.line())
        return None
    return settings, build_id, searcher, *extra


def _no_index_page(settings, problem: str | None = None) -> None:
    st.title("reportqa")
    if problem:
        st.error(_md(problem))
    else:
        st.info(_md(f"There is no index yet at {settings.index_dir}."))
    st.markdown("Build it from the reports in the corpus folder, in a terminal:")
    st.code("reportqa index build" + (" --full" if problem else ""), language="bash")
    if not _admin_enabled(settings):
        st.caption("Ask the administrator of this app to build it.")
        return
    st.caption(_md(f"Corpus folder: {settings.corpus_dir}. Or build it from here "
                   "(about a minute for the demo report):"))
    if st.button("Build the index now", type="primary", key="build"):
        build(settings, full=bool(problem))


def _admin_enabled(settings) -> bool:
    return settings.admin_enabled(st.get_option("server.address"))


def library_page() -> None:
    """The library page as its own script (ui/library.py runs it): the same cached
    index as the ask page."""
    opened = _open_index(with_facets=False)
    if opened:
        _, build_id, searcher = opened
        _library_page(searcher, build_id)


def admin_main() -> None:
    """The admin page as its own script (ui/admin_page.py runs it)."""
    opened = _open_index(with_facets=False)
    if opened:
        settings, _, searcher = opened
        admin_page(settings, searcher.store)


def main() -> None:
    """The app: no-index help, or its pages — Ask (conversation, basket), Library and,
    where allowed, Admin."""
    st.set_page_config(page_title="reportqa — inspection reports", page_icon="📑",
                       layout="wide")
    opened = _open_index(with_facets=True)
    if not opened:
        return
    settings, build_id, searcher, warm, fac, status = opened

    st.html(CSS)
    pages = {
        "ask": st.Page(lambda: _chat_page(searcher, warm, fac, status, settings, build_id),
                       title="Ask", icon="💬", url_path="ask", default=True),
        "library": st.Page(str(Path(__file__).resolve().parent / "library.py"),
                           title="Library", icon="📚", url_path="library"),
    }
    if _admin_enabled(settings):
        pages["admin"] = st.Page(str(Path(__file__).resolve().parent / "admin_page.py"),
                                 title="Admin", icon="🛠️", url_path="admin")
    # The library's "Ask about this report" switches back to the ask page.
    st.session_state["rq_pages"] = pages
    st.navigation(list(pages.values())).run()
    _persist()


if __name__ == "__main__":
    main()
