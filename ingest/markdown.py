"""Markdown reports: turn Markdown syntax into the plain layout the structure finder
reads (a heading on its own line between blank lines; no emphasis marks, link
targets or HTML), so a .md report gets the same sections and passages as its PDF."""

from __future__ import annotations

import re

_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPH = re.compile(r"(\*\*|__|\*|_)(?=\S)(.+?)(?<=\S)\1")
_CODE = re.compile(r"`([^`]*)`")
_TAG = re.compile(r"</?[A-Za-z][^>]*>")


def markdown_to_text(md: str) -> str:
    """Plain text with the report's structure kept: headings become standalone lines,
    list markers become bullets, inline markup is dropped (link text kept)."""
    out: list[str] = []
    lines = md.split("\n")
    in_fence = False
    for i, line in enumerate(lines):
        if line.strip().startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        if in_fence:
            out.append(line)
            continue
        m = _HEADING.match(line)
        if m:
            out += ["", _inline(m.group(2)), ""]
            continue
        if _SETEXT.match(line) and out and out[-1].strip() and i > 0:
            heading = out.pop()
            out += ["", heading, ""]
            continue
        line = re.sub(r"^\s*[-*+]\s+", "• ", line)
        line = re.sub(r"^\s*>\s?", "", line)
        if re.fullmatch(r"\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*", line):
            continue  # table rule
        if line.strip().startswith("|"):
            # A Markdown table row: cells separated by wide gaps, as a PDF would give.
            line = "  ".join(c.strip() for c in line.strip().strip("|").split("|"))
        out.append(_inline(line))
    # Blank runs collapse to one: in extracted text a long run marks a page break.
    return re.sub(r"\n\s*\n(\s*\n)+", "\n\n", "\n".join(out)).strip("\n")


def _inline(text: str) -> str:
    text = _LINK.sub(r"\1", text)
    text = _CODE.sub(r"\1", text)
    text = _TAG.sub("", text)
    for _ in range(2):
        text = _EMPH.sub(r"\2", text)
    return text
