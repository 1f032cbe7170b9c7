"""The reportqa Streamlit app: ask a question, read the answering passages with their
citations, ask a follow-up, and take the passages you need into a briefing.

Run with `reportqa serve`, which binds to 127.0.0.1 (or `streamlit run ui/app.py
--server.address 127.0.0.1`: without that option Streamlit listens on every interface,
and the app has no login). The index is the one `load_settings().index_dir` names
(REPORTQA_INDEX). The app only calls retrieval (and ingest's settings and index build):
it never opens index files itself.

Untrusted text — passages from reports, questions from users — reaches the page only
through st.text, widget options, or st.html after html.escape; Markdown-rendering
elements get it backslash-escaped. Control and bidi-override characters are removed."""

from __future__ import annotations

import html
import logging
import sys
import threading
import time
from pathlib import Path

import streamlit as st

try:
    from ingest.settings import load_settings
except ImportError:  # `streamlit run ui/app.py` from a checkout that is not installed
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from ingest.settings import load_settings

from ingest.errors import ReportQAError
from retrieval.answer import Answer, Comparison, Filters
from retrieval.export import (
    FORMATS,
    clean_text,
    comparison_rows,
    escape_markdown,
    export_rows,
    mark_segments,
    render,
    safe_filename,
)
from retrieval.facets import GRADE_ORDER, current_build, facets, library
from retrieval.query import MAX_QUESTION_CHARS, cut_question

ANY_SECTION = "(any section)"
EXPORT_LABELS = {"csv": "CSV (Excel)", "md": "Markdown", "docx": "Word", "json": "JSON"}

CSS = """
<style>
.rq-card .rq-citation {font-weight: 600; font-size: 1.02rem; margin: 0 0 .35rem 0;}
.rq-card .rq-meta {font-size: .8rem; opacity: .75; margin-bottom: .4rem;}
.rq-card .rq-kind {border: 1px solid rgba(128,128,128,.5); border-radius: .6rem;
  padding: 0 .45rem; margin-right: .4rem;}
.rq-card .rq-rel {letter-spacing: .05rem; margin-right: .3rem;}
.rq-card .rq-text {white-space: pre-wrap; line-height: 1.45;}
.rq-card mark {background: #fff3a3; color: inherit; padding: 0 .1rem;}
.rq-card .rq-nearest {color: #a15c00; font-size: .8rem;}
</style>
"""


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


# -- state ------------------------------------------------------------------------------

def _state() -> None:
    ss = st.session_state
    ss.setdefault("turns", [])  # [{"id", "question", "answer": Answer, "filters", "seconds"}]
    ss.setdefault("selected", set())  # passage ids chosen for export
    ss.setdefault("next_turn", 1)
    ss.setdefault("reask", None)  # id of a turn to ask again as a new question


def _toggle_key(turn_id: int, passage_id: str) -> str:
    return f"sel:{turn_id}:{passage_id}"


def _on_toggle(key: str, passage_id: str) -> None:
    """Keep the selection and every card showing the same passage in step."""
    ss = st.session_state
    on = bool(ss.get(key))
    if on:
        ss["selected"].add(passage_id)
    else:
        ss["selected"].discard(passage_id)
    for t in ss["turns"]:
        if any(h.passage.passage_id == passage_id for h in t["answer"].hits):
            ss[_toggle_key(t["id"], passage_id)] = on


def _clear() -> None:
    ss = st.session_state
    for t in ss["turns"]:
        for h in t["answer"].hits:
            ss.pop(_toggle_key(t["id"], h.passage.passage_id), None)
    ss["turns"] = []
    ss["selected"] = set()


# -- rendering ----------------------------------------------------------------------------

def _h(text: object) -> str:
    """HTML-escaped, cleaned text."""
    return html.escape(clean_text(text), quote=True)


def _md(text: object) -> str:
    """Text for a Markdown-rendering element, shown literally."""
    return escape_markdown(text, strict=True)


def _relevance(score: float) -> str:
    # Ranking scores of useful passages fall roughly between 0.5 and 1.0.
    level = max(0, min(5, round((float(score) - 0.5) / 0.1)))
    return "●" * level + "○" * (5 - level)


def card_html(hit, abstained: bool) -> str:
    """One passage card's HTML: citation heading, kind, relevance, the passage with
    its highlight marked. Every piece of text is escaped."""
    p = hit.passage
    text = clean_text(p.text)
    body = "".join(f"<mark>{_h(seg)}</mark>" if marked else _h(seg)
                   for seg, marked in mark_segments(text, clean_text(hit.highlight)))
    nearest = ('<span class="rq-nearest">nearest passage — does not answer the question'
               "</span>") if abstained else ""
    return (
        f'<div class="rq-card" data-passage-id="{_h(p.passage_id)}">'
        f'<h4 class="rq-citation">{_h(p.citation)}</h4>'
        f'<div class="rq-meta"><span class="rq-kind">{_h(p.kind)}</span>'
        f'<span class="rq-rel" title="relevance score {hit.score:.2f}">'
        f"{_relevance(hit.score)}</span>relevance {hit.score:.2f} · rank {hit.rank}"
        f" {nearest}</div>"
        f'<div class="rq-text">{body}</div></div>')


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


def _ask_as_new(turn_id: int) -> None:
    st.session_state["reask"] = turn_id


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


def _render_answer(turn: dict) -> None:
    answer: Answer = turn["answer"]
    if turn.get("comparison") is not None:
        _render_comparison(turn)
    else:
        st.markdown("**" + _md(answer.summary_line) + "**")
    if answer.follow_up_of:
        cols = st.columns([4, 1])
        cols[0].caption(_md(f"Read as a follow-up to “{answer.follow_up_of}” — searched "
                            f"as: {answer.searched_as}"))
        cols[1].button("Ask as a new question", key=f"new:{turn['id']}",
                       on_click=_ask_as_new, args=(turn["id"],),
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
    selected = st.session_state["selected"]
    for hit in answer.hits:
        pid = hit.passage.passage_id
        key = _toggle_key(turn["id"], pid)
        with st.container(border=True):
            st.html(card_html(hit, answer.abstained))
            if key not in st.session_state:
                st.session_state[key] = pid in selected
            st.toggle("Add to export", key=key, on_change=_on_toggle, args=(key, pid))


def _render_turn(turn: dict) -> None:
    with st.chat_message("user"):
        st.text(turn["question"])
    with st.chat_message("assistant"):
        _render_answer(turn)


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


def _sidebar_export(build: str) -> None:
    st.header("Export")
    turns = st.session_state["turns"]
    selected = st.session_state["selected"]
    scope = st.radio("Passages to export", ["selected", "all"], key="export_scope",
                     format_func=lambda s: ("Selected passages" if s == "selected"
                                           else "All cited passages"))
    answers = [t["answer"] for t in turns]
    rows = export_rows(answers, set(selected) if scope == "selected" else None,
                       build_id=build)
    if scope == "selected" and not rows:
        st.caption("Nothing selected yet: switch on “Add to export” on a passage card, "
                   "or export all cited passages.")
    else:
        st.caption(f"{len(rows)} passage{'s' if len(rows) != 1 else ''} to export")
    first_q = rows[0]["question"] if rows else "export"
    cols = st.columns(2)
    for i, fmt in enumerate(FORMATS):
        with cols[i % 2]:
            st.download_button(
                EXPORT_LABELS[fmt], data=render(rows, fmt) if rows else b"",
                file_name=safe_filename(first_q, fmt), mime=FORMATS[fmt][1],
                key=f"dl_{fmt}", disabled=not rows, on_click="ignore",
                width="stretch")


def _sidebar_status(status: dict, settings) -> None:
    with st.expander("Index", expanded=False):
        n_rep = len(status["reports"])
        st.caption(_md(f"{n_rep} report{'s' if n_rep != 1 else ''} · "
                       f"{status['passages']} passages"))
        st.caption(_md(f"Model: {status['model']} ({status['dimension']}-d)"))
        st.caption(_md(f"Built: {status['built_at']} (build {status['build_id']})"))
        for r in status["reports"]:
            st.text(f"• {clean_text(r['force'])} — {clean_text(r['title'])} "
                    f"({r['year']}), {r['passages']} passages")
        if status.get("failures"):
            st.warning(_md(f"{len(status['failures'])} file(s) failed in the last build; "
                           "run `reportqa index status` for details."))
    if st.button("Update the index", key="rebuild",
                 help="Index new or changed reports from the corpus folder."):
        _build(settings, full=False)


# -- index build ----------------------------------------------------------------------

class _StatusLog(logging.Handler):
    """Shows the index build's progress log lines in the st.status box."""

    def __init__(self, placeholder):
        super().__init__(logging.INFO)
        self.placeholder = placeholder

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.placeholder.text(clean_text(record.getMessage())[:300])
        except Exception:  # noqa: BLE001 — progress display must never break a build
            pass


def _build(settings, full: bool) -> None:
    from ingest.index import build_index

    with st.status("Building the index…", expanded=True) as box:
        st.text(f"Reports: {settings.corpus_dir}\nIndex: {settings.index_dir}")
        line = st.empty()
        handler = _StatusLog(line)
        logger = logging.getLogger("ingest")
        old_level = logger.level
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        try:
            summary = build_index(settings, full=full)
        except ReportQAError as e:
            box.update(label="The index could not be built", state="error")
            st.error(_md(e.line()))
            return
        finally:
            logger.removeHandler(handler)
            logger.setLevel(old_level)
        if summary.passages == 0:
            box.update(label="Nothing usable was indexed", state="error")
            st.error(_md(f"No readable reports in {settings.corpus_dir} — add PDF, .txt "
                         "or .md reports there and try again."))
            return
        for f in summary.failed:
            st.warning(_md(f["reason"]))
        box.update(label=f"Index built: {summary.passages} passages in "
                         f"{summary.seconds:.0f} s", state="complete", expanded=False)
    st.rerun()


def _no_index_page(settings, problem: str | None = None) -> None:
    st.title("reportqa")
    if problem:
        st.error(_md(problem))
    else:
        st.info(_md(f"There is no index yet at {settings.index_dir}."))
    st.markdown("Build it from the reports in the corpus folder, in a terminal:")
    st.code("reportqa index build" + (" --full" if problem else ""), language="bash")
    st.caption(_md(f"Corpus folder: {settings.corpus_dir}. Or build it from here "
                   "(about a minute for the demo report):"))
    if st.button("Build the index now", type="primary", key="build"):
        _build(settings, full=bool(problem))


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
        st.subheader("Grades across bodies")
        data = pd.DataFrame(grades).value_counts().reset_index(name="judgments")
        st.bar_chart(data, x="body", y="judgments", color="grade", height=300)


def _chat_page(searcher, warm, fac: dict, status: dict, settings, build: str) -> None:
    """Sidebar filters, the conversation and the chat input."""
    with st.sidebar:
        st.button("Clear conversation", on_click=_clear, key="clear")
        filters, top_k = _sidebar_filters(fac)

    if st.session_state["reask"] is not None:
        _reask(searcher)
    st.title("Ask the inspection reports")
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
            with st.chat_message("user"):
                st.text(question)
                if was_cut:
                    st.caption(_md(f"Your question was cut to its first "
                                   f"{MAX_QUESTION_CHARS:,} characters."))
            with st.chat_message("assistant"):
                turn = _ask(searcher, question, filters, top_k, warm)
                if turn is not None:
                    _render_answer(turn)

    # Drawn last, so the export panel includes an answer given in this run.
    with st.sidebar:
        _sidebar_export(build)
        _sidebar_status(status, settings)


def _open_index(with_facets: bool):
    """The live index's settings, build, searcher (and warm-up thread, facets and
    status for the ask page); None, after showing the no-index page, when there is no
    usable index."""
    _state()
    try:
        settings = load_settings()
    except ReportQAError as e:  # a bad REPORTQA_* value: one line, not a traceback
        st.error(_md(e.line()))
        return None
    index_dir = str(settings.index_dir)
    build = current_build(index_dir)
    if build is None:
        _no_index_page(settings)
        return None
    try:
        searcher = _searcher(index_dir, build, settings.query_model)
        model = settings.query_model
        extra = (_warm_up(index_dir, build, model),
                 *_facets_and_status(index_dir, build, model)) if with_facets else ()
    except ReportQAError as e:
        _no_index_page(settings, problem=e.line())
        return None
    return settings, build, searcher, *extra


def library_page() -> None:
    """The library page as its own script (ui/library.py runs it): the same cached
    index as the ask page."""
    opened = _open_index(with_facets=False)
    if opened:
        _, build, searcher = opened
        _library_page(searcher, build)


def main() -> None:
    """The app: no-index help, or its two pages — ask (sidebar, conversation, chat
    input) and the report library."""
    st.set_page_config(page_title="reportqa — inspection reports", page_icon="📑",
                       layout="wide")
    opened = _open_index(with_facets=True)
    if not opened:
        return
    settings, build, searcher, warm, fac, status = opened

    st.html(CSS)
    pages = {
        "ask": st.Page(lambda: _chat_page(searcher, warm, fac, status, settings, build),
                       title="Ask", icon="💬", url_path="ask", default=True),
        "library": st.Page(str(Path(__file__).resolve().parent / "library.py"),
                           title="Library", icon="📚", url_path="library"),
    }
    # The library's "Ask about this report" switches back to the ask page.
    st.session_state["rq_pages"] = pages
    st.navigation(list(pages.values())).run()


if __name__ == "__main__":
    main()
