"""Floors on answer quality measured out of sample, with the real model on the real
report: grouped 5-fold cross-validation over every training question (dev, calibration
and train/ in the questions folder). Floors sit a little under the figures in
docs/answers.md, so a regression fails CI (`make test` runs `reportqa-fit floors`);
in-sample figures are not checked (they flatter).

The cross-validation takes a minute and a half on two cores, which is why it is a
command of its own and not a unit test; tests/test_floors.py checks the rule."""

from __future__ import annotations

from fitting.evaluate import aggregate

#: (figure, bound, at least?) over every cross-validated question.
OVERALL = (
    ("hit@1", 0.70, True),
    ("hit@5", 0.91, True),
    ("mrr@10", 0.80, True),
    ("recall@10", 0.88, True),
    # 0.74 before the 112 hand-written near-miss questions joined the unanswerable ones
    # (a count, sub-group, measure or period the report does not give: 0.2–0.3 of
    # them are declined); 0.65 with them.
    ("abstain_rate", 0.62, True),
    ("false_abstain_rate", 0.06, False),
)
#: Every way of typing keeps a floor, where it has at least MIN_N questions: hit@5 for
#: answerable questions, abstention for unanswerable ones.
STYLE_HIT5 = 0.70
STYLE_ABSTAIN = 0.35
MIN_N = 8


def failures(rows: list[dict]) -> list[str]:
    """One line per floor the cross-validated rows miss; empty when all hold."""
    out = []
    s = aggregate(rows)
    for name, bound, at_least in OVERALL:
        v = s[name]
        if v is None or (v < bound if at_least else v > bound):
            out.append(f"{name} {v} is {'below' if at_least else 'above'} {bound}")
    for style in sorted({r["style"] for r in rows}):
        st = aggregate([r for r in rows if r["style"] == style])
        if st["hit@5"] is not None and st["n_single"] >= MIN_N and st["hit@5"] < STYLE_HIT5:
            out.append(f"style {style}: hit@5 {st['hit@5']} is below {STYLE_HIT5}")
        if (st["abstain_rate"] is not None and st["n_unanswerable"] >= MIN_N
                and st["abstain_rate"] < STYLE_ABSTAIN):
            out.append(f"style {style}: abstention {st['abstain_rate']} is below "
                       f"{STYLE_ABSTAIN}")
    return out
