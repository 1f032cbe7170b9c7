"""Questions made by rule from the hand-written ones (part*.jsonl), written to
rules.jsonl. Each records how it was made ("made") and the question it came from
("group": cross-validation keeps a question and its variants in the same fold).

- Style variants of answerable questions: lower case without punctuation, one typo in a
  longer word, analysts' abbreviations.
- Unanswerable by rule: the same question about another force, or about another
  year; and questions about topics the report never mentions (each checked absent from
  the report's text at generation time).

    python tests/data/train/make_rules.py
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPORT = HERE.parents[2] / "corpus" / "hmic-crime-inspection-2014-west-midlands.txt"

OTHER_FORCES = ["Kent Police", "Greater Manchester Police", "Thames Valley Police",
                "Cleveland Police", "Merseyside Police", "Essex Police", "Durham Constabulary",
                "Lancashire Constabulary", "South Wales Police", "Norfolk Constabulary"]
OTHER_YEARS = ["2017", "2018", "2019", "2021", "2009"]
FORCE_NAMES = re.compile(r"\b(West Midlands Police|West Midlands|WMP|west mids)\b", re.I)
ABBREVIATIONS = [
    (r"\bWest Midlands Police\b", "WMP"), (r"\bWest Midlands\b", "west mids"),
    (r"\banti-?social behaviour\b", "ASB"), (r"\bdomestic abuse\b", "DA"),
    (r"\bper ?cent(?:age)?\b", "%"), (r"\bnumber of\b", "no. of"),
    (r"\bstatistics\b", "stats"), (r"\band\b", "&"), (r"\bapproximately\b", "approx."),
    (r"\bgovernment\b", "govt"), (r"\bdepartment\b", "dept"),
    (r"\bintegrated offender management\b", "IOM"), (r"\brestorative justice\b", "RJ"),
    (r"\bpolice community support officers?\b", "PCSOs"), (r"\bthe force\b", "wmp"),
    (r"\borganised crime groups?\b", "OCGs"), (r"\bcompared with\b", "vs"),
]
TOPICS = ["body-worn video", "drones", "e-scooters", "drug driving", "rural crime",
          "wildlife crime", "cyberstalking", "ransomware", "firearms licensing",
          "dangerous dogs", "police pensions", "officer wellbeing", "taser",
          "speed cameras", "stalking protection orders", "county lines",
          "football banning orders", "counterfeit goods", "fly-tipping", "metal theft",
          "heritage crime", "bike theft", "online grooming", "spiking",
          "violence in prisons", "the national police air service", "facial recognition",
          "knife arches", "scrambler bikes", "catalytic converter theft"]
TEMPLATES = ["what does hmic say about {t}", "{t} stats", "any concerns about {t}?",
             "How good is the force at tackling {t}?", "{t} west midlands",
             "what is wmp doing about {t}", "Does the report say anything about {t}?",
             "{t} performance 2014"]


def typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 2)
    op = rng.choice(["swap", "drop", "double", "vowel"])
    if op == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if op == "drop":
        return word[:i] + word[i + 1:]
    if op == "double":
        return word[:i] + word[i] + word[i:]
    vowels = "aeiou"
    j = next((k for k in range(i, len(word)) if word[k] in vowels), None)
    if j is None:
        return word[:i] + word[i + 1:]
    return word[:j] + rng.choice([v for v in vowels if v != word[j]]) + word[j + 1:]


def main() -> None:
    rng = random.Random(20261201)
    hand = []
    for f in sorted(HERE.glob("part*.jsonl")):
        hand += [json.loads(x) for x in f.read_text().splitlines() if x.strip()]
    report = REPORT.read_text(encoding="utf-8").lower()
    answerable = [q for q in hand if q["answerable"] and not q.get("history")]
    out = []

    def emit(base, suffix, question, made, **kw):
        q = {"id": f"{base['id']}-{suffix}", "question": question, "group": base["id"],
             "made": made, "style": kw.pop("style", base["style"]), **kw}
        q.setdefault("answerable", base["answerable"])
        q.setdefault("evidence", base["evidence"])
        q.setdefault("kind", base["kind"])
        q.setdefault("section", base.get("section", ""))
        q.setdefault("page", base.get("page"))
        out.append(q)

    formal = [q for q in answerable if q["style"] in ("formal", "hmic_say", "any_good",
                                                       "concerns", "figure_reworded")]
    for q in rng.sample(formal, min(40, len(formal))):
        text = re.sub(r"[^\w\s%£'-]", "", q["question"]).lower()
        emit(q, "lower", text, f"rule:lowercase({q['id']})", style="lowercase")
    for q in rng.sample(answerable, min(40, len(answerable))):
        words = q["question"].split()
        long = [i for i, w in enumerate(words) if len(w) >= 7 and w.isalpha()]
        if not long:
            continue
        i = rng.choice(long)
        words[i] = typo(words[i], rng)
        emit(q, "typo", " ".join(words), f"rule:typo({q['id']})", style="typo")
    n = 0
    for q in rng.sample(answerable, len(answerable)):
        text = q["question"]
        for pat, rep in ABBREVIATIONS:
            text = re.sub(pat, rep, text, count=1, flags=re.I)
        if text != q["question"] and n < 35:
            emit(q, "abbr", text, f"rule:abbreviations({q['id']})", style="abbrev")
            n += 1
    for q in rng.sample(answerable, 45):
        force = rng.choice(OTHER_FORCES)
        text = FORCE_NAMES.sub(force, q["question"]) if FORCE_NAMES.search(q["question"]) \
            else f"{q['question'].rstrip('?')} in {force}?"
        emit(q, "force", text, f"rule:other_force({q['id']})", answerable=False,
             evidence=[], kind="absent", section="")
    for q in rng.sample(answerable, 35):
        year = rng.choice(OTHER_YEARS)
        text = re.sub(r"\b20(1[0-4])\b", year, q["question"]) if re.search(
            r"\b201[0-4]\b", q["question"]) else f"{q['question'].rstrip('?')} in {year}?"
        emit(q, "year", text, f"rule:other_year({q['id']})", answerable=False,
             evidence=[], kind="absent", section="")
    for i, t in enumerate(TOPICS):
        words = re.findall(r"[a-z]{4,}", t)
        # Only a topic the report never names, by any of its longer words.
        if any(re.search(r"\b" + w[:-1] if len(w) > 5 else r"\b" + w, report) for w in words
               if w not in ("national", "police", "service", "crime", "theft", "online",
                            "orders", "protection", "performance")):
            continue
        tmpl = TEMPLATES[i % len(TEMPLATES)]
        base = {"id": f"topic-{i:02d}", "style": "terse" if "{t} " in tmpl[:4] else "formal",
                "answerable": False, "evidence": [], "kind": "absent"}
        emit(base, "t", tmpl.format(t=t), "rule:absent_topic", section="")
    path = HERE / "rules.jsonl"
    path.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in out))
    print(f"{len(out)} questions written to {path}")


if __name__ == "__main__":
    main()
