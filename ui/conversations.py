"""The ask page's "Conversations" panel (in the sidebar): save the conversation under a
name and reopen it, download it as JSON and open such a file, or clear it."""

from __future__ import annotations

import datetime as dt
import json

import streamlit as st

from core.errors import ReportQAError
from retrieval.export import clean_text, safe_filename
from retrieval.records import turn_from_record, turn_record
from ui import state
from ui.cards import md
from ui.workspace import MAX_SAVED

#: The JSON of a downloaded conversation says what it is.
CONVERSATION_KIND = "reportqa conversation"


def conversation_record(turns: list[dict]) -> bytes:
    """The conversation as the JSON file "Download conversation" gives."""
    return (json.dumps({"kind": CONVERSATION_KIND, "turns": [turn_record(t) for t in turns]},
                       ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _save_conversation(name: str) -> None:
    ss = st.session_state
    if not ss["turns"]:
        return
    when = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    kept = [c for c in ss["saved"] if c["name"] != name][-(MAX_SAVED - 1):]
    ss["saved"] = kept + [{
        "name": name, "saved_at": when, "turns": [turn_record(t) for t in ss["turns"]]}]


def conversations_panel() -> None:
    """Save, reopen, download, upload and clear conversations."""
    ss = st.session_state
    turns = ss["turns"]
    with st.expander("Conversations", expanded=False):
        default = turns[0]["question"][:60] if turns else ""
        name = st.text_input("Name", key="conv_name", placeholder=default or "a name")
        if st.button("Save conversation", key="conv_save", disabled=not turns):
            _save_conversation(clean_text(name or default)[:80] or "conversation")
            st.success(md(f"Saved “{name or default}”"))
        if ss["saved"]:
            _reopen()
        st.download_button("Download conversation (JSON)",
                           data=conversation_record(turns) if turns else b"",
                           file_name=safe_filename("conversation " + default, "json"),
                           mime="application/json", key="conv_download", disabled=not turns,
                           on_click="ignore")
        _upload()
        st.button("Clear conversation", on_click=state.clear_conversation, key="clear",
                  disabled=not turns)


def _reopen() -> None:
    """Pick a saved conversation and open it."""
    saved = st.session_state["saved"]
    names = [c["name"] for c in saved][::-1]
    pick = st.selectbox("Saved conversations", names, key="conv_pick", format_func=clean_text)
    if st.button("Open", key="conv_open"):
        rec = next(c for c in saved if c["name"] == pick)
        try:
            state.open_turns([turn_from_record(t, pick) for t in rec["turns"]])
        except ReportQAError as e:
            st.error(md(e.line()))
        else:
            st.rerun()


def _upload() -> None:
    """Open a conversation file (one "Download conversation" gave)."""
    ss = st.session_state
    up = st.file_uploader("Open a conversation file", type=["json"], key="conv_file")
    if up is None or up.file_id in ss["loaded_files"]:
        return
    ss["loaded_files"].add(up.file_id)
    try:
        data = json.loads(up.getvalue().decode("utf-8-sig"))
        if not isinstance(data, dict) or data.get("kind") != CONVERSATION_KIND:
            raise ReportQAError(f"{up.name}: not a saved reportqa conversation",
                                fix="open a file saved by “Download conversation”")
        state.open_turns([turn_from_record(t, up.name) for t in data["turns"]])
    except (UnicodeDecodeError, ValueError) as e:
        st.error(md(f"{up.name}: not JSON ({e})"))
    except ReportQAError as e:
        st.error(md(e.line()))
    else:
        st.rerun()
