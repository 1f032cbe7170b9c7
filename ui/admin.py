"""The admin page: what the live index holds and how it differs from the corpus folder,
and the buttons that change it (update, rebuild from scratch, optimize). Analysts do
not see it: it is shown only where Settings.admin_enabled says so (by default, when
the app listens on localhost only). Every change is the same atomic build as the
command line's, so a failed one leaves the previous index serving."""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from core.errors import ReportQAError
from retrieval.export import clean_text
from ui.cards import md as _md


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


def build(settings, full: bool) -> None:
    """Build (or update) the index with a live status box, then rerun the page on the
    new build."""
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


def _optimize(settings) -> None:
    from ingest.index import optimize_index

    with st.spinner("Merging the index's segments…"):
        try:
            res = optimize_index(settings)
        except ReportQAError as e:
            st.error(_md(e.line()))
            return
    st.success(_md(f"Optimized: build {res.get('build_id', '?')}"))
    st.rerun()


@st.cache_data(ttl=60, show_spinner="Comparing the corpus folder with the index…")
def _drift(build_id: str, corpus_dir: str, _manifest: dict) -> dict:
    """How the corpus differs from the live build (keyed by build; the manifest is
    that build's). It hashes every file, so it is kept for a minute: each click on the
    page reruns it."""
    from ingest.index import corpus_drift

    return corpus_drift(_manifest, Path(corpus_dir))


def admin_page(settings, store) -> None:
    """The index's state, the corpus folder's drift from it, and the index actions."""
    st.title("Index administration")
    st.markdown(_md(f"Corpus folder: {settings.corpus_dir} · index: {settings.index_dir}"))
    status = store.status()
    st.header("Live index")
    st.markdown(_md(f"Build {status.build_id}, made {status.built_at}: "
                    f"{len(status.reports)} report(s), {status.passages} passages, "
                    f"{status.segments} segment(s), model {status.model}"))
    drift = _drift(store.build_id, str(settings.corpus_dir), store.manifest)
    if drift.get("differs"):
        st.warning(_md(f"The corpus folder differs from the live index: {drift['added']} new,"
                       f" {drift['changed']} changed, {drift['removed']} removed file(s). "
                       "Update the index to serve them."))
    else:
        st.success("The live index matches the corpus folder.")
    for f in status.failures:
        st.warning(_md(f"failed in the last build: {f.get('reason') or f.get('file')}"))
    for f in status.stale:
        st.warning(_md(f"stale: {f['file']} serves its previous version — now {f['reason']}"))
    st.header("Change the index")
    c1, c2, c3 = st.columns(3)
    if c1.button("Update the index", key="rebuild", type="primary",
                 help="Index new or changed reports from the corpus folder."):
        build(settings, full=False)
    if c2.button("Rebuild from scratch", key="rebuild_full",
                 help="Read and embed every report again (minutes per hundred reports)."):
        build(settings, full=True)
    if c3.button("Optimize", key="optimize", disabled=status.segments <= 1 and
                 not status.deleted_passages,
                 help="Merge the segments into one; nothing is read or embedded again."):
        _optimize(settings)
