"""Each browser session's basket and conversations, kept on disk so they survive a page
reload: one JSON file per session in the sessions folder (Settings.sessions; by default
`<index>/sessions/`), named by a random id the page carries in its URL (`?s=…`).

Anyone with the URL sees that session's basket, as anyone with access to the app sees
the reports: the app has no login (docs/deployment.md, "Serving"). The file is written atomically
(a temporary file, then a rename), so a crash never leaves half a basket."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

from core.durable import commit_rename, write_atomic

#: What a session id looks like (uuid4 hex): nothing else reaches a file name.
_SESSION_ID = re.compile(r"^[0-9a-f]{32}$")
#: Bumped when the file's shape changes incompatibly.
VERSION = 1
#: Saved conversations kept per session (the oldest go first).
MAX_SAVED = 50


def new_session_id() -> str:
    """A fresh random session id."""
    return uuid.uuid4().hex


def valid_session_id(value: object) -> bool:
    """Whether a value (from the URL) is a session id this module made."""
    return isinstance(value, str) and bool(_SESSION_ID.match(value))


def empty() -> dict:
    """A session with nothing in it."""
    return {"version": VERSION, "basket": [], "topic": "", "turns": [], "saved": []}


class Workspace:
    """One session's file in the sessions folder."""

    def __init__(self, root: Path, session_id: str):
        if not valid_session_id(session_id):
            raise ValueError(f"not a session id: {session_id!r}")
        self.root = Path(root)
        self.path = self.root / f"{session_id}.json"
        self._written: str | None = None

    def load(self) -> tuple[dict, str | None]:
        """The session as last saved (empty when there is none), and a one-line problem
        when the file could not be read (then the session starts empty and the file is
        kept aside as `<id>.json.bad`, not overwritten)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return empty(), None
        except OSError as e:
            return empty(), f"{self.path}: could not read the saved session ({e.strerror})"
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("version") != VERSION:
                raise ValueError("not a session file of this version")
        except ValueError as e:
            bad = self.path.with_suffix(".json.bad")
            try:
                commit_rename(self.path, bad, replace=True)
            except OSError:
                pass
            return empty(), (f"{self.path}: the saved session could not be read ({e}); "
                             f"it was moved to {bad.name} and this session starts empty")
        self._written = text
        return {**empty(), **data}, None

    def save(self, data: dict) -> str | None:
        """Write the session if it changed; a one-line problem if it could not be
        written (the index folder read-only: set REPORTQA_SESSIONS), else None."""
        text = json.dumps({**data, "version": VERSION}, ensure_ascii=False)
        if text == self._written:
            return None
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            # Synced, renamed, folder synced: a power cut leaves the old basket or the
            # new one, never an empty file.
            write_atomic(self.path, text)
        except OSError as e:
            return (f"{self.root}: the basket cannot be kept between visits ({e.strerror}) "
                    "— set REPORTQA_SESSIONS to a writable folder, or download the basket "
                    "as JSON")
        self._written = text
        return None
