"""Domain errors. Each carries the path concerned and the fix, so the CLI can print
one clear line instead of a traceback."""

from __future__ import annotations


class ReportQAError(Exception):
    """Base class: a user-facing problem with a one-line message."""

    def __init__(self, message: str, *, path: str | None = None, fix: str | None = None):
        self.path = path
        self.fix = fix
        super().__init__(message)

    def line(self) -> str:
        """One line for a terminal: what, where, and what to do."""
        msg = str(self)
        parts = [msg]
        if self.path and self.path not in msg and self.path.rsplit("/", 1)[-1] not in msg:
            parts.insert(0, f"{self.path}:")
        if self.fix and self.fix not in msg:
            parts.append(f"— {self.fix}")
        return " ".join(parts)


class UnreadableReport(ReportQAError):
    """A corpus file that cannot be turned into passages (corrupt, encrypted,
    empty, a scan without text, not what its name says)."""


class IndexError_(ReportQAError):
    """The index is missing, damaged or was built for something else."""


class BuildLocked(ReportQAError):
    """Another build holds the lock."""
