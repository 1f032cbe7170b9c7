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
* straight to :class:`core.models.Passage` records (:func:`report_passages`), which
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
    #: Family reports (make_family_report) only: the running header as printed (else
    #: title_line builds it), the cover page's lines, the programme family (as
    #: core.models.PROGRAMMES), publication date (ISO), scope and grades
    #: ({chapter or pillar: grade}).
    header: str | None = None
    cover: list[str] = field(default_factory=list)
    programme: str = ""
    published: str | None = None
    scope: str = "force"
    grades: dict[str, str] = field(default_factory=dict)

    @property
    def title_line(self) -> str:
        """The running header the real reports carry: "Crime inspection 2014 – X"."""
        if self.header:
            return self.header
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


# -- the family's other formats: PEEL pillar reports, PEEL assessments, thematics --------

#: What make_family_report can write (programme keys as core.models.PROGRAMMES).
FAMILIES = ("crime inspection", "PEEL effectiveness", "PEEL efficiency", "PEEL legitimacy",
            "PEEL assessment", "thematic")
_FOUR_POINT = ["Outstanding", "Good", "Good", "Requires improvement", "Inadequate"]
_FIVE_POINT = ["Outstanding", "Good", "Adequate", "Adequate", "Requires improvement",
               "Inadequate"]

# PEEL pillar reports (2015-2017): the pillar's overall question, then its graded
# questions, each with (sub-area heading, sentence topic) pairs.
_PILLAR_Q = {
    "effectiveness": "How effective is the force at keeping people safe and reducing crime?",
    "efficiency": "How efficient is the force at keeping people safe and reducing crime?",
    "legitimacy": "How legitimate is the force at keeping people safe and reducing crime?",
}
_PILLAR_QUESTIONS = {
    "effectiveness": [
        ("How effective is the force at preventing crime, tackling anti-social behaviour "
         "and keeping people safe?",
         [("Preventing crime and tackling anti-social behaviour", "asb"),
          ("Neighbourhood policing", "community")]),
        ("How effective is the force at investigating crime and reducing re-offending?",
         [("Investigating crime", "investigation"), ("Reducing re-offending", "iom")]),
        ("How effective is the force at protecting those who are vulnerable from harm, "
         "and supporting victims?",
         [("Protecting vulnerable people", "vuln"), ("Supporting victims", "victims")]),
        ("How effective is the force at tackling serious and organised crime?",
         [("Tackling serious and organised crime", "soc"),
          ("Working with partners", "partners")]),
    ],
    "efficiency": [
        ("How well does the force understand demand?",
         [("Understanding demand", "demand"), ("Managing calls for service", "calls")]),
        ("How well does the force use its resources?",
         [("Workforce", "workforce"), ("Finances", "finance")]),
        ("How well is the force planning for demand in the future?",
         [("Future demand", "demand"), ("Collaboration", "partners")]),
    ],
    "legitimacy": [
        ("To what extent does the force treat all of the people it serves with fairness "
         "and respect?",
         [("Stop and search", "stopsearch"), ("Engaging with the public", "community")]),
        ("How well does the force ensure that its workforce behaves ethically and lawfully?",
         [("Ethical culture", "workforce"), ("Counter-corruption", "workforce")]),
        ("To what extent does the force treat its workforce with fairness and respect?",
         [("Wellbeing", "workforce"), ("Fair treatment of the workforce", "workforce")]),
    ],
}
# The integrated PEEL assessment of 2018/19-2019: graded pillars, graded questions.
_ASSESSMENT_QUESTIONS = {
    "Effectiveness": [
        ("How effectively does the force reduce crime and keep people safe?",
         [("Preventing crime and tackling anti-social behaviour", "asb"),
          ("Investigating crime", "investigation"),
          ("Protecting vulnerable people", "vuln"),
          ("Tackling serious and organised crime", "soc")]),
    ],
    "Efficiency": [
        ("How efficiently does the force operate and how sustainable are its services?",
         [("Meeting current demands", "calls"), ("Planning for the future", "finance")]),
    ],
    "Legitimacy": [
        ("How legitimately does the force treat the public and its workforce?",
         [("Treating the public fairly", "stopsearch"),
          ("Ethical and lawful workforce behaviour", "workforce")]),
    ],
}
# PEEL 2021/22 onward: graded areas (titles, not questions) on the five-point scale.
_AREAS = [
    ("Preventing crime and anti-social behaviour", [("Main findings", "asb")]),
    ("Responding to the public", [("Main findings", "calls")]),
    ("Investigating crime", [("Main findings", "investigation")]),
    ("Protecting vulnerable people", [("Main findings", "vuln")]),
    ("Disrupting serious organised crime", [("Main findings", "soc")]),
    ("Treating the public fairly", [("Main findings", "stopsearch")]),
]
_THEMES = ["stalking and harassment", "domestic abuse", "child sexual exploitation",
           "modern slavery", "fraud"]
_THEMATIC_QUESTIONS = [
    ("How well do forces identify {theme}?", [("Recording and identification", "records"),
                                              ("Call handling", "calls")]),
    ("How effectively do forces investigate {theme}?",
     [("Quality of investigations", "investigation"), ("Supervision", "investigation")]),
    ("How well are victims of {theme} supported?",
     [("Safeguarding victims", "vuln"), ("Working with partners", "partners")]),
]
_PUBLISH_LAG = {"crime inspection": 0, "PEEL effectiveness": 1, "PEEL efficiency": 0,
                "PEEL legitimacy": 1, "PEEL assessment": 1, "thematic": 0}


def family_year(programme: str, r: random.Random) -> int:
    """A year the programme ran in (pillar PEEL 2015-2017, assessments 2018 on)."""
    lo, hi = {"crime inspection": (2013, 2014), "PEEL assessment": (2018, 2023),
              "thematic": (2014, 2023)}.get(programme, (2015, 2017))
    return r.randint(lo, hi)


def make_family_report(index: int, seed: int = 0, size: float = 1.0,
                       programme: str | None = None, force: str | None = None,
                       year: int | None = None, theme: str | None = None) -> SynthReport:
    """Report ``index`` as one of FAMILIES (random by (seed, index) when ``programme`` is
    None): a cover page (type and year, "An inspection of <force>", publication date),
    the family's running header and chapters. PEEL pillar reports (2015-2017): "Force
    in context", the pillar's overall judgement, graded questions with "Areas for
    improvement" and "Causes of concern", "Annex A – About the data", four-point scale.
    PEEL assessments: graded pillars and questions for 2018/19-2020, graded areas on
    the five-point scale ("Adequate") from 2021/22. Thematic: a national inspection of
    a theme across forces, ungraded, with recommendations. Every report says in its
    introduction that it is fictional."""
    r = _rng(seed, index, "family")
    programme = programme or r.choice(FAMILIES)
    if programme not in FAMILIES:
        raise ValueError(f"unknown programme {programme!r}; one of {FAMILIES}")
    name = force.split()[0] if force else _FORCE_NAMES[r.randrange(len(_FORCE_NAMES))]
    force = force or f"{name} {r.choice(['Police', 'Constabulary'])}"
    year = year or family_year(programme, r)
    towns = [r.choice(_SYL_A) + r.choice(_SYL_B) for _ in range(6)]
    c = Ctx(r, force, force.rsplit(" ", 1)[0] if force.endswith(("Police", "Constabulary"))
            else name, towns, year)
    n_para = max(1, round(2 * size))
    els: list[Element] = []
    add = els.append
    grades: dict[str, str] = {}
    pub_year = year + _PUBLISH_LAG[programme]
    pub_month = r.randrange(12)
    published = f"{pub_year}-{pub_month + 1:02d}"
    date_line = f"Published {_MONTHS[pub_month]} {pub_year}"
    dash = "\u2013"

    def chapter(head: str, subs, scale, level=1, improve=True) -> None:
        add(Element("heading", head, level))
        if scale:
            g = r.choice(scale)
            grades[head] = g
            add(Element("grade", g))
        add(Element("para", _paragraph(subs[0][1], c, 3, 6)))
        for sub, topic in subs:
            add(Element("heading", sub, 2))
            for _ in range(n_para):
                add(Element("para", _paragraph(topic, c, 3, 6)))
        if improve:
            if scale and grades[head] in ("Inadequate", "Requires improvement"):
                add(Element("heading", "Causes of concern", 2))
                add(Element("bullet", f"{force} should {_fill(r.choice(_PARSED_ACTIONS), c)}"
                            f" as a matter of urgency."))
            add(Element("heading", "Areas for improvement", 2))
            for _ in range(r.randint(1, 2)):
                act = _fill(r.choice(_PARSED_ACTIONS), c)
                add(Element("bullet", f"The force should {act[0].lower()}{act[1:]}."))

    def intro(what: str) -> None:
        add(Element("heading", "Introduction", 1))
        add(Element("para", f"{FICTION_NOTE} {what} " + _paragraph("community", c, 2, 3)))

    def context() -> None:
        add(Element("heading", "Force in context", 1))
        add(Element("para", _paragraph("crime", c, 3, 5)))
        add(Element("para", "The table below shows rates in the force area compared with "
                    "England and Wales."))
        add(_table(c))

    def annex() -> None:
        add(Element("heading", "Annex A \u2013 About the data", 1))
        add(Element("para", "The figures in this annex come from the force's own returns "
                    "and from national data collections. " + _paragraph("records", c, 2, 3)))

    scope = "force"
    if programme == "crime inspection":
        itype = "Crime inspection"
        header = f"{itype} {year} {dash} {force}"
        cover = [f"{itype} {year}", force, date_line]
        intro(f"This inspection looks at how effective {force} is at cutting crime.")
        for key in ("reduce", "investigate", "asb"):
            chapter(_Q[key], _SUBS[key][:2], _FOUR_POINT, improve=False)
            add(Element("heading", "Recommendations", 2))
            act = _fill(r.choice(_PARSED_ACTIONS), c)
            add(Element("bullet", f"Within three months, {force} should {act[0].lower()}"
                        f"{act[1:]}."))
    elif programme.startswith("PEEL ") and programme != "PEEL assessment":
        pillar = programme.split()[1]
        itype = f"PEEL: Police {pillar} {year}"
        header = f"{itype} {dash} {force}"
        cover = [itype, f"An inspection of {force}", date_line]
        adj = {"effectiveness": "effective", "efficiency": "efficient",
               "legitimacy": "legitimate"}[pillar]
        intro(f"This inspection looks at how {adj} {force} is at keeping people safe and "
              f"reducing crime.")
        context()
        add(Element("heading", _PILLAR_Q[pillar], 1))
        add(Element("heading", "Overall judgement", 2))
        g = r.choice(_FOUR_POINT)
        grades[pillar.capitalize()] = g
        add(Element("grade", g))
        add(Element("heading", "Overall summary", 2))
        add(Element("para", _paragraph(_PILLAR_QUESTIONS[pillar][0][1][0][1], c, 3, 6)))
        for q, subs in _PILLAR_QUESTIONS[pillar]:
            chapter(q, subs, _FOUR_POINT)
        add(Element("heading", "Next steps", 1))
        add(Element("para", "HMIC will work with the force to monitor its progress. "
                    + _paragraph("learning", c, 2, 3)))
        annex()
    elif programme == "PEEL assessment" and year < 2021:
        itype = "PEEL: Police effectiveness, efficiency and legitimacy"
        header = f"{itype} {year}/{(year + 1) % 100:02d} {dash} {force}"
        cover = [f"{itype} {year}/{(year + 1) % 100:02d}", f"An inspection of {force}",
                 date_line]
        intro(f"This inspection assesses the effectiveness, efficiency and legitimacy of "
              f"{force}.")
        context()
        for pillar, qs in _ASSESSMENT_QUESTIONS.items():
            add(Element("heading", pillar, 1))
            g = r.choice(_FOUR_POINT)
            grades[pillar] = g
            add(Element("grade", g))
            add(Element("para", _paragraph(qs[0][1][0][1], c, 3, 5)))
            for q, subs in qs:
                chapter(q, subs, _FOUR_POINT)
        annex()
    elif programme == "PEEL assessment":
        itype = "PEEL"
        printed = f"{year}/{(year + 1) % 100:02d}"
        header = (f"PEEL {printed} {dash} An inspection of {force}" if index % 2 == 0
                  else f"{force} {dash} PEEL assessment {printed}")
        if index % 2:
            itype = "PEEL assessment"
        cover = [f"PEEL {printed}", f"An inspection of {force}",
                 f"Published {r.randint(1, 28)} {_MONTHS[pub_month]} {pub_year}"]
        published = None  # set from the cover's day below
        intro(f"This inspection assesses how good {force} is in the areas of policing we "
              f"inspect.")
        add(Element("heading", "Overview", 1))
        add(Element("para", _paragraph("community", c, 3, 5)))
        for head, subs in _AREAS:
            chapter(head, subs, _FIVE_POINT)
        annex()
    else:  # thematic
        scope = "national"
        theme = theme or r.choice(_THEMES)
        force = "national"
        itype = f"{theme[:1].upper()}{theme[1:]} {dash} a national thematic inspection"
        header = f"{itype} {year}"
        cover = [theme[:1].upper() + theme[1:], f"A national thematic inspection {year}",
                 date_line]
        c.force = "the forces we inspected"
        c.force_short = "each force"
        intro(f"We inspected {r.choice(_NUMWORDS)} police forces to find out how well the "
              f"police respond to {theme}.")
        add(Element("heading", "Summary of findings", 1))
        add(Element("para", _paragraph("victims", c, 3, 5)))
        for q, subs in _THEMATIC_QUESTIONS:
            chapter(q.format(theme=theme), subs, None, improve=False)
        add(Element("heading", "Recommendations", 1))
        for _ in range(3):
            act = _fill(r.choice(_PARSED_ACTIONS), c)
            add(Element("bullet", f"Within six months, all forces should {act[0].lower()}"
                        f"{act[1:]}."))
    if published is None:
        m = re.match(r"Published (\d+) (\w+) (\d{4})", cover[-1])
        published = f"{m.group(3)}-{_MONTHS.index(m.group(2)) + 1:02d}-{int(m.group(1)):02d}"
    add(Element("heading", "What each judgment means" if scope == "force" else "About this "
                "inspection", 1))
    add(Element("para", "Our judgments use the categories outstanding, good, "
                + ("adequate, " if "Adequate" in grades.values() or (
                    programme == "PEEL assessment" and year >= 2021) else "")
                + "requires improvement and inadequate." if scope == "force" else
                "This thematic inspection makes no graded judgments about individual forces."))
    return SynthReport(index, force, year, itype, els, header=header, cover=cover,
                       programme=programme, published=published, scope=scope, grades=grades)


def iter_reports(n: int, seed: int = 0, start: int = 0, size: float = 1.0,
                 families: bool = False) -> Iterator[SynthReport]:
    """Reports start..start+n-1 of the corpus with this seed; with ``families`` a mix of
    all FAMILIES (make_family_report) instead of the crime-inspection style ones."""
    for i in range(start, start + n):
        yield make_family_report(i, seed, size) if families else make_report(i, seed, size)


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
    """The report's text blocks as lines (a blank line goes between blocks). A family
    report's cover is its own page (see paginate); its fiction note is in its text."""
    return [b for b, _ in _kind_blocks(rep)]


def _kind_blocks(rep: SynthReport) -> list[tuple[list[str], str]]:
    out: list[tuple[list[str], str]] = [] if rep.cover else [([rep.title_line], "para"),
                                                              ([FICTION_NOTE], "para")]
    for e in rep.elements:
        if e.kind == "heading":
            out.append((_wrap(e.text, 70), "heading"))
        elif e.kind == "grade":
            out.append(([e.text], "grade"))
        elif e.kind == "para":
            out.append((_wrap(e.text), "para"))
        elif e.kind == "bullet":
            lines = _wrap(e.text, _WRAP - 2)
            out.append((["\u2022 " + lines[0]] + lines[1:], "bullet"))
        elif e.kind == "table":
            out.extend(([h], "table") for h in e.header)
            out.append(([f"{a} {b} {c}" for a, b, c in e.rows], "table"))
    return out


def paginate(rep: SynthReport, page_lines: int = _PAGE_LINES) -> list[list[list[str]]]:
    """Blocks grouped into pages of about 48 lines; a block never straddles pages. A
    family report's cover lines make page 1 on their own, and its headings keep with
    the block after them, as typeset reports do."""
    pages: list[list[list[str]]] = [[]]
    kinds: list[list[str]] = [[]]
    used = 0
    if rep.cover:
        pages, kinds = [[[ln] for ln in rep.cover], []], [[], []]
    for b, k in _kind_blocks(rep):
        need = len(b) + 1
        if used and used + need > page_lines:
            carry: list[list[str]] = []
            while rep.cover and kinds[-1] and kinds[-1][-1] == "heading" and len(
                    kinds[-1]) > 1:
                carry.insert(0, pages[-1].pop())
                kinds[-1].pop()
            pages.append(carry)
            kinds.append(["heading"] * len(carry))
            used = sum(len(x) + 1 for x in carry)
        pages[-1].append(b)
        kinds[-1].append(k)
        used += need
    return pages


def report_text(rep: SynthReport, page_lines: int = _PAGE_LINES) -> str:
    """The report as text extracted from a PDF: running header, body, printed page
    number, a form feed between pages. Page 1 (the cover) has no number."""
    out = []
    for n, blocks in enumerate(paginate(rep, page_lines), 1):
        body = "\n\n".join("\n".join(b) for b in blocks)
        if n == 1:
            out.append(body)
        else:
            out.append(f"{rep.title_line}\n\n{body}\n\n{n}\n")
    return "\f".join(out)


def write_txt_corpus(folder: Path, n: int, seed: int = 0, size: float = 1.0,
                     start: int = 0, families: bool = False) -> list[Path]:
    """Write reports start..start+n-1 as .txt files into folder; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for rep in iter_reports(n, seed, start, size, families):
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

    # Cover: title, force, fiction note; no running header or number. A family
    # report's cover is its own lines (its fiction note is in the introduction).
    if rep.cover:
        c.setFont("Helvetica-Bold", 20)
        c.drawString(margin, h - 250, rep.cover[0])
        c.setFont("Helvetica", 14)
        for i, ln in enumerate(rep.cover[1:]):
            c.drawString(margin, h - 285 - 24 * i, ln)
    else:
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

_KIND_WORDS = (("recommendation", "recommendation"), ("areas for improvement", "recommendation"),
               ("causes of concern", "recommendation"), ("summary", "summary"))


def report_passages(rep: SynthReport, target_words: int = 120, max_words: int = 250):
    """The report's Report and Passage records as ingest.passages.build_passages would
    make them (section paths, printed page labels, kinds, ~120-word passages), without
    writing and parsing a file. Fast enough for a million passages."""
    from core.models import Passage, Report, passage_id, short_heading  # noqa: F401

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
