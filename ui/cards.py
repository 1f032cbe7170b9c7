"""The HTML of an answer: the short answer with its citation markers, and one card per
cited passage (citation heading, kind, relevance in words, the passage with its
highlight marked). Every piece of report or user text is cleaned and escaped here;
the only markup is this module's own."""

from __future__ import annotations

import html

from retrieval.answer import Hit, ShortAnswer
from retrieval.export import clean_text, escape_markdown, mark_segments

CSS = """
<style>
/* Streamlit greys captions with opacity .6: 2.9:1 on white, under WCAG AA 4.5:1. */
[data-testid="stCaptionContainer"] {color: #50545f; opacity: 1;}
/* Room in the sidebar for the basket's Up / Down / Remove row. */
[data-testid="stSidebar"] {min-width: 340px;}
.rq-short {font-size: 1.05rem; line-height: 1.5; margin: .2rem 0 .6rem 0;
  padding: .55rem .8rem; border-left: 4px solid #1c6fb5; background: rgba(28,111,181,.07);}
.rq-short a.rq-cite {text-decoration: none; font-weight: 600; white-space: nowrap;}
.rq-card .rq-citation {font-weight: 600; font-size: 1.02rem; margin: 0 0 .35rem 0;
  padding: 0;}
.rq-card .rq-meta {font-size: .85rem; margin-bottom: .4rem; color: #3d4450;}
.rq-card .rq-kind {border: 1px solid #6b7280; border-radius: .6rem;
  padding: 0 .45rem; margin-right: .4rem;}
.rq-card .rq-match {border-radius: .6rem; padding: 0 .45rem; margin-right: .4rem;
  font-weight: 600;}
.rq-match-strong {background: #d9f2e0; color: #0b5a23;}
.rq-match-partial {background: #fdf0cf; color: #6b4700;}
.rq-match-weak {background: #eceef1; color: #3d4450;}
.rq-card .rq-text {white-space: pre-wrap; line-height: 1.45;}
.rq-card mark {background: #fff3a3; color: inherit; padding: 0 .1rem;}
.rq-card .rq-nearest {color: #8a4b00; font-size: .85rem;}
.rq-turn, .rq-card {scroll-margin-top: 4.5rem;}
.rq-sr {position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px;
  overflow: hidden; clip: rect(0, 0, 0, 0); white-space: nowrap; border: 0;}
</style>
"""

#: What each relevance word tells a reader (the tooltip).
MATCH_HELP = {
    "strong": "A strong match: passages scored like this usually hold the answer.",
    "partial": "A partial match: related, may hold part of the answer.",
    "weak": "A weak match: unlikely to answer the question.",
}


def h(text: object) -> str:
    """HTML-escaped, cleaned text."""
    return html.escape(clean_text(text), quote=True)


def md(text: object) -> str:
    """Text for a Markdown-rendering element (st.markdown, st.caption, ...), shown
    literally: every punctuation mark escaped, so no markup can form."""
    return escape_markdown(text, strict=True)


def card_anchor(turn_id: int, rank: int) -> str:
    """The element id of a card, which the short answer's markers link to."""
    return f"rq-card-{int(turn_id)}-{int(rank)}"


def turn_anchor(turn_id: int) -> str:
    """The element id of a turn's start, which a new answer is scrolled to."""
    return f"rq-turn-{int(turn_id)}"


def short_answer_html(sa: ShortAnswer, turn_id: int) -> str:
    """The short answer: each cited part followed by its marker, a link to its card."""
    out = []
    for text, rank in sa.parts:
        out.append(h(text))
        if rank is not None:
            out.append(f' <a class="rq-cite" href="#{card_anchor(turn_id, rank)}" '
                       f'title="Go to passage {rank}">[{rank}]</a>')
        out.append(" ")
    return f'<p class="rq-short" data-testid="rq-short">{"".join(out).strip()}</p>'


def card_html(hit: Hit, abstained: bool, turn_id: int) -> str:
    """One passage card's HTML: citation heading (with its rank marker), kind,
    relevance in words, the passage with its highlight marked."""
    p = hit.passage
    text = clean_text(p.text)
    body = "".join(f"<mark>{h(seg)}</mark>" if marked else h(seg)
                   for seg, marked in mark_segments(text, clean_text(hit.highlight)))
    nearest = ('<span class="rq-nearest">nearest passage — does not answer the question'
               "</span>") if abstained else ""
    match = ""
    if hit.match:
        match = (f'<span class="rq-match rq-match-{h(hit.match)}" '
                 f'title="{h(MATCH_HELP.get(hit.match, ""))} (score {hit.score:.2f})">'
                 f"{h(hit.match)} match</span>")
    return (
        f'<div class="rq-card" id="{card_anchor(turn_id, hit.rank)}" '
        f'data-passage-id="{h(p.passage_id)}">'
        f'<h3 class="rq-citation">[{hit.rank}] {h(p.citation)}</h3>'
        f'<div class="rq-meta"><span class="rq-kind">{h(p.kind)}</span>{match}{nearest}'
        f'</div><div class="rq-text">{body}</div></div>')
