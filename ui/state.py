"""This browser session's state in st.session_state — its conversation (turns), basket
and saved conversations — loaded from the session's file once per browser session and
written back after each run (ui/workspace.py keeps the file)."""

from __future__ import annotations

import streamlit as st

from core.errors import ReportQAError
from retrieval.records import turn_from_record, turn_record
from ui.cards import md
from ui.workspace import Workspace, new_session_id, valid_session_id


def load(settings) -> None:
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


def persist() -> None:
    """Write the session's basket and conversation to its file (if they changed)."""
    ss = st.session_state
    ws = ss.get("workspace")
    if ws is None:
        return
    problem = ws.save({"basket": ss["basket"], "topic": ss.get("topic", ""),
                       "turns": [turn_record(t) for t in ss["turns"]], "saved": ss["saved"]})
    if problem and problem not in ss["problems"]:
        ss["problems"].append(problem)
        st.warning(md(problem))


def toggle_key(turn_id: int, passage_id: str) -> str:
    """The widget key of a card's "Add to export" toggle."""
    return f"sel:{turn_id}:{passage_id}"


def clear_conversation() -> None:
    """Drop every turn (and its cards' toggles); the basket stays."""
    ss = st.session_state
    for t in ss["turns"]:
        for hit in t["answer"].hits:
            ss.pop(toggle_key(t["id"], hit.passage.passage_id), None)
    ss["turns"] = []


def open_turns(turns: list[dict]) -> None:
    """Replace the conversation with `turns` (a reopened one); asking on continues it."""
    ss = st.session_state
    clear_conversation()
    ss["turns"] = turns
    ss["next_turn"] = max((t["id"] for t in turns), default=0) + 1
