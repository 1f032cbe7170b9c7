"""A corpus scaler: synthetic inspection reports, deterministic by seed, for measuring
reportqa from one report to a national archive without the real archive.

Every report is **fictional** and says so in its introduction: the forces, places,
operations and figures are invented. The structure and vocabulary follow the published
HMIC(FRS) reports (inspection-question chapters with graded judgments, subsections,
paragraphs of 3-8 sentences, figure tables, "Within three months, ... should ..."
recommendations, summary bullets, policing acronyms), so passage lengths, term
frequencies and section paths look like the real corpus's to the indexer and to FTS5.

One report is a list of elements (:class:`Element`). The same report can be written

* as a ``.txt`` file laid out like text extracted from a PDF (running header, printed
  page number, form feed between pages), which ``ingest.pipeline.ingest_file`` parses;
* as a PDF (reportlab), for the PDF parsing benchmark;
* straight to :class:`ingest.models.Passage` records (:func:`report_passages`), which
  mimics ``ingest.passages.build_passages`` without parsing, for 100k-1M passages.

Report *i* of a corpus depends only on (seed, i), so a corpus of 10,000 reports starts
with the corpus of 1,000 and any report can be regenerated on its own.
"""

from __future__ import annotations

import hashlib
import random
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

FICTION_NOTE = (
    "This is a synthetic report generated to benchmark reportqa: the force, places, "
    "operations and figures in it are fictional."
)

_FORCE_NAMES = [
    "Ardenvale", "Blackmere", "Coldharrow", "Dunmorrow", "Eastbrook", "Fellmarsh",
    "Glenholt", "Harrowdale", "Ivelshire", "Kestrel Vale", "Larkmoor", "Marlowshire",
    "Northmoor", "Oakhollow", "Pennyrigg", "Queensmere", "Ravensholt", "Saltmere",
    "Thornvale", "Umberleigh", "Wyvernshire", "Yarrowdale", "Ashcombe", "Brackenridge",
    "Caldermoor", "Drummondshire", "Elmsworth", "Foxhollow", "Greymarsh", "Hollowmere",
    "Invershire", "Juniper Vale", "Kingsmarsh", "Lindenshire", "Mistleford", "Nettlecombe",
    "Orchardshire", "Pikesmoor", "Redwater", "Stonemere", "Tidewater", "Upperfold",
    "Westmarch", "Wolds and Fenland", "Eastmarch", "Southmoor",
]
_SYL_A = ["Ash", "Brom", "Cal", "Dar", "Elm", "Farn", "Gold", "Hal", "Kel", "Lang", "Mar",
          "Nor", "Oak", "Pen", "Rad", "Sel", "Thorn", "Wick", "Yar", "Brad", "Stan", "Whit"]
_SYL_B = ["ford", "ley", "bridge", "ton", "wick", "ham", "by", "field", "mouth", "stead",
          "worth", "combe", "minster", "port", "borough"]
_OPS = ["Kingfisher", "Lantern", "Bramble", "Harbour", "Sentinel", "Compass", "Granite",
        "Meadow", "Beacon", "Falcon", "Juniper", "Anchor", "Tilia", "Orchard", "Quartz"]
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"]
_NUMWORDS = ["two", "three", "four", "five", "six", "eight", "ten", "twelve"]

_CRIMES = ["burglary", "burglary in a dwelling", "violence with injury", "robbery",
           "serious sexual offences", "domestic abuse", "vehicle crime", "shoplifting",
           "criminal damage", "fraud", "hate crime", "knife crime", "drug supply",
           "child sexual exploitation", "modern slavery", "stalking and harassment",
           "cyber-enabled crime", "rural crime", "theft from the person", "arson"]
_TACTICS = ["targeted patrols", "stop and search", "dispersal orders", "community protection "
            "notices", "restorative justice", "crime prevention advice", "covert surveillance",
            "automatic number plate recognition", "problem-solving plans", "warrants",
            "civil injunctions", "electronic tagging", "neighbourhood watch schemes",
            "property marking kits", "licensing reviews", "partnership tasking meetings"]
_PARTNERS = ["local authorities", "health services", "the probation service", "housing "
             "providers", "schools", "the fire and rescue service", "victim support services",
             "youth offending teams", "the Crown Prosecution Service", "mental health services",
             "children's social care", "the police and crime commissioner (PCC)",
             "community safety partnerships", "drug and alcohol services", "local charities"]
_TEAMS = ["neighbourhood policing teams", "the public protection unit (PPU)", "response "
          "officers", "call handlers", "the force control room", "investigators in the "
          "criminal investigation department", "the integrated offender management (IOM) team",
          "the economic crime unit", "police community support officers (PCSOs)",
          "the serious and organised crime unit", "custody staff", "the crime recording team",
          "the domestic abuse team", "the multi-agency safeguarding hub", "the digital "
          "forensics unit", "special constables", "front-line supervisors"]
_POS = ["good", "effective", "thorough", "consistent", "well-established", "comprehensive",
        "strong", "clear", "encouraging", "systematic"]
_NEG = ["limited", "inconsistent", "patchy", "slow", "under-developed", "fragmented",
        "unclear", "poorly understood", "not always effective", "variable"]
_ACTIONS = [
    "review the resourcing and processes of the {team} so that investigations are "
    "allocated to staff with the right skills",
    "ensure that all victims of {crime} receive a risk assessment and a timely visit",
    "improve the way it shares information with {partner} about repeat victims",
    "publish how it decides on local priorities and how {partner} can take part",
    "make sure that {team} record the outcome of every {tactic} encounter",
    "develop a plan to reduce the backlog of digital devices awaiting examination",
    "improve the supervision of investigations into {crime}",
    "ensure that its use of {tactic} is evaluated and the results shared with the public",
    "introduce a consistent approach to managing registered sex offenders",
    "review how calls for service are graded so that vulnerable callers are identified",
    "ensure it complies with the Victims' Code in all cases of {crime}",
    "establish a problem-solving approach to anti-social behaviour (ASB) in every area",
]

# Inspection-question chapters (level-1 headings) by inspection type.
_Q = {
    "reduce": "How effective is the force at reducing crime and preventing offending?",
    "investigate": "How effective is the force at investigating offending?",
    "asb": "How effective is the force at tackling anti-social behaviour?",
    "vulnerable": "How effective is the force at protecting those who are vulnerable from "
                  "harm and supporting victims?",
    "soc": "How effective is the force at tackling serious and organised crime?",
    "demand": "How efficient is the force at understanding and managing demand?",
    "resources": "How efficient is the force at using its resources to meet demand?",
    "fair": "How legitimate is the force at treating the public fairly?",
    "ethical": "How legitimate is the force at ensuring its workforce behaves ethically and "
               "lawfully?",
    "records": "How well does the force record crime?",
}
_TYPES = {
    "Crime inspection": ["reduce", "investigate", "asb"],
    "PEEL police effectiveness inspection": ["reduce", "investigate", "vulnerable", "soc"],
    "PEEL police efficiency inspection": ["demand", "resources"],
    "PEEL police legitimacy inspection": ["fair", "ethical"],
    "Vulnerability inspection": ["vulnerable", "investigate"],
    "Crime data integrity inspection": ["records", "vulnerable"],
}
_GRADES = ["Outstanding", "Good", "Good", "Good", "Requires improvement",
           "Requires improvement", "Inadequate"]

# Subsections (level-2 headings) by chapter: (heading, topic of its paragraphs).
_SUBS = {
    "reduce": [("Crime", "crime"), ("Meeting the needs of the community", "community"),
               ("Quality of victim contact", "victims"), ("Use of police tactics", "tactics"),
               ("Partnership working and information sharing", "partners"),
               ("Domestic abuse", "da"), ("Preventing crime", "tactics")],
    "investigate": [("Vulnerability, risk and victims", "vuln"),
                    ("Investigation", "investigation"),
                    ("Tackling repeat and prolific offenders", "iom"),
                    ("Learning from experience", "learning"),
                    ("Digital evidence", "investigation")],
    "asb": [("Community contact and victim care", "asb"), ("Partnership working", "partners"),
            ("Improving services to the public", "asb")],
    "vulnerable": [("Identifying vulnerability", "vuln"), ("Initial response", "calls"),
                   ("Domestic abuse", "da"), ("Missing and absent children", "vuln"),
                   ("Safeguarding and partnership", "partners")],
    "soc": [("Understanding the threat", "soc"), ("Disrupting organised crime groups", "soc"),
            ("Working with partners", "partners")],
    "demand": [("Understanding demand", "demand"), ("Managing calls for service", "calls"),
               ("Future demand", "demand")],
    "resources": [("Workforce", "workforce"), ("Finances", "finance"),
                  ("Collaboration", "partners")],
    "fair": [("Stop and search", "stopsearch"), ("Use of force", "stopsearch"),
             ("Engaging with the public", "community")],
    "ethical": [("Ethical culture", "workforce"), ("Counter-corruption", "workforce"),
                ("Wellbeing", "workforce")],
    "records": [("Crime recording accuracy", "records"), ("Out-of-court disposals",
                                                          "records"),
                ("Cancelled crimes", "records")],
}

# Sentence templates by topic; {slots} are filled per sentence (see _SLOTS).
_T = {
    "crime": [
        "When compared with the 12 months to {month} {prev}, recorded crime (excluding fraud) "
        "in the 12 months to {month} {year} reduced by {pct} percent in {force_short}, "
        "compared with a reduction of {pct2} percent across England and Wales.",
        "Over this period, victim-based crime decreased by {pct} percent in {force_short}.",
        "The rate of {crime} in the force area is {dec} per 1,000 population, which is "
        "{cmp} the rate for England and Wales.",
        "{force_short}'s detection rate for {crime} was {pct} percent, which was {cmp} the "
        "{pct2} percent for England and Wales.",
        "The force recorded {big} incidents of {crime} in the 12 months to {month} {year}.",
        "Recorded crime in {town} rose by {pct} percent, driven largely by {crime}.",
        "The force attributes the reduction in {crime} to {tactic} in {town}.",
    ],
    "community": [
        "The police and crime plan sets out the priorities agreed with {partner}.",
        "Each local policing area has a community-led board that produces its own plan.",
        "Residents of {town} told us that {crime} was their main concern.",
        "The force uses {tactic} to respond to the priorities set at local meetings.",
        "{team} hold regular surgeries and publish their priorities every {numword} months.",
        "The force's approach to engaging with the public is {pos}, although in {town} it "
        "is {neg}.",
    ],
    "victims": [
        "The force recognises the importance of putting the victim at the centre of policing.",
        "In the 12 months to {month} {year}, {force_short} had a victim satisfaction rate of "
        "{dec} percent, compared with {dec2} percent in England and Wales.",
        "Victims we spoke to were mostly satisfied with the way {team} kept them informed.",
        "Call handlers record how each victim would like to be contacted.",
        "Supervisors call {numword} service users each month to hear their views.",
        "We found that victims of {crime} were not always updated on their case.",
        "The force's compliance with the Victims' Code is {neg}.",
    ],
    "tactics": [
        "{force_short} uses a wide range of tactics, including {tactic} and {tactic2}.",
        "The force evaluates what works before it decides to use {tactic}.",
        "{op} targeted {crime} in {town} and led to {num} arrests.",
        "The force gave {tactic} to {num} victims of {crime} to prevent repeat victimisation.",
        "Its problem-solving approach is {pos}, but the results are not always recorded.",
        "Officers told us that {tactic} had reduced {crime} in {town}.",
    ],
    "partners": [
        "HMIC found evidence of a {pos} relationship with {partner}.",
        "The force works with {partner} and {partner2} to identify and support vulnerable "
        "people.",
        "Staff from {partner} are co-located with {team} in {town}.",
        "Information sharing with {partner} is {neg}, which delays joint action.",
        "The community safety partnership in {town} meets monthly to agree joint priorities.",
        "Joint projects with {partner} are making a real difference to {crime} in {town}.",
    ],
    "da": [
        "In {month} {year} the force introduced a new domestic abuse (DA) risk assessment.",
        "Officers complete a risk assessment at every domestic abuse incident they attend.",
        "High-risk cases are referred to the multi-agency risk assessment conference (MARAC).",
        "The force made {num} arrests for domestic abuse offences, an arrest rate of {pct} "
        "per 100 crimes.",
        "Domestic violence protection orders are used {pos_adv} to protect victims.",
        "The force's action plan on violence against women and girls (VAWG) is {pos}.",
    ],
    "vuln": [
        "The force understands the importance of assessing and managing the risks faced by "
        "vulnerable people.",
        "{team} review every incident involving a vulnerable adult within {num} hours.",
        "The multi-agency safeguarding hub in {town} handles {big} referrals a year.",
        "Children who go missing are not always given a return-home interview.",
        "Officers we spoke to understood how to identify child sexual exploitation (CSE).",
        "The force's response to people with mental health needs is {pos}.",
        "Public protection units (PPUs) develop a victim plan for each case they deal with.",
    ],
    "investigation": [
        "HMIC reviewed {num} crime investigations, and found that most were {pos}.",
        "The quality of investigations into {crime} is {neg}.",
        "Supervision of investigations is {pos}, with supervisors setting clear lines of "
        "enquiry.",
        "There is a backlog of {num} digital devices awaiting examination.",
        "The force has invested in training {num} detectives since {prev}.",
        "Investigators told us their workloads were high and that this affected {crime} "
        "cases.",
        "Evidence-led prosecutions are pursued when victims of {crime} do not support "
        "action.",
    ],
    "iom": [
        "The integrated offender management (IOM) scheme manages {num} prolific offenders.",
        "The force has good arrangements with {partner} for managing repeat offenders.",
        "Offenders on the IOM scheme reoffended {pct} percent less than others.",
        "Wanted persons and named suspects are reviewed at daily meetings.",
        "The force is working with the University of {town} to evaluate its approach.",
    ],
    "learning": [
        "The force has an {pos} and systematic approach to learning.",
        "It evaluates policing practices to understand which tactics work best.",
        "Lessons from serious case reviews are shared with {team}.",
        "The force should do more to learn from complaints about {crime} investigations.",
    ],
    "asb": [
        "The anti-social behaviour (ASB) rate in {force_short} is {dec} per 1,000 population, "
        "{cmp} England and Wales.",
        "{team} have a good understanding of ASB in their areas.",
        "Repeat and vulnerable victims of ASB are identified at the first call.",
        "The ASB database can be accessed by {partner}.",
        "The number of ASB incidents fell by {pct} percent in {town}.",
        "Community triggers were used {num} times in {year}.",
    ],
    "soc": [
        "The force has mapped {num} organised crime groups (OCGs) in its area.",
        "{op} disrupted an OCG involved in {crime} in {town}.",
        "The regional organised crime unit supports the force with {tactic}.",
        "Lead responsible officers are appointed for every mapped OCG.",
        "The force's understanding of the threat from {crime} is {neg}.",
        "Asset recovery brought in £{big} in {year}.",
    ],
    "demand": [
        "The force received {big} emergency calls in {year}, {pct} percent more than in "
        "{prev}.",
        "The force's understanding of hidden demand such as {crime} is {neg}.",
        "Demand analysis is used to plan shifts for {team}.",
        "The force expects demand from {crime} to rise over the next {numword} years.",
    ],
    "calls": [
        "{pct} percent of emergency calls were answered within ten seconds.",
        "Call handlers use a structured assessment to identify vulnerable callers.",
        "Response times in {town} are {neg}, and some victims waited over {num} minutes.",
        "The force control room is {pos} at grading calls for service.",
        "The force attended {pct} percent of emergency incidents within its target time.",
    ],
    "workforce": [
        "The force employs {big} officers, {num} PCSOs and {big2} police staff.",
        "Officer wellbeing is a priority and the force has trained {num} wellbeing champions.",
        "The counter-corruption unit is {neg_short} resourced.",
        "Staff understand the Code of Ethics and apply it in their work.",
        "The force's vetting of new recruits is {pos}.",
        "Sickness absence among {team} rose by {pct} percent.",
    ],
    "finance": [
        "The force must save £{dec} million by {next}.",
        "Its net revenue budget for {year} is £{num} million.",
        "The force has reserves of £{dec} million, {pct} percent of its budget.",
        "Collaboration with {partner} saves £{dec} million a year.",
    ],
    "stopsearch": [
        "The force carried out {big} stop and searches in {year}, {pct} percent of which "
        "led to an arrest.",
        "Black people were {dec} times more likely to be stopped and searched than white "
        "people.",
        "Body-worn video is used in {pct} percent of stop and search encounters.",
        "The force's scrutiny panel reviews a sample of stop and search records every month.",
        "Use of force is recorded {neg_adv}.",
    ],
    "records": [
        "We estimate that the force records {dec} percent of reported crimes.",
        "Crimes of {crime} were under-recorded by {pct} percent.",
        "The force cancelled {num} crimes without additional verifiable information.",
        "Out-of-court disposals such as cautions and {tactic} are used {pos_adv}.",
        "The crime recording team audits a sample of {crime} reports every week.",
    ],
}
_GENERIC = [
    "{team} told us that they understood the force's priorities.",
    "HMIC found that {force_short} is {pos} at tackling {crime}.",
    "However, there is some room for improvement in how the force works with {partner}.",
    "The force has made {pos} progress since our last inspection in {prev}.",
    "We saw evidence of a genuine willingness to improve.",
    "In {town}, {team} used {tactic} to reduce {crime}.",
]

_QUESTIONS = [
    "How effective is {force} at tackling {crime}?",
    "What was the victim satisfaction rate in {force} in {year}?",
    "How does {force} use {tactic} to prevent {crime}?",
    "What did HMIC recommend about {crime}?",
    "How well does the force share information with {partner}?",
    "How many organised crime groups has {force} mapped?",
    "What is the rate of {crime} per 1,000 population compared with England and Wales?",
    "How does the force support repeat victims of anti-social behaviour?",
    "What grade did {force} get for investigating offending?",
    "Is there a backlog of digital devices awaiting examination?",
    "How does the IOM scheme manage prolific offenders?",
    "How are domestic abuse risk assessments carried out?",
    "What proportion of stop and searches led to an arrest in {year}?",
    "How quickly does the force answer emergency calls?",
    "What savings must the force make?",
    "How does the force identify vulnerable callers?",
    "What are the stop and search figures for {year}?",
    "Does the force record crime accurately?",
    "How are PCSOs used in neighbourhood policing?",
    "What happens when children go missing from home?",
    "How does the force learn from what works?",
    "What did the inspection find about VAWG?",
    "How many detectives has the force trained since {year}?",
    "Are victims of {crime} kept informed about their case?",
]


def _slot_names(tpl: str) -> tuple[str, ...]:
    return tuple(f for _, f, _, _ in string.Formatter().parse(tpl) if f)


_PARSED = {k: [(t, _slot_names(t)) for t in v] for k, v in _T.items()}
_PARSED_GENERIC = [(t, _slot_names(t)) for t in _GENERIC]
_PARSED_ACTIONS = [(t, _slot_names(t)) for t in _ACTIONS]
_PARSED_QUESTIONS = [(t, _slot_names(t)) for t in _QUESTIONS]


@dataclass
class Ctx:
    """What one report's sentences draw on."""

    rng: random.Random
    force: str
    force_short: str
    towns: list[str]
    year: int


def _slot(name: str, c: Ctx) -> str:
    r = c.rng
    if name in ("force",):
        return c.force
    if name == "force_short":
        return c.force_short
    if name in ("town", "town2"):
        return r.choice(c.towns)
    if name in ("pct", "pct2"):
        return str(r.randint(1, 45))
    if name in ("dec", "dec2"):
        return f"{r.uniform(0.5, 95):.1f}"
    if name == "num":
        return str(r.randint(3, 480))
    if name in ("big", "big2"):
        return f"{r.randint(2, 250) * 100:,}"
    if name == "year":
        return str(c.year)
    if name == "prev":
        return str(c.year - r.randint(1, 4))
    if name == "next":
        return str(c.year + r.randint(1, 4))
    if name == "month":
        return r.choice(_MONTHS)
    if name == "numword":
        return r.choice(_NUMWORDS)
    if name in ("crime", "crime2"):
        return r.choice(_CRIMES)
    if name in ("tactic", "tactic2"):
        return r.choice(_TACTICS)
    if name in ("partner", "partner2"):
        return r.choice(_PARTNERS)
    if name == "team":
        return r.choice(_TEAMS)
    if name == "pos":
        return r.choice(_POS)
    if name == "neg":
        return r.choice(_NEG)
    if name == "neg_short":
        return r.choice(["under-", "well ", "adequately ", "poorly "]).strip()
    if name == "pos_adv":
        return r.choice(["well", "effectively", "consistently", "appropriately"])
    if name == "neg_adv":
        return r.choice(["inconsistently", "well", "accurately", "poorly"])
    if name == "cmp":
        return r.choice(["higher than", "lower than", "broadly in line with"])
    if name == "op":
        return "Operation " + r.choice(_OPS)
    raise KeyError(name)


def _fill(parsed: tuple[str, tuple[str, ...]], c: Ctx) -> str:
    tpl, names = parsed
    if not names:
        return tpl
    s = tpl.format(**{n: _slot(n, c) for n in names})
    return s[0].upper() + s[1:]


def _sentence(topic: str, c: Ctx) -> str:
    pool = _PARSED[topic] if c.rng.random() < 0.8 else _PARSED_GENERIC
    return _fill(c.rng.choice(pool), c)


def _paragraph(topic: str, c: Ctx, lo: int = 3, hi: int = 8) -> str:
    # Distinct templates within a paragraph, as a writer would not repeat a sentence.
    pool = _PARSED[topic] + _PARSED_GENERIC
    r = c.rng
    k = min(len(pool), r.randint(lo, hi))
    out: list[str] = []
    joined = False
    for t in r.sample(pool, k):
        s = _fill(t, c)
        # Report sentences run to ~22 words (the templates to ~12): join about half of
        # them to the previous one with a clause connective.
        if out and not joined and r.random() < 0.7 and not s.startswith("However"):
            joined = True
            first = s.split(" ", 1)[0]
            if _LOWERABLE.match(first) and first not in c.towns and not first.startswith(
                    c.force_short.split()[0]) and first not in ("Operation", "Black"):
                s = s[0].lower() + s[1:]
            out[-1] = out[-1][:-1] + r.choice(_JOINS) + s
        else:
            joined = False
            out.append(s)
    return " ".join(out)


_LOWERABLE = re.compile(r"^[A-Z][a-z-]+$")
_JOINS = [", and ", "; ", ", while ", ", although ", ", but ", " and "]


@dataclass
class Element:
    """One structural element of a synthetic report, in reading order."""

    kind: str  # heading | grade | para | bullet | table
    text: str = ""
    level: int = 0
    #: For tables: column header lines and (label, value, value) rows.
    header: list[str] = field(default_factory=list)
    rows: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass
class SynthReport:
    """A fictional report: metadata and elements."""

    index: int
    force: str
    year: int
    inspection_type: str
    elements: list[Element]

    @property
    def title_line(self) -> str:
        """The running header the real reports carry: "Crime inspection 2014 – X"."""
        return f"{self.inspection_type} {self.year} \u2013 {self.force}"

    @property
    def file_stem(self) -> str:
        force = re.sub(r"[^a-z0-9]+", "-", self.force.lower()).strip("-")
        kind = re.sub(r"[^a-z0-9]+", "-", self.inspection_type.lower()).strip("-")
        return f"synthetic-{self.index:05d}-{kind}-{self.year}-{force}"


def _rng(seed: int, index: int, salt: str = "") -> random.Random:
    h = hashlib.sha256(f"{seed}:{index}:{salt}".encode()).digest()
    return random.Random(int.from_bytes(h[:8], "big"))


def make_report(index: int, seed: int = 0, size: float = 1.0) -> SynthReport:
    """Report number ``index`` of the corpus with this seed. ``size`` scales the number
    of paragraphs (1.0 gives about 100 passages of ~110 words on average, so 10,000
    reports make about a million passages, as the national archive would)."""
    r = _rng(seed, index)
    size *= 1.8  # calibrated: 1.0 gives ~100 passages a report on average
    name = _FORCE_NAMES[r.randrange(len(_FORCE_NAMES))]
    force = f"{name} {r.choice(['Police', 'Constabulary'])}"
    year = r.randint(2013, 2023)
    itype = r.choice(list(_TYPES))
    towns = [r.choice(_SYL_A) + r.choice(_SYL_B) for _ in range(6)]
    c = Ctx(r, force, name, towns, year)
    chapters = _TYPES[itype]
    grades = [r.choice(_GRADES) for _ in chapters]
    els: list[Element] = []
    add = els.append

    add(Element("heading", "Overall summary", 1))
    for _ in range(max(1, round(6 * size))):
        add(Element("para", _paragraph(r.choice(list(_T)), c, 4, 8)))
    add(Element("heading", "Introduction", 1))
    add(Element("para", f"{FICTION_NOTE} This inspection looks at how effective "
                f"{force} is at keeping people safe and reducing crime. " +
                _paragraph("community", c, 2, 4)))
    add(Element("heading", "Methodology", 1))
    add(Element("para", "During our inspection we analysed data and documents from the "
                "force, and conducted in-force inspections. We interviewed senior officers "
                "and held focus groups with officers and staff. " + _paragraph(
                    "investigation", c, 2, 4)))
    for ch, grade in zip(chapters, grades):
        add(Element("heading", _Q[ch], 1))
        add(Element("grade", grade))
        add(Element("para", _paragraph(_SUBS[ch][0][1], c, 2, 5)))
        subs = r.sample(_SUBS[ch], k=min(len(_SUBS[ch]), r.randint(3, 6)))
        for head, topic in subs:
            add(Element("heading", head, 2))
            for _ in range(max(1, round(r.randint(4, 16) * size))):
                add(Element("para", _paragraph(topic, c)))
            if topic == "crime" or (topic in ("asb", "calls", "stopsearch") and
                                    r.random() < 0.4):
                add(Element("para", "The table below shows rates in the force area "
                            "compared with England and Wales."))
                add(_table(c))
        add(Element("heading", "Recommendations", 2))
        for _ in range(r.randint(1, 3)):
            m = r.choice(["three", "six", "twelve"])
            act = _fill(r.choice(_PARSED_ACTIONS), c)
            add(Element("bullet", f"Within {m} months, {force} should {act[0].lower()}"
                        f"{act[1:]}."))
        add(Element("heading", "Summary", 2))
        for _ in range(r.randint(2, 4)):
            add(Element("bullet", _sentence(_SUBS[ch][r.randrange(len(_SUBS[ch]))][1], c)))
    add(Element("heading", "What each judgment means", 1))
    add(Element("para", "HMIC uses four categories for making judgments, two are positive "
                "and two are negative. The categories are: outstanding; good; requires "
                "improvement; and inadequate. Judgment is made against how efficient the "
                "force is at keeping people safe and reducing crime."))
    return SynthReport(index, force, year, itype, els)


_TABLE_ROWS = ["Crime excluding fraud", "Victim-based crime", "Sexual offences",
               "Violence with injury", "Burglary in a dwelling", "Anti-social behaviour "
               "incidents", "Robbery", "Vehicle offences", "Criminal damage and arson"]


def _table(c: Ctx) -> Element:
    r = c.rng
    month = r.choice(_MONTHS)
    rows = [(lab, f"{r.uniform(0.5, 70):.1f}", f"{r.uniform(0.5, 70):.1f}")
            for lab in r.sample(_TABLE_ROWS, k=r.randint(4, 7))]
    header = [f"12 months to {month} {c.year}",
              f"{c.force_short} rate (per 1,000 population)",
              "England and Wales total rate (per 1,000 population)"]
    return Element("table", header=header, rows=rows)


def iter_reports(n: int, seed: int = 0, start: int = 0, size: float = 1.0
                 ) -> Iterator[SynthReport]:
    """Reports start..start+n-1 of the corpus with this seed."""
    for i in range(start, start + n):
        yield make_report(i, seed, size)


# -- .txt layout ------------------------------------------------------------------------

_WRAP = 92
_PAGE_LINES = 48


def _wrap(text: str, width: int = _WRAP) -> list[str]:
    out, cur = [], ""
    for w in text.split():
        if cur and len(cur) + 1 + len(w) > width:
            out.append(cur + " ")
            cur = w
        else:
            cur = f"{cur} {w}" if cur else w
    if cur:
        out.append(cur)
    return out


def _blocks(rep: SynthReport) -> list[list[str]]:
    """The report's text blocks as lines (a blank line goes between blocks)."""
    out: list[list[str]] = [[rep.title_line], [FICTION_NOTE]]
    for e in rep.elements:
        if e.kind == "heading":
            out.append(_wrap(e.text, 70))
        elif e.kind == "grade":
            out.append([e.text])
        elif e.kind == "para":
            out.append(_wrap(e.text))
        elif e.kind == "bullet":
            lines = _wrap(e.text, _WRAP - 2)
            out.append(["\u2022 " + lines[0]] + lines[1:])
        elif e.kind == "table":
            out.extend([[h] for h in e.header])
            out.append([f"{a} {b} {c}" for a, b, c in e.rows])
    return out


def paginate(rep: SynthReport) -> list[list[list[str]]]:
    """Blocks grouped into pages of about 48 lines; a block never straddles pages."""
    pages: list[list[list[str]]] = [[]]
    used = 0
    for b in _blocks(rep):
        need = len(b) + 1
        if used and used + need > _PAGE_LINES:
            pages.append([])
            used = 0
        pages[-1].append(b)
        used += need
    return pages


def report_text(rep: SynthReport) -> str:
    """The report as text extracted from a PDF: running header, body, printed page
    number, a form feed between pages. Page 1 (the cover) has no number."""
    out = []
    for n, blocks in enumerate(paginate(rep), 1):
        body = "\n\n".join("\n".join(b) for b in blocks)
        if n == 1:
            out.append(body)
        else:
            out.append(f"{rep.title_line}\n\n{body}\n\n{n}\n")
    return "\f".join(out)


def write_txt_corpus(folder: Path, n: int, seed: int = 0, size: float = 1.0,
                     start: int = 0) -> list[Path]:
    """Write reports start..start+n-1 as .txt files into folder; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for rep in iter_reports(n, seed, start, size):
        p = folder / f"{rep.file_stem}.txt"
        p.write_text(report_text(rep), encoding="utf-8")
        paths.append(p)
    return paths


# -- PDF ---------------------------------------------------------------------------------

def write_pdf(rep: SynthReport, path: Path) -> int:
    """Write the report as a PDF like the published ones (running header, printed page
    numbers, bold headings, wrapped paragraphs, table rows). Returns the page count."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import simpleSplit
    from reportlab.pdfgen.canvas import Canvas

    w, h = A4
    margin, text_w = 72.0, A4[0] - 144.0
    c = Canvas(str(path), pagesize=A4, invariant=1)
    c.setTitle(rep.title_line)
    c.setAuthor("reportqa benchmarks (synthetic, fictional)")
    state = {"y": h - 90, "page": 1}

    def furniture():
        c.setFont("Helvetica", 9)
        c.drawString(margin, h - 40, rep.title_line)
        c.drawCentredString(w / 2, 36, str(state["page"]))

    def new_page():
        c.showPage()
        state["page"] += 1
        state["y"] = h - 90
        furniture()

    def lines(ls, font="Helvetica", size=11.0, leading=14.0, gap=10.0, x=margin):
        for ln in ls:
            if state["y"] < 80:
                new_page()
            c.setFont(font, size)
            c.drawString(x, state["y"], ln)
            state["y"] -= leading
        state["y"] -= gap

    # Cover: title, force, fiction note; no running header or number.
    c.setFont("Helvetica-Bold", 22)
    c.drawString(margin, h - 250, f"{rep.inspection_type} {rep.year}")
    c.setFont("Helvetica", 16)
    c.drawString(margin, h - 285, rep.force)
    c.setFont("Helvetica", 9)
    for i, ln in enumerate(simpleSplit(FICTION_NOTE, "Helvetica", 9, text_w)):
        c.drawString(margin, h - 320 - 12 * i, ln)
    new_page()
    for e in rep.elements:
        if e.kind == "heading":
            if e.level == 1 and state["y"] < h - 200:
                new_page()
            state["y"] -= 4
            size = 15.0 if e.level == 1 else 12.5
            lines(simpleSplit(e.text, "Helvetica-Bold", size, text_w), "Helvetica-Bold", size,
                  size * 1.25, 6)
        elif e.kind == "grade":
            lines([e.text], "Helvetica-Bold", 12, 15, 8)
        elif e.kind == "para":
            lines(simpleSplit(e.text, "Helvetica", 11, text_w))
        elif e.kind == "bullet":
            ls = simpleSplit(e.text, "Helvetica", 11, text_w - 18)
            if state["y"] < 80:
                new_page()
            c.setFont("Helvetica", 11)
            c.drawString(margin, state["y"], "\u2022")
            lines(ls, x=margin + 18, gap=6)
        elif e.kind == "table":
            for hd in e.header:
                lines([hd], "Helvetica-Bold", 9, 11, 2)
            for a, b, d in e.rows:
                if state["y"] < 80:
                    new_page()
                c.setFont("Helvetica", 10)
                c.drawString(margin, state["y"], a)
                c.drawRightString(margin + 300, state["y"], b)
                c.drawRightString(margin + text_w, state["y"], d)
                state["y"] -= 16
            state["y"] -= 10
    c.save()
    return state["page"]


# -- straight to passages (no parsing), for 100k-1M passages ------------------------------

_KIND_WORDS = (("recommendation", "recommendation"), ("summary", "summary"))


def report_passages(rep: SynthReport, target_words: int = 120, max_words: int = 250):
    """The report's Report and Passage records as ingest.passages.build_passages would
    make them (section paths, printed page labels, kinds, ~120-word passages), without
    writing and parsing a file. Fast enough for a million passages."""
    from ingest.models import Passage, Report, passage_id, short_heading  # noqa: F401

    content_hash = hashlib.sha256(f"synthetic:{rep.file_stem}".encode()).hexdigest()
    judgments = tuple((e.text, g.text) for e, g in zip(rep.elements, rep.elements[1:])
                      if e.kind == "heading" and g.kind == "grade")
    report = Report(
        report_id=rep.file_stem, title=f"{rep.inspection_type} {rep.year}", force=rep.force,
        year=rep.year, inspection_type=rep.inspection_type, source_file=rep.file_stem + ".txt",
        content_hash=content_hash, pages=0, judgments=judgments,
        overall_judgment=judgments[0][1] if judgments and len({g for _, g in judgments}) == 1
        else None)
    # Page of each element from the same layout as the .txt writer.
    page_of: list[int] = []
    lines_used, page = 4, 1
    for e in rep.elements:
        n = (len(e.header) + len(e.rows) + 2) if e.kind == "table" else (
            len(e.text) // _WRAP + 2)
        if lines_used and lines_used + n > _PAGE_LINES:
            page += 1
            lines_used = 0
        lines_used += n
        page_of.append(page)
    passages: list[Passage] = []
    section: tuple[str, ...] = ()
    pending: list[tuple[str, str, int]] = []

    def kind_for(sec: tuple[str, ...]) -> str:
        name = sec[-1].lower() if sec else ""
        for w, k in _KIND_WORDS:
            if w in name:
                return k
        return "paragraph"

    def make(text: str, kind: str, pages: list[int]) -> None:
        labels = tuple(dict.fromkeys(str(p) for p in sorted(set(pages))))
        passages.append(Passage(
            passage_id=passage_id(content_hash, section, text), report_id=report.report_id,
            report_title=report.title, force=report.force, year=report.year,
            inspection_type=report.inspection_type, section=section, page_labels=labels,
            pdf_pages=tuple(int(x) for x in labels), kind=kind, text=text,
            source_file=report.source_file, order=len(passages)))

    def flush() -> None:
        cur: list[tuple[str, str, int]] = []
        n = 0
        for unit in pending + [None]:
            w = len(unit[0].split()) if unit else 0
            if cur and (unit is None or unit[1] != cur[-1][1] or n + w > max_words
                        or n >= target_words):
                make("\n".join(u[0] for u in cur), cur[0][1], [u[2] for u in cur])
                cur, n = [], 0
            if unit:
                cur.append(unit)
                n += w
        pending.clear()

    for e, pg in zip(rep.elements, page_of):
        if e.kind == "heading":
            flush()
            section = (e.text,) if e.level <= 1 else ((section[0], e.text) if section
                                                      else (e.text,))
        elif e.kind in ("para", "bullet"):
            text = ("\u2022 " + e.text) if e.kind == "bullet" else e.text
            pending.append((text, kind_for(section), pg))
        elif e.kind == "table":
            flush()
            qual = f"per 1,000 population, {e.header[0]}"
            rows = [f"{a} \u2014 {rep.force.split()[0]} {b}, England and Wales {c} ({qual})"
                    for a, b, c in e.rows]
            make("\n".join(rows), "table", [pg])
    flush()
    report = Report.from_dict({**report.to_dict(), "pages": page_of[-1] if page_of else 1})
    return report, passages


def iter_passages(n_passages: int, seed: int = 0, size: float = 1.0):
    """(report, passages) pairs until n_passages passages (the last report is cut)."""
    done = 0
    i = 0
    while done < n_passages:
        rep = make_report(i, seed, size)
        report, ps = report_passages(rep)
        ps = ps[: n_passages - done]
        done += len(ps)
        i += 1
        yield report, ps


def questions(n: int, seed: int = 0, forces: list[str] | None = None) -> list[str]:
    """A query workload: template questions over the corpus vocabulary (forces named
    from ``forces`` when given), deterministic by seed."""
    r = _rng(seed, 0, "questions")
    out = []
    for i in range(n):
        name = (r.choice(forces) if forces else
                f"{r.choice(_FORCE_NAMES)} {r.choice(['Police', 'Constabulary'])}")
        c = Ctx(r, name, name.split()[0], ["Ashford"], r.randint(2013, 2023))
        q = _fill(_PARSED_QUESTIONS[i % len(_PARSED_QUESTIONS)], c)
        out.append(q)
    r.shuffle(out)
    return out
