"""Hostile report text and questions for the robustness tests: markup that would run or
render (HTML, script, Markdown links and images, Streamlit's colour and maths syntax),
spreadsheet formulas, terminal escapes, bidi overrides, zero-width characters and
extremely long lines."""

from __future__ import annotations

ESC, BEL, RLO, PDF_, LRI, ZW = "\x1b", "\x07", "\u202e", "\u202c", "\u2066", "\u200b"

#: A report file name a colleague could really give a file (Linux allows all of it).
HOSTILE_NAME = "=HYPERLINK(x) [x](http:evil) <b>evil<b>.txt"

LONG_WORD = "x" * 12_000  # one 12,000-character "word", e.g. a pasted data blob
LONG_LINE = " ".join(f"burglary{i}" for i in range(2500))  # ~25,000 characters, no stop

_PAGE1 = f"""Crime inspection 2016 – Evilshire <img src=x onerror=alert(1)> Police

7

How effective is the force at reducing crime?

<script>alert('heading')</script> Partnership [working](http://evil.example)

=HYPERLINK("http://evil.example","click me") The force told us <script>alert(1)</script> that \
burglary fell. See [the plan](javascript:alert(2)) and ![tracker](http://evil.example/t.png). \
<img src=x onerror=alert(3)> <iframe src="http://evil.example"></iframe> :red[red text] \
$\\frac{{1}}{{0}}$ &lt;b&gt; entity.

+SUM(1,2) Burglary victims were {RLO}deifsitas{PDF_} satisfied with the {ZW}service{LRI} and \
{ESC}[31mofficers{ESC}[0m were praised {BEL}by partners for their work on burglary.

-2+3 @cmd|' /C calc'!A0 burglary patrols increased in 2016 and residents noticed them.
"""

_PAGE2 = f"""Crime inspection 2016 – Evilshire <img src=x onerror=alert(1)> Police

8

Burglary evidence annex

{LONG_LINE}

The data blob {LONG_WORD} was attached to the burglary file.

\t<b>Indented</b> burglary text with a tab and a <a href="http://evil.example">link</a>.
"""

_PAGE3 = """Crime inspection 2016 – Evilshire <img src=x onerror=alert(1)> Police

9

Recommendations

• Within three months, the force should review its burglary plan <script>x</script> and \
publish [the results](http://evil.example).
"""

REPORT = "\f".join((_PAGE1, _PAGE2, _PAGE3))

QUESTIONS = [
    f"What happened to burglary? <script>alert(9)</script> [x](http://evil) {RLO}evil",
    "=cmd|' /C calc'!A0 burglary victims satisfied?",
    f"{ESC}[2J burglary \x00 patrols {BEL}{ZW}?",
    "burglary " + "very " * 150 + "long question",
    "![i](http://evil/i.png) :red[burglary] $x$ **bold** <b>plan</b>",
]

#: Characters that must never reach a page, a terminal or an export.
INVISIBLE = {ESC, BEL, "\x00", RLO, PDF_, LRI, ZW, "\u202d", "\u2067", "\u2068", "\u2069"}
