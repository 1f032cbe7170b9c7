"""Answer quality on an archive of same-family reports: questions that name a force
(answered from that force?), questions about a force or year with no report (abstained
with the reason?), and questions asked across reports (does each report that holds
the answer bring back its answering passage?).

Two fictional archives (tests/archive_factory.py; every report says it is fictional):
"dev", the fixture archive the tests use, and "held-back", other forces, seed and
figures, which no rule or threshold was tuned on. Questions are made from templates
in several styles (formal, terse lower case, with a year, with a typo, with
abbreviations); the figure asked for sits in one sentence of each report (the fact
ledger), so hits are scored exactly.

    python benchmarks/archive_quality.py               # both archives, figures as a table
    python benchmarks/archive_quality.py --json out.json

The real embedding model builds each index (a minute or two per archive on 2 cores)."""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import archive_factory as af  # noqa: E402

#: The held-back archive: forces the dev archive does not have, another seed.
HELD_BACK_PLAN = [
    ("2014", "Eastbrook Police", 2014, "crime inspection", False),
    ("2014", "Fellmarsh Constabulary", 2014, "crime inspection", False),
    ("2015", "Glenholt Police", 2015, "PEEL legitimacy", True),
    ("2016", "Eastbrook Police", 2016, "PEEL efficiency", False),
    ("2016", "Harrowdale Constabulary", 2016, "PEEL effectiveness", False),
    ("2017", "Fellmarsh Constabulary", 2017, "PEEL effectiveness", True),
    ("2018-19", "Glenholt Police", 2018, "PEEL assessment", False),
    ("2021-22", "Eastbrook Police", 2021, "PEEL assessment", False),
    ("2021-22", "Harrowdale Constabulary", 2021, "PEEL assessment", False),
    ("thematic", None, 2019, "thematic", False),
]

#: A sentence stating a figure on the topic (the generator's own paragraphs state such
#: figures too, e.g. "27 percent of emergency calls were answered within ten seconds"):
#: the lenient comparison score counts a row whose passage has one as answering.
TOPIC_FIGURE = {
    "victim satisfaction": r"satisf\w*[^.]*\d+(?:\.\d+)?\s*(?:percent|%)|\d+(?:\.\d+)?\s*"
                           r"(?:percent|%)[^.]*satisf",
    "999 calls": r"(?:999|emergency) calls[^.]*\d|\d+(?:\.\d+)?\s*percent of (?:999|emergency)",
    "crime rate": r"crime[^.]*\d+(?:\.\d+)?\s*(?:crimes\s+)?per 1,000|per 1,000 population",
    "organised crime groups": r"\d+\s+organised crime groups",
    "stop and search grounds": r"grounds[^.]*\d+(?:\.\d+)?\s*percent|\d+(?:\.\d+)?\s*percent"
                               r"[^.]*grounds",
}

#: Forces with no report in either archive: real ones from the force table and
#: fictional ones of the same family.
UNINDEXED = ["Cleveland Police", "Kent Police", "Durham Constabulary", "North Wales Police",
             "Ivelshire Police", "Kestrel Vale Constabulary"]

#: Per fact topic, questions in several styles. {F} full force name, {c} its short name
#: (lower case), {Y} a report year. Written from the topic, not from the fact sentences.
TEMPLATES = {
    "victim satisfaction": [
        ("formal", "How satisfied are victims with the service from {F}?"),
        ("formal-year", "What was the victim satisfaction rate for {F} in the {Y} report?"),
        ("terse", "{c} victim satisfaction"),
        ("terse-year", "{c} {Y} victim satisfaction %"),
        ("typo", "how satisifed are victims in {c}"),
        ("paraphrase", "Are victims of crime happy with how {F} treats them?"),
    ],
    "999 calls": [
        ("formal", "How quickly does {F} answer emergency calls?"),
        ("formal-year", "In {Y}, what share of 999 calls did {F} answer on time?"),
        ("terse", "{c} 999 call answering"),
        ("terse-year", "{c} 999 calls {Y}"),
        ("typo", "{c} emergancy calls answered within target"),
        ("paraphrase", "Does {F} pick up the phone fast enough when people ring 999?"),
    ],
    "crime rate": [
        ("formal", "What is the recorded crime rate in the {F} area?"),
        ("formal-year", "What crime rate per 1,000 people did the {Y} report give for {F}?"),
        ("terse", "{c} crime rate per 1000"),
        ("terse-year", "{c} {Y} crime per head of population"),
        ("typo", "{c} recorded crime rat per 1000"),
        ("paraphrase", "How much crime is there in {c} for its population?"),
    ],
    "organised crime groups": [
        ("formal", "How many organised crime groups has {F} mapped?"),
        ("formal-year", "How many organised crime groups had {F} mapped by the {Y} report?"),
        ("terse", "{c} ocgs mapped"),
        ("terse-year", "{c} {Y} number of OCGs"),
        ("typo", "{c} organized crime grups"),
        ("paraphrase", "How many serious organised criminal gangs does {F} know about?"),
    ],
    "stop and search grounds": [
        ("formal", "Does {F} record reasonable grounds for stop and search?"),
        ("formal-year", "In the {Y} inspection, how often did {F} record grounds for stop "
                        "and search?"),
        ("terse", "{c} stop search grounds %"),
        ("terse-year", "{c} s&s grounds recorded {Y}"),
        ("typo", "{c} stop and serach reasonable grounds"),
        ("paraphrase", "Do {F} officers write down why they stopped and searched someone?"),
    ],
}
MISSING_FORCE = ["How satisfied are victims with {F}?", "{c} 999 call answering",
                 "how many ocgs has {F} mapped", "What does HMIC say about stop and search "
                 "in {F}?"]
MISSING_YEAR = ["What did the {Y} inspection of {F} find about victim satisfaction?",
                "{c} {Y} report 999 calls", "{F} PEEL {Y} organised crime groups"]
COMPARE = {
    "victim satisfaction": ["Compare victim satisfaction across the forces",
                            "which forces have the highest victim satisfaction",
                            "victim satisfaction in each force"],
    "999 calls": ["How quickly does each force answer 999 calls?",
                  "compare emergency call answering across all forces"],
    "crime rate": ["Compare the crime rate per 1,000 population across the forces",
                   "crime rates in every force"],
    "organised crime groups": ["How many organised crime groups has each force mapped?",
                               "compare ocgs mapped across forces"],
    "stop and search grounds": ["Which forces record reasonable grounds for stop and "
                                "search best?"],
}
COMPARE_OVER_TIME = ["How has victim satisfaction in {F} changed since 2014?",
                     "{c} 999 calls answered on time over the years"]


def short(force: str) -> str:
    """The name users type for a force: without "Police"/"Constabulary", lower case."""
    return re.sub(r"\s+(Police|Constabulary)$", "", force).lower()


def write_held_back(root: Path) -> list[af.ArchiveReport]:
    """The held-back archive (nested folders, clashing file names, as the dev one)."""
    out = []
    for i, (folder, force, year, programme, pdf) in enumerate(HELD_BACK_PLAN):
        slug = re.sub(r"[^a-z0-9]+", "-", (force or "stalking").lower()).strip("-")
        rel = f"{folder}/{slug}/report.{'pdf' if pdf else 'txt'}"
        out.append(af.write_force_report(root / rel, force, year, programme, index=100 + i,
                                         seed=7, pdf=pdf, rel_path=rel))
    return out


def _covers(r: af.ArchiveReport, year: int) -> bool:
    return r.year == year or (r.published or "")[:4] == str(year) or (
        r.programme == "PEEL assessment" and r.year >= 2021 and r.year + 1 == year)


def questions(reports: list[af.ArchiveReport]) -> list[dict]:
    """The question set for an archive."""
    forces = sorted({r.force for r in reports if r.scope == "force"})
    out: list[dict] = []
    for f in forces:
        mine = [r for r in reports if r.force == f]
        for topic, styles in TEMPLATES.items():
            holders = [r for r in mine if topic in r.facts]
            if not holders:
                continue
            for style, tpl in styles:
                if "{Y}" in tpl:
                    for r in holders:
                        out.append({"kind": "named", "style": style, "force": f,
                                    "question": tpl.format(F=f, c=short(f), Y=r.year),
                                    "gold": [r.facts[topic].sentence]})
                else:
                    out.append({"kind": "named", "style": style, "force": f,
                                "question": tpl.format(F=f, c=short(f)),
                                "gold": [r.facts[topic].sentence for r in holders]})
        years = [y for y in range(2012, 2025) if not any(_covers(r, y) for r in mine)]
        for tpl, y in zip(MISSING_YEAR, years[::3]):
            out.append({"kind": "missing", "style": "year", "force": f,
                        "question": tpl.format(F=f, c=short(f), Y=y), "expect": str(y)})
        for tpl in COMPARE_OVER_TIME:
            topic = "victim satisfaction" if "satisfaction" in tpl else "999 calls"
            out.append({"kind": "compare", "style": "over time", "force": f, "topic": topic,
                        "question": tpl.format(F=f, c=short(f)),
                        "gold": {r.rel_path: r.facts[topic].sentence for r in mine
                                 if topic in r.facts}})
    for f in UNINDEXED:
        for tpl in MISSING_FORCE:
            out.append({"kind": "missing", "style": "force", "force": f,
                        "question": tpl.format(F=f, c=short(f)), "expect": f.split()[0]})
    for topic, qs in COMPARE.items():
        gold = {r.rel_path: r.facts[topic].sentence for r in reports if topic in r.facts}
        for q in qs:
            out.append({"kind": "compare", "style": "across", "question": q, "gold": gold,
                        "topic": topic})
    return out


def _flat(t: str) -> str:
    return re.sub(r"\s+", " ", t)


@dataclass
class Figures:
    named: list = field(default_factory=list)  # (hit@1, hit@5, from force @1, style)
    missing: list = field(default_factory=list)  # (abstained with reason, style)
    compare: list = field(default_factory=list)  # (covered, total, style)
    #: (covered by the ledger sentence or another figure on the topic, total)
    compare_lenient: list = field(default_factory=list)
    seconds: dict = field(default_factory=dict)

    def table(self) -> dict:
        def mean(xs):
            return round(sum(xs) / len(xs), 3) if xs else None

        styles = sorted({s for *_, s in self.named})
        cov = sum(c for c, _, _ in self.compare)
        tot = sum(t for _, t, _ in self.compare)
        return {
            "named": {"n": len(self.named), "hit@1": mean([a for a, _, _, _ in self.named]),
                      "hit@5": mean([b for _, b, _, _ in self.named]),
                      "force@1": mean([c for _, _, c, _ in self.named]),
                      "by_style": {s: mean([a for a, _, _, t in self.named if t == s])
                                   for s in styles}},
            "missing": {"n": len(self.missing), "abstained_with_reason":
                        mean([a for a, _ in self.missing]),
                        "by_style": {s: mean([a for a, t in self.missing if t == s])
                                     for s in sorted({t for _, t in self.missing})}},
            "compare": {"questions": len(self.compare), "reports_covered": cov,
                        "reports_total": tot, "coverage": round(cov / tot, 3) if tot else None,
                        "coverage_any_figure_on_topic": round(
                            sum(c for c, _ in self.compare_lenient) / tot, 3) if tot else None,
                        "by_style": {s: round(sum(c for c, _, t in self.compare if t == s)
                                              / max(1, sum(n for _, n, t in self.compare
                                                           if t == s)), 3)
                                     for s in sorted({t for *_, t in self.compare})}},
            "seconds": self.seconds,
        }


def evaluate(searcher, reports: list[af.ArchiveReport], qs: list[dict]) -> Figures:
    """Score the questions against an index of the archive."""
    fig = Figures()
    t = time.perf_counter()
    for q in qs:
        if q["kind"] == "named":
            a = searcher.ask(q["question"], top_k=5)
            texts = [_flat(h.passage.text) for h in a.hits]
            ok = [any(_flat(g) in t_ for g in q["gold"]) for t_ in texts]
            fig.named.append((float(bool(ok[:1] and ok[0]) and not a.abstained),
                              float(any(ok)), float(bool(a.hits) and
                                                    a.hits[0].passage.force == q["force"]),
                              q["style"]))
        elif q["kind"] == "missing":
            a = searcher.ask(q["question"], top_k=5)
            fig.missing.append((float(a.abstained and bool(a.reason) and
                                      q["expect"].lower() in a.reason.lower()), q["style"]))
        else:
            c = searcher.compare(q["question"])
            rows = {r.report_id: r for r in c.rows}
            rel_to_id = {x.source_file: x.report_id for x in searcher.store.reports}
            gold = q["gold"]
            covered = lenient = 0
            figure = re.compile(TOPIC_FIGURE[q["topic"]], re.I)
            for rel, sentence in gold.items():
                row = rows.get(rel_to_id.get(rel))
                if not (row and row.answers and row.hit):
                    continue
                text = _flat(row.hit.passage.text)
                covered += _flat(sentence) in text
                lenient += _flat(sentence) in text or bool(figure.search(text))
            fig.compare.append((covered, len(gold), q["style"]))
            fig.compare_lenient.append((lenient, len(gold)))
    fig.seconds["questions"] = round(time.perf_counter() - t, 1)
    return fig


def build(root: Path, index_dir: Path):
    """Index an archive folder with the real model; the Searcher over it."""
    from core.settings import load_settings
    from ingest.embed import get_embedder
    from ingest.index import build_index
    from retrieval.search import Searcher
    from retrieval.store import Store

    s = build_index(load_settings(corpus_dir=root, index_dir=index_dir))
    assert s.passages and not s.failed, s.failed
    store = Store(index_dir)
    return Searcher(store, get_embedder(store.model))


def run(which: str, work: Path) -> dict:
    """Figures for one archive ("dev" or "held-back")."""
    root = work / which / "corpus"
    t = time.perf_counter()
    reports = af.write_archive(root) if which == "dev" else write_held_back(root)
    searcher = build(root, work / which / "index")
    built = round(time.perf_counter() - t, 1)
    fig = evaluate(searcher, reports, questions(reports))
    fig.seconds["build"] = built
    return fig.table()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=["dev", "held-back"])
    ap.add_argument("--json", type=Path, help="Also write the figures here.")
    args = ap.parse_args()
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for which in ([args.only] if args.only else ["dev", "held-back"]):
            out[which] = run(which, Path(tmp))
            print(which, json.dumps(out[which], indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
