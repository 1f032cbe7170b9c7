"""The documentation against the code: the command reference in docs/cli.md is the
click command tree of each program (every command and option, no more, no fewer), the
settings table in docs/deployment.md is core.settings (every REPORTQA_* variable, the
setting it sets, what it takes and its default), README stays a front page (at most
250 lines) and every link between README and the docs pages resolves.

The two generated parts sit between markers (``<!-- cli:PROGRAM:begin -->`` …
``<!-- cli:PROGRAM:end -->``, ``<!-- settings:begin -->`` … ``<!-- settings:end -->``).
After changing a command, an option or a setting, rewrite them from the code with

    .venv/bin/python tests/test_docs.py --write
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import os
import re
import sys
import textwrap
import tomllib
from pathlib import Path
from unittest import mock

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: `python tests/test_docs.py --write`
    sys.path.insert(0, str(ROOT))

README = ROOT / "README.md"
DOCS = ROOT / "docs"
CLI_DOC = DOCS / "cli.md"
SETTINGS_DOC = DOCS / "deployment.md"
README_MAX_LINES = 250
REGENERATE = "run `.venv/bin/python tests/test_docs.py --write` and review the diff"

#: Each program and its click entry point. A program whose module is not there (yet)
#: is skipped; its block holds a placeholder until it is.
PROGRAMS = {"reportqa": "ui.cli:main", "reportqa-fit": "fitting.cli:main"}

#: Settings whose default depends on the machine: how the table states it, and the
#: default it must give for a machine of so many cores (checked).
MACHINE_DEFAULTS = {"ingest_workers": ("the machine's cores, at most 4", {1: 1, 2: 2, 64: 4})}
#: Settings whose default is None: what None means (checked below).
NONE_DEFAULTS = {"sessions_dir": "`sessions/` in the index folder"}


# --- the CLI block ---------------------------------------------------------------

def _entry_point(program: str):
    """The click command of PROGRAM, or None when its module does not exist."""
    module, _, attr = PROGRAMS[program].partition(":")
    if importlib.util.find_spec(module.split(".")[0]) is None or \
            importlib.util.find_spec(module) is None:
        return None
    return getattr(importlib.import_module(module), attr)


def _walk(command, path: list[str], ctx=None):
    """(path, command, ctx) for COMMAND and every command under it, depth first,
    subcommands in name order."""
    import click

    ctx = click.Context(command, info_name=path[-1], parent=ctx)
    yield path, command, ctx
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            yield from _walk(command.commands[name], [*path, name], ctx)


def cli_block(program: str) -> str:
    """The reference of PROGRAM's commands, as docs/cli.md holds it between its markers:
    a usage line per command, its one-line help, then one line per option (with its
    help wrapped under it). Generated from the click tree; never edited by hand."""
    import click

    main = _entry_point(program)
    if main is None:
        module = PROGRAMS[program].partition(":")[0]
        return (f"({module} is not there yet: once it is, run "
                "`.venv/bin/python tests/test_docs.py --write`.)\n")
    out = ["```"]
    for path, command, ctx in _walk(main, [program]):
        if out[-1] != "```":
            out.append("")
        pieces = command.collect_usage_pieces(ctx)
        out.append(" ".join([*path, *pieces]))
        short = " ".join((command.help or "").split("\f")[0].split("\n\n")[0].split())
        if short:
            out.extend(textwrap.wrap(short, 92, initial_indent="    ",
                                     subsequent_indent="    "))
        for param in command.params:
            if not isinstance(param, click.Option):
                continue
            names, help_text = param.get_help_record(ctx) or ("/".join(param.opts), "")
            out.append(f"  {names}")
            if help_text:
                out.extend(textwrap.wrap(help_text, 88, initial_indent="        ",
                                         subsequent_indent="        ",
                                         break_on_hyphens=False))
    out.append("```")
    return "\n".join(out) + "\n"


_OPTION = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")


def parse_cli_block(block: str) -> dict[tuple[str, ...], set[str]]:
    """{command path: its option names} read back from a CLI block: a command is a
    line that starts with the program's name, an option a line indented by exactly
    two spaces that starts with a dash (help lines are indented further)."""
    commands: dict[tuple[str, ...], set[str]] = {}
    current = None
    for line in block.splitlines():
        if line.startswith("reportqa"):
            words = []
            for word in line.split():
                if not re.fullmatch(r"[a-z][\w-]*", word):
                    break
                words.append(word)
            current = tuple(words)
            commands[current] = set()
        elif re.match(r"  -", line) and current is not None:
            names = re.split(r"\s{2,}", line.strip())[0]
            commands[current].update(n for n in _OPTION.findall(names))
    return commands


def tree_options(program: str) -> dict[tuple[str, ...], set[str]]:
    """{command path: its option names} of PROGRAM's click tree."""
    import click

    return {tuple(path): {o for p in command.params if isinstance(p, click.Option)
                          for o in (*p.opts, *p.secondary_opts)}
            for path, command, _ in _walk(_entry_point(program), [program])}


# --- the settings table ------------------------------------------------------------

def _default_text(name: str, value) -> str:
    from core.settings import PROJECT_ROOT

    if name in MACHINE_DEFAULTS:
        return MACHINE_DEFAULTS[name][0]
    if value is None:
        return NONE_DEFAULTS[name]
    if isinstance(value, Path):
        try:
            return f"`{value.relative_to(PROJECT_ROOT).as_posix()}/` in the checkout"
        except ValueError:
            return f"`{value}`"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"`{value}`"
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


def settings_rows() -> list[tuple[str, str, str, str]]:
    """(variable, setting, what it takes, default) for every REPORTQA_* variable that
    core.settings reads, in its order."""
    from core.settings import ENV, Settings

    defaults = Settings()
    return [(var, field, allowed, _default_text(field, getattr(defaults, field)))
            for var, (field, _kind, allowed) in ENV.items()]


def settings_block() -> str:
    """The settings table as docs/deployment.md holds it between its markers."""
    lines = ["| variable | setting (`core.settings.Settings`) | takes | default |",
             "| --- | --- | --- | --- |"]
    lines += [f"| `{var}` | `{field}` | {allowed} | {default} |"
              for var, field, allowed, default in settings_rows()]
    return "\n".join(lines) + "\n"


def parse_settings_table(block: str) -> dict[str, tuple[str, str, str]]:
    """{variable: (setting, what it takes, default)} read back from the table."""
    rows = {}
    for line in block.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("`REPORTQA_"):
            rows[cells[0].strip("`")] = (cells[1].strip("`"), cells[2], cells[3])
    return rows


# --- markers -----------------------------------------------------------------------

def _markers(name: str) -> tuple[str, str]:
    return (f"<!-- {name}:begin (generated: python tests/test_docs.py --write) -->",
            f"<!-- {name}:end -->")


def read_block(path: Path, name: str) -> str:
    """The text between NAME's markers in PATH (AssertionError when they are missing)."""
    begin, end = _markers(name)
    text = path.read_text(encoding="utf-8")
    assert begin in text and end in text, (
        f"{path.relative_to(ROOT)} has lost the markers {begin!r} … {end!r}: put them "
        f"back where the generated block goes, then {REGENERATE}")
    return text.split(begin, 1)[1].split(end, 1)[0].lstrip("\n")


def write_block(path: Path, name: str, block: str) -> bool:
    """Rewrite the text between NAME's markers in PATH; True when it changed."""
    begin, end = _markers(name)
    text = path.read_text(encoding="utf-8")
    head, rest = text.split(begin, 1)
    _old, tail = rest.split(end, 1)
    new = f"{head}{begin}\n{block}{end}{tail}"
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def write_all() -> list[str]:
    """Regenerate every generated block from the code; the names of those changed."""
    changed = []
    for program in PROGRAMS:
        if write_block(CLI_DOC, f"cli:{program}", cli_block(program)):
            changed.append(f"{CLI_DOC.relative_to(ROOT)} ({program})")
    if write_block(SETTINGS_DOC, "settings", settings_block()):
        changed.append(f"{SETTINGS_DOC.relative_to(ROOT)} (settings)")
    return changed


# --- the tests ---------------------------------------------------------------------

@pytest.mark.parametrize("program", list(PROGRAMS))
def test_cli_block_matches_the_click_tree(program):
    if _entry_point(program) is None:
        pytest.skip(f"{PROGRAMS[program]} does not exist yet")
    documented = parse_cli_block(read_block(CLI_DOC, f"cli:{program}"))
    actual = tree_options(program)
    missing = sorted(" ".join(c) for c in actual.keys() - documented.keys())
    extra = sorted(" ".join(c) for c in documented.keys() - actual.keys())
    assert not missing and not extra, (
        f"docs/cli.md's {program} commands differ from the code: missing {missing}, "
        f"no longer there {extra}; {REGENERATE}")
    for command, options in actual.items():
        assert documented[command] == options, (
            f"docs/cli.md: `{' '.join(command)}` options differ from the code: missing "
            f"{sorted(options - documented[command])}, no longer there "
            f"{sorted(documented[command] - options)}; {REGENERATE}")
    assert read_block(CLI_DOC, f"cli:{program}") == cli_block(program), (
        f"docs/cli.md's {program} block is not what the code generates (usage or help "
        f"text changed); {REGENERATE}")


def test_every_program_is_documented():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"].get(
        "scripts", {})
    for program, target in scripts.items():
        assert PROGRAMS.get(program) == target, (
            f"pyproject.toml's script {program} = {target!r} is not in "
            f"tests/test_docs.py's PROGRAMS: add it, add its markers to docs/cli.md, "
            f"then {REGENERATE}")


def test_settings_table_matches_core_settings():
    from core.settings import ENV, Settings

    documented = parse_settings_table(read_block(SETTINGS_DOC, "settings"))
    expected = {var: (field, allowed, default)
                for var, field, allowed, default in settings_rows()}
    assert documented.keys() == expected.keys(), (
        f"docs/deployment.md's settings table: missing "
        f"{sorted(expected.keys() - documented.keys())}, no longer read "
        f"{sorted(documented.keys() - expected.keys())}; {REGENERATE}")
    for var, row in expected.items():
        assert documented[var] == row, (
            f"docs/deployment.md: {var} reads {documented[var]}, core.settings says "
            f"{row}; {REGENERATE}")
    fields = {f.name for f in dataclasses.fields(Settings)}
    assert {field for field, _k, _a in ENV.values()} <= fields
    assert read_block(SETTINGS_DOC, "settings") == settings_block(), REGENERATE


def test_stated_defaults_hold():
    """The defaults the table states in words are the ones Settings gives."""
    from core.settings import ENV, Settings

    for field, (_text, by_cores) in MACHINE_DEFAULTS.items():
        for cores, expected in by_cores.items():
            with mock.patch("os.cpu_count", return_value=cores):
                assert getattr(Settings(), field) == expected, (field, cores)
    stable = {}
    for cores in (1, 64):
        with mock.patch("os.cpu_count", return_value=cores):
            stable[cores] = Settings()
    varying = {f for f, _k, _a in ENV.values()
               if getattr(stable[1], f) != getattr(stable[64], f)}
    assert varying <= MACHINE_DEFAULTS.keys(), (
        f"{sorted(varying)} depend on the machine: state their defaults in "
        f"MACHINE_DEFAULTS (tests/test_docs.py)")
    nones = {f for f, _k, _a in ENV.values() if getattr(Settings(), f) is None}
    assert nones == NONE_DEFAULTS.keys(), "say what None means in NONE_DEFAULTS"
    s = Settings()
    assert s.sessions == s.index_dir / "sessions"  # NONE_DEFAULTS["sessions_dir"]


def _variables_read(folders: list[str]) -> set[str]:
    names = set()
    for folder in folders:
        if not (ROOT / folder).is_dir():
            continue
        for path in (ROOT / folder).rglob("*.py"):
            names |= set(re.findall(r"REPORTQA_[A-Z][A-Z0-9_]*", path.read_text("utf-8")))
    return names


def test_every_environment_variable_is_documented():
    """Variables read outside core.settings (the model cache) are named on the
    deployment page; those only the tests read, on the development page."""
    deployment = SETTINGS_DOC.read_text("utf-8")
    product = _variables_read(["core", "ingest", "retrieval", "ui", "fitting"])
    missing = sorted(v for v in product if v not in deployment)
    assert not missing, f"docs/deployment.md does not mention {missing}"
    development = (DOCS / "development.md").read_text("utf-8")
    testing = _variables_read(["tests"]) - product
    missing = sorted(v for v in testing if v not in development)
    assert not missing, f"docs/development.md does not mention {missing}"


# --- README and links ----------------------------------------------------------------

def test_readme_is_a_front_page():
    lines = README.read_text("utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, (
        f"README.md has {len(lines)} lines (at most {README_MAX_LINES}): move detail "
        f"into a page under docs/ and link it")
    text = "\n".join(lines)
    assert "docs/screenshot.png" in text
    assert "make run" in text and "make test" in text


_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")


def _links(path: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", path.read_text("utf-8"), flags=re.S)
    return [a or b for a, b in _LINK.findall(text)]


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading."""
    heading = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", heading).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text("utf-8"), flags=re.S)
    return {_slug(m) for m in re.findall(r"^#+\s+(.*)$", text, flags=re.M)}


def _check_links(path: Path) -> list[str]:
    broken = []
    for link in _links(path):
        if re.match(r"[a-z]+:", link):  # http:, https:, mailto:
            continue
        target, _, anchor = link.partition("#")
        file = (path.parent / target).resolve() if target else path
        if not file.exists():
            broken.append(link)
        elif anchor and file.suffix == ".md" and anchor not in _anchors(file):
            broken.append(link)
    return broken


def test_readme_links_resolve_and_reach_every_page():
    broken = _check_links(README)
    assert not broken, f"README.md links to what does not exist: {broken}"
    linked = {(README.parent / link.partition("#")[0]).resolve()
              for link in _links(README) if link.startswith("docs/")}
    pages = {p.resolve() for p in DOCS.glob("*.md")}
    assert pages, "docs/ has no pages"
    unlinked = sorted(p.name for p in pages - linked)
    assert not unlinked, f"README.md does not link docs/{unlinked}"


@pytest.mark.parametrize("page", sorted(p.name for p in DOCS.glob("*.md")))
def test_docs_links_resolve(page):
    broken = _check_links(DOCS / page)
    assert not broken, f"docs/{page} links to what does not exist: {broken}"


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/test_docs.py --write   (regenerate the docs' "
                 "CLI blocks and settings table from the code)")
    os.chdir(ROOT)
    changed = write_all()
    print("rewrote " + ", ".join(changed) if changed else "the docs were up to date")
