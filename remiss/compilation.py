"""The remissammanställning: a round's submitted replies compiled for the officer.

One `Summary` is read from the database (a fixed number of queries); the Word document, the HTML
preview, the chart and the CSV/XLSX exports of the comments are all made from it, so they say the
same thing. Only submitted versions are read (the latest per referral); a body's working copy never
is. The text of the documents is fixed Swedish, like the document that goes to the executive board.
"""
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, aliased, selectinload

from . import audit, board, calendar
from .errors import WorkflowError
from .i18n import swedish_key
from .models import (
    Body, Compilation, Referral, ReferralRound, ReferralState, Response, ResponseVersion, Role,
    RoundState, Strategy, User,
)
from .exports import csv_text, file_stem
from .reply_documents import paragraph_mark, xml_line, xml_text

LOCALE = "sv_SE"
STANCES = {
    "approves": "Tillstyrker",
    "approves_with_comments": "Tillstyrker med synpunkter",
    "rejects": "Avstyrker",
    "no_comments": "Inga synpunkter",
    "abstains": "Avstår från att yttra sig",
}
ANSWERS = {"submitted": "Inskickat", "late": "Sen", "declined": "Avstår"}
NO_ANSWER = "Inget svar"
ANSWERED = ("submitted", "late", "declined")
DECISIONS = {"considered": "beaktas", "partly_considered": "beaktas delvis", "not_considered": "beaktas ej",
             "noted": "noteras"}
UNHANDLED = "ej hanterad"
OVERVIEW_COLUMNS = ("Remissinstans", "Svar", "Datum", "Ställningstagande", "Deras diarienummer")
EXPORT_COLUMNS = ("Avsnitt", "Rubrik", "Remissinstans", "Ställningstagande", "Synpunkt", "Hantering", "Motivering")
GENERAL_HEADING = "Övriga synpunkter"
DOCX_NAME = "remissammanstallning-{case}-{day}.docx"
NUDGE_FOR = timedelta(weeks=12)


# ------------------------------------------------------------------ what the replies say

@dataclass
class Entry:
    """One body of the round and its latest submitted version (empty content when it has none)."""
    body_name: str
    status: str  # one of board's statuses: submitted, late, declined, invited, overdue, …
    content: dict = field(default_factory=dict)
    submitted_at: datetime | None = None
    referral_id: int = 0
    version_id: int | None = None
    kind: str = ""  # the body's kind (board, company, …): the overview groups by it
    received_on: date | None = None  # inkom: the one date every page and document shows for the reply
    extended_to: date | None = None  # a granted anstånd's date, while the body has not answered

    @property
    def answered(self) -> bool:
        return self.status in ANSWERED

    @property
    def answer(self) -> str:
        return ANSWERS.get(self.status, NO_ANSWER)

    @property
    def stance(self) -> str:
        if self.status == "declined":
            return STANCES["abstains"]
        return STANCES.get(self.content.get("stance") or "", "")


@dataclass
class Comment:
    body_name: str
    stance: str
    text: str
    referral_id: int
    section_key: str  # "" for the general comments
    decision: str = ""  # Swedish, as in the document; "" when not handled yet
    reason: str = ""


@dataclass
class Part:
    """A section of the draft (or the general comments, key "") with every comment on it."""
    key: str
    heading: str
    comments: list[Comment]
    level: int = 1  # the section's heading level in the draft, so the document keeps its outline
    number: str = ""  # "2.1"; "" for an unnumbered heading and the general comments


@dataclass
class Summary:
    round_id: int
    title: str
    case_reference: str
    facts: list[tuple[str, str]]  # the title page's label–value lines
    entries: list[Entry]  # every body, in Swedish order
    parts: list[Part]  # the draft's sections in draft order, then the general comments
    introduction: list[tuple[str, str]] = field(default_factory=list)  # "Inledning"'s facts, label–value
    background: str = ""  # the officer's own texts, kept with each compilation
    assessment: str = ""
    officer_name: str = ""
    municipality: str = ""
    compiled_on: date | None = None

    @property
    def answered(self) -> list[Entry]:
        return [e for e in self.entries if e.answered]

    @property
    def silent(self) -> list[Entry]:
        return [e for e in self.entries if not e.answered]

    @property
    def sections(self) -> list[Part]:
        return self.parts[:-1]

    @property
    def general(self) -> Part:
        return self.parts[-1]

    @property
    def comments(self) -> list[Comment]:
        return [c for part in self.parts for c in part.comments]

    def stance_counts(self) -> list[tuple[str, int]]:
        """Every stance (declining counts as abstaining) and "no answer", with how many bodies; in a
        fixed order so charts of two rounds compare."""
        counted = Counter(e.stance if e.answered else NO_ANSWER for e in self.entries)
        return [(label, counted.get(label, 0)) for label in (*STANCES.values(), NO_ANSWER)]


def latest_entries(session: Session, round_: ReferralRound, now: datetime, zone: ZoneInfo) -> list[Entry]:
    """Every body of the round (withdrawn ones left out) with its latest submitted version; two queries."""
    found = session.execute(
        select(Referral.id, Referral.state, Referral.deadline, Body.name, Response.late)
        .join(Body, Body.id == Referral.body_id)
        .outerjoin(Response, Response.referral_id == Referral.id)
        .where(Referral.round_id == round_.id, Referral.state != ReferralState.WITHDRAWN)
    ).all()
    newer = aliased(ResponseVersion)
    versions = {referral_id: (content, submitted_at, late, version_id)
                for referral_id, content, submitted_at, late, version_id in session.execute(
        select(Response.referral_id, ResponseVersion.content, ResponseVersion.submitted_at, ResponseVersion.late,
               ResponseVersion.id)
        .join(ResponseVersion, ResponseVersion.response_id == Response.id)
        .join(Referral, Referral.id == Response.referral_id)
        .where(Referral.round_id == round_.id, ~exists().where(newer.response_id == ResponseVersion.response_id,
                                                               newer.number > ResponseVersion.number)))}
    round_open = round_.state == RoundState.OPEN
    entries = []
    for referral_id, state, deadline, name, late in found:
        content, submitted_at, version_late, version_id = versions.get(referral_id, (None, None, False, None))
        status = board.status_of(state, bool(late or version_late), deadline, round_open, now, zone)
        if status in ANSWERED and content is None:  # answered but nothing kept: treat as no answer
            status = "invited"
        answered = status in ANSWERED
        entries.append(Entry(name, status, (content or {}) if answered else {},
                             submitted_at if answered else None, referral_id, version_id if answered else None))
    return sorted(entries, key=lambda e: swedish_key(e.body_name))


def summarize(session: Session, round_: ReferralRound, now: datetime, zone: ZoneInfo,
              entries: list[Entry] | None = None) -> Summary:
    """What the compilation of `round_` says as of `now`."""
    from .dispositions import handling_rows

    entries = latest_entries(session, round_, now, zone) if entries is None else entries
    stance_of = {e.referral_id: e.stance for e in entries}

    def comments(rows) -> list[Comment]:
        return [Comment(r.body_name, stance_of[r.referral_id], xml_text(r.text), r.referral_id, r.section_key,
                        DECISIONS.get(r.disposition.decision, r.disposition.decision) if r.disposition else "",
                        xml_text(r.disposition.reason) if r.disposition else "") for r in rows]

    *handled, general = handling_rows(session, round_, now, zone, entries)
    parts = [Part(s.key, f"{s.number} {s.heading}".strip(), comments(h.rows), min(max(s.level, 1), 9), s.number)
             for s, h in zip(round_.draft.sections, handled)]
    parts.append(Part("", GENERAL_HEADING, comments(general.rows)))
    strategy = round_.strategy
    launched = calendar.local_date(round_.launched_at, zone) if round_.launched_at else None
    facts = [("Diarienummer", strategy.case_reference),
             ("Remissen skickades", day(launched)),
             ("Sista svarsdag", day(round_.deadline)),
             ("Handläggare", strategy.officer.name if strategy.officer else ""),
             ("Sammanställd", day(calendar.local_date(now, zone)))]
    return Summary(round_.id, strategy.title, strategy.case_reference, facts, entries, parts)


def day(value: date | None) -> str:
    return format_date(value, "d MMMM y", locale=LOCALE) if value else ""


def submitted_on(entry: Entry, zone: ZoneInfo) -> str:
    return day(calendar.local_date(entry.submitted_at, zone)) if entry.submitted_at else ""


def decision_day(content: dict) -> date | None:
    try:
        return date.fromisoformat(content["decision_date"]) if content.get("decision_date") else None
    except (TypeError, ValueError):
        return None


def reply_facts(entry: Entry, zone: ZoneInfo) -> list[tuple[str, str]]:
    """The label–value lines of a full reply in the appendix (empty values left for the writer to drop)."""
    content = entry.content
    signatory = ", ".join(xml_line(s) for s in (content.get("signatory_name") or "",
                                             content.get("signatory_title") or "") if xml_line(s))
    return [
        ("Ställningstagande", entry.stance),
        ("Deras diarienummer", content.get("case_reference") or ""),
        ("Inskickat", submitted_on(entry, zone) + (" (efter sista svarsdag)" if entry.status == "late" else "")),
        ("Beslutande organ", content.get("deciding_body") or ""),
        ("Beslutsdatum", day(decision_day(content))),
        ("Paragraf", paragraph_mark(content.get("decision_paragraph") or "")),
        ("Underskrift", signatory),
    ]


REPLY_TEXTS = (("Sammanfattning", "summary"), ("Förslag till beslut", "proposed_decision"))


# ------------------------------------------------------------------ the records

def compile_round(session: Session, round_: ReferralRound, now: datetime, zone: ZoneInfo,
                  entries: list[Entry] | None = None) -> bytes:
    """The remissammanställning of `round_` as .docx bytes (nothing stored)."""
    from .compilation_document import write_docx

    return write_docx(summarize(session, round_, now, zone, entries), zone)


def record_compilation(session: Session, actor: User | None, now: datetime, round_: ReferralRound,
                       zone: ZoneInfo) -> Compilation:
    """Compile `round_` and keep the document with who made it, when, and the submitted versions it covered."""
    from .docx_files import DOCX_TYPE
    from .drafts import store_file

    if actor is not None and not actor.has_role(Role.OFFICER, Role.ADMIN):
        raise WorkflowError(_l("Bara handläggare kan sammanställa remissvar."))
    if round_.state not in (RoundState.OPEN, RoundState.CLOSED):
        raise WorkflowError(_l("Bara en utskickad remiss kan sammanställas."))
    entries = latest_entries(session, round_, now, zone)
    data = compile_round(session, round_, now, zone, entries=entries)
    name = DOCX_NAME.format(case=file_stem(round_.strategy.case_reference),
                            day=calendar.local_date(now, zone).isoformat())
    stored = store_file(session, actor, now, filename=name, content_type=DOCX_TYPE, data=data)
    covered = [e.version_id for e in entries if e.version_id is not None]
    compilation = Compilation(round_id=round_.id, created_by_id=actor.id if actor else None, created_at=now,
                              file_id=stored.id)
    compilation.versions = list(session.scalars(select(ResponseVersion).where(ResponseVersion.id.in_(covered))))
    session.add(compilation)
    session.flush()
    audit.record(session, actor, now, "round.compiled", compilation, after=f"{len(covered)} svar",
                 strategy_id=round_.strategy_id, round_id=round_.id, replies=len(covered))
    return compilation


def compilations_of(session: Session, round_: ReferralRound) -> list[Compilation]:
    """The round's compilations, newest first, each with how many replies it covered; two queries."""
    counts = dict(session.execute(
        select(Compilation.id, func.count()).join(Compilation.versions)
        .where(Compilation.round_id == round_.id).group_by(Compilation.id)).all())
    found = list(session.scalars(select(Compilation).where(Compilation.round_id == round_.id)
                                 .options(selectinload(Compilation.created_by), selectinload(Compilation.file))
                                 .order_by(Compilation.created_at.desc(), Compilation.id.desc())))
    for compilation in found:
        compilation.reply_count = counts.get(compilation.id, 0)
    return found


def latest_compilation(session: Session, round_: ReferralRound) -> Compilation | None:
    return session.scalar(select(Compilation).where(Compilation.round_id == round_.id)
                          .order_by(Compilation.created_at.desc(), Compilation.id.desc()).limit(1))


def replies_since(session: Session, kept: Compilation, summary: Summary) -> list[str]:
    """The bodies whose latest submitted reply the kept compilation does not hold: new, amended or
    late since it was made. Swedish order; one query."""
    from .models.records import compilation_versions

    covered = set(session.scalars(select(compilation_versions.c.response_version_id)
                                  .where(compilation_versions.c.compilation_id == kept.id)))
    return [e.body_name for e in summary.entries if e.version_id is not None and e.version_id not in covered]


def rounds_awaiting_compilation(session: Session, now: datetime, zone: ZoneInfo,
                                officer: User | None = None) -> list[ReferralRound]:
    """Launched rounds whose last deadline (anstånd included) has passed — the day is over — with no
    compilation made; only `officer`'s strategies when given. Oldest last deadline first; two queries.

    A round whose deadline is more than NUDGE_FOR behind was dealt with some other way (rounds from
    before compilations were kept among them): it is not brought up again every week."""
    today = calendar.local_date(now, zone)
    last = (select(Referral.round_id, func.max(Referral.deadline).label("last"))
            .where(Referral.state != ReferralState.WITHDRAWN).group_by(Referral.round_id).subquery())
    query = (select(ReferralRound).join(last, last.c.round_id == ReferralRound.id)
             .where(ReferralRound.state.in_([RoundState.OPEN, RoundState.CLOSED]),
                    last.c.last < today, last.c.last >= today - NUDGE_FOR,
                    ~exists().where(Compilation.round_id == ReferralRound.id))
             .options(selectinload(ReferralRound.strategy))
             .order_by(last.c.last, ReferralRound.id))
    if officer is not None:
        query = query.join(Strategy, Strategy.id == ReferralRound.strategy_id).where(
            Strategy.officer_id == officer.id)
    return list(session.scalars(query))


# ------------------------------------------------------------------ the comments as a table

def comment_rows(summary: Summary) -> list[tuple[str, ...]]:
    """Every comment with its handling, section by section in draft order, as plain text rows."""
    rows = []
    for part in summary.parts:
        for c in part.comments:
            rows.append((part.number, part.heading, c.body_name, c.stance, c.text, c.decision or UNHANDLED,
                         c.reason))
    return rows


def comments_csv(summary: Summary) -> str:
    return csv_text(EXPORT_COLUMNS, comment_rows(summary))


def comments_xlsx(summary: Summary) -> bytes:
    """The comments as an Excel workbook: one sheet, a bold frozen header row, wrapped text."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Synpunkter")
    sheet.freeze_panes = "A2"
    for letter, width in zip("ABCDEFG", (8, 30, 28, 24, 80, 16, 50)):
        sheet.column_dimensions[letter].width = width
    from openpyxl.cell import WriteOnlyCell

    def row_of(values, bold=False):
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=None)
            cell.value = xml_text(value)[:32767]  # Excel's longest cell
            cell.data_type = "s"  # text, whatever it starts with: never a formula
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if bold:
                cell.font = Font(bold=True)
            cells.append(cell)
        return cells

    sheet.append(row_of(EXPORT_COLUMNS, bold=True))
    for row in comment_rows(summary):
        sheet.append(row_of(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
