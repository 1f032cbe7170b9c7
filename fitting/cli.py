"""`reportqa-fit`: evaluation and fitting, apart from serving. Scores retrieval on
gold questions beside plain BM25 and dense, cross-validates the ranker and the
abstainer (out of sample, and out of family), fits the models serving reads
(retrieval/data/*.json) and checks the quality floors CI holds the product to.

Every command takes the questions folder (--data, a source checkout's tests/data) and
an index (--index, else the configured one; `floors` builds one of the bundled report
when none is given). Needs the `[fit]` extra (scikit-learn)."""

from __future__ import annotations

import functools
import json
import sys
import tempfile
from importlib import resources
from pathlib import Path

import click

from core.errors import ReportQAError
from core.settings import load_settings

_DATA = click.option("--data", type=click.Path(file_okay=False, path_type=Path),
                     default=Path("tests/data"), show_default=True,
                     help="The questions folder: dev, calibration, train/ and the locked "
                          "dev2 split.")
_INDEX = click.option("--index", "index_dir", type=click.Path(path_type=Path),
                      help="The index to judge (default: the configured index).")


def _friendly(fn):
    """Domain errors as one line on stderr and exit status 2."""

    @functools.wraps(fn)
    def wrapper(*a, **kw):
        try:
            return fn(*a, **kw)
        except ReportQAError as e:
            click.echo(f"error: {e.line()}", err=True)
            sys.exit(2)

    return wrapper


def _searcher(index_dir):
    from retrieval.search import get_searcher

    settings = load_settings(index_dir=index_dir)
    return get_searcher(settings.index_dir, settings.query_model)


def _training(data: Path) -> list[Path]:
    from fitting.crossval import training_files

    files = training_files(data)
    missing = [p for p in files if not p.exists()]
    if missing or len(files) < 3:
        raise ReportQAError(f"{data}: the training questions are missing "
                            f"({', '.join(p.name for p in missing) or 'train/*.jsonl'})",
                            fix="give --data the questions folder of a source checkout "
                                "(tests/data)")
    return files


def _models_dir() -> Path:
    return Path(str(resources.files("retrieval").joinpath("data")))


@click.group()
def main() -> None:
    """reportqa-fit: judge and fit reportqa's ranking, abstention and relevance words."""


@main.command("eval")
@click.argument("gold", required=False,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--top-k", default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.option("--no-baselines", is_flag=True, help="Skip the BM25 and dense baselines.")
@click.option("--cv", is_flag=True,
              help="In-sample and cross-validated figures over the training questions "
                   "(--data), per kind and style, then GOLD as a locked test split.")
@click.option("--family", "families", multiple=True, metavar="NAME=INDEX:Q.jsonl[,…]",
              help="With --cv: another family of reports (its index and questions); "
                   "adds leave-one-family-out figures per family beside plain dense "
                   "and BM25. Repeat for more families.")
@_DATA
@_INDEX
@_friendly
def eval_cmd(gold, top_k, as_json, no_baselines, cv, families, data, index_dir) -> None:
    """Score retrieval on GOLD questions, beside plain BM25 and plain dense baselines;
    with --cv, judge the ranker and the abstainer out of sample (and, with --family,
    out of family)."""
    from fitting.evaluate import format_table, load_gold, run_eval

    if families and not cv:
        raise click.UsageError("--family goes with --cv")
    if cv:
        from fitting.crossval import capture, report, score, side_by_side

        train = _training(data)
        searcher = _searcher(index_dir)
        if not families:
            click.echo(report(searcher, train, gold)[0])
            return
        from fitting import families as fam

        given = [fam.parse_family(f) for f in families]
        fams = [("shipped", searcher, fam.family_questions("shipped", train))]
        fams += [(f.name, fam.open_searcher(f.index), fam.family_questions(f.name,
                                                                           f.questions))
                 for f in given]
        text, res = fam.report(fams)
        click.echo(text)
        if gold is not None:
            caps = capture(searcher, fam.family_questions("shipped", [gold]))
            click.echo(f"\nlocked test split {gold.name} (fitted on every family):")
            click.echo(side_by_side({"test": score(searcher, caps, res["config"])}))
        return
    if gold is None:
        raise click.UsageError("give GOLD questions (JSONL) or --cv")
    result = run_eval(_searcher(index_dir), load_gold(gold), k=top_k,
                      baselines=not no_baselines)
    click.echo(json.dumps(result, indent=2) if as_json else format_table(result))


@main.command()
@_DATA
@_INDEX
@click.option("--test", type=click.Path(dir_okay=False, path_type=Path),
              help="The locked test split, scored only as figures (default: DATA/dev2.jsonl).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the model files (default: retrieval/data).")
@_friendly
def calibrate(data, index_dir, test, out) -> None:
    """Cross-validate, fit the ranker and the abstainer on every training question and
    write ranker[.MODEL].json and abstain[.MODEL].json."""
    from fitting.calibrate import calibrate as run

    _training(data)
    run(_searcher(index_dir), data, test or data / "dev2.jsonl", out or _models_dir(),
        echo=click.echo)


@main.command()
@_DATA
@_INDEX
@click.option("--test", type=click.Path(dir_okay=False, path_type=Path),
              help="The locked test split (default: DATA/dev2.jsonl).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for relevance[.MODEL].json (default: retrieval/data).")
@_friendly
def relevance(data, index_dir, test, out) -> None:
    """Fit the thresholds of the relevance words (strong, partial, weak) and write
    relevance[.MODEL].json."""
    from fitting.crossval import load_questions
    from fitting.relevance import fit_and_write

    train = _training(data)
    test = test or data / "dev2.jsonl"
    fit_and_write(_searcher(index_dir), load_questions(train),
                  load_questions([test]) if test.exists() else [],
                  [p.name for p in train], out or _models_dir(), echo=click.echo)


@main.command()
@_DATA
@_INDEX
@click.option("--corpus", "corpus_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("corpus"), show_default=True,
              help="Without --index: the reports to index (in a temporary folder) first.")
@_friendly
def floors(data, index_dir, corpus_dir) -> None:
    """Cross-validate with the shipped ranker and fail (exit 1) if a quality floor is
    missed; CI runs this after the unit tests."""
    from fitting.crossval import capture, cross_validate, load_questions
    from fitting.evaluate import aggregate
    from fitting.floors import failures

    train = _training(data)
    with tempfile.TemporaryDirectory(prefix="reportqa-floors-") as tmp:
        if index_dir is None:
            from ingest.index import build_index

            index_dir = Path(tmp) / "index"
            summary = build_index(load_settings(corpus_dir=corpus_dir, index_dir=index_dir))
            if not summary.passages:
                raise ReportQAError(f"{corpus_dir}: no passages indexed",
                                    fix="give --corpus the bundled corpus/ folder")
        searcher = _searcher(index_dir)
        shipped = json.loads((_models_dir() / "ranker.json").read_text("utf-8"))["ranker"]
        rows = cross_validate(searcher, capture(searcher, load_questions(train)), shipped)
    s = aggregate(rows)
    click.echo(f"{len(rows)} questions, grouped 5-fold: " + ", ".join(
        f"{k} {s[k]:.2f}" for k in ("hit@1", "hit@5", "mrr@10", "recall@10",
                                    "abstain_rate", "false_abstain_rate")
        if s[k] is not None))
    missed = failures(rows)
    for line in missed:
        click.echo(f"floor missed: {line}", err=True)
    if missed:
        sys.exit(1)
    click.echo("every quality floor holds")
