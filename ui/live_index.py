"""The live index, as every page of the app opens it: the index that
`load_settings().index_dir` names (REPORTQA_INDEX), its Searcher opened once per
process and build, the language model warmed up in the background, the filters' facets
and the index's status — or, when there is no usable index, the page that says how to
build one. The app only calls retrieval (and ingest's settings and index build): it
never opens index files itself."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from core.errors import ReportQAError
from core.settings import load_settings
from retrieval.facets import current_build, facets
from ui import state
from ui.build_box import build
from ui.cards import md

if TYPE_CHECKING:  # the Searcher's module loads the search libraries: imported on use
    from core.settings import Settings
    from retrieval.search import Searcher


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


@dataclass(frozen=True)
class LiveIndex:
    """The opened index: settings, live build and its Searcher; with facets, also the
    warm-up thread, the filters' facets and the index status (the ask page's)."""

    settings: Settings
    build_id: str
    searcher: Searcher
    warm: threading.Thread | None = None
    facets: dict | None = None
    status: dict | None = None


def open_index(with_facets: bool) -> LiveIndex | None:
    """The live index (and this session's state, loaded); None, after showing the
    no-index page, when there is no usable index."""
    try:
        settings = load_settings()
    except ReportQAError as e:  # a bad REPORTQA_* value: one line, not a traceback
        st.error(md(e.line()))
        return None
    state.load(settings)
    index_dir = str(settings.index_dir)
    build_id = current_build(index_dir)
    if build_id is None:
        _no_index_page(settings)
        return None
    model = settings.query_model
    try:
        searcher = _searcher(index_dir, build_id, model)
        if not with_facets:
            return LiveIndex(settings, build_id, searcher)
        warm = _warm_up(index_dir, build_id, model)
        fac, status = _facets_and_status(index_dir, build_id, model)
    except ReportQAError as e:
        _no_index_page(settings, problem=e.line())
        return None
    return LiveIndex(settings, build_id, searcher, warm, fac, status)


def admin_enabled(settings) -> bool:
    """Whether this app may change the index (Settings.admin_enabled, for the address
    it listens on)."""
    return settings.admin_enabled(st.get_option("server.address"))


def _no_index_page(settings, problem: str | None = None) -> None:
    st.title("reportqa")
    if problem:
        st.error(md(problem))
    else:
        st.info(md(f"There is no index yet at {settings.index_dir}."))
    st.markdown("Build it from the reports in the corpus folder, in a terminal:")
    st.code("reportqa index build" + (" --full" if problem else ""), language="bash")
    if not admin_enabled(settings):
        st.caption("Ask the administrator of this app to build it.")
        return
    st.caption(md(f"Corpus folder: {settings.corpus_dir}. Or build it from here "
                  "(about a minute for the demo report):"))
    if st.button("Build the index now", type="primary", key="build"):
        build(settings, full=bool(problem))
