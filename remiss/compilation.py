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
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, aliased, selectinload

from . import audit, board, calendar
from .errors import WorkflowError
from .i18n import swedish_key
from .models import (
    Body, BodyKind, Compilation, ExtensionRequest, ExtensionState, Referral, ReferralRound, ReferralState, Response,
    ResponseVersion, Role, RoundState, StoredFile, Strategy, User,
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
# A body not yet answered that is still expected to: a granted anstånd not over, or a request pending.
EXTENDED = "Anstånd till {day} – svar väntas"
EXTENSION_REQUESTED = "Begärt anstånd"
WAITING = ("Anstånd", EXTENSION_REQUESTED)  # their categories in stance_counts, after the stances
ANSWERED = ("submitted", "late", "declined")
# The bodies by kind in the introduction ("12 remissinstanser: 9 nämnder, 3 bolag"): singular, plural.
KIND_WORDS = {BodyKind.BOARD: ("nämnd", "nämnder"), BodyKind.COMPANY: ("bolag", "bolag"),
              BodyKind.ADMINISTRATION: ("förvaltning", "förvaltningar"), BodyKind.COUNCIL: ("råd", "råd"),
              BodyKind.EXTERNAL: ("extern remissinstans", "externa remissinstanser")}
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
    extension_requested: bool = False  # an anstånd asked for and not yet decided, while not answered
    deadline: date | None = None  # the body's own deadline (anstånd included)

    @property
    def answered(self) -> bool:
        return self.status in ANSWERED

    @property
    def waiting(self) -> bool:
        """Not answered, but still expected to: under a granted anstånd, or asking for one."""
        return not self.answered and (self.extended_to is not None or self.extension_requested)

    @property
    def answer(self) -> str:
        if self.answered:
            return ANSWERS[self.status]
        if self.extended_to is not None:
            return EXTENDED.format(day=day(self.extended_to))
        return EXTENSION_REQUESTED if self.extension_requested else NO_ANSWER

    @property
    def category(self) -> str:
        """Where the chart and the counts put the body: its stance, an anstånd, or no answer."""
        if self.answered:
            return self.stance
        if self.extended_to is not None:
            return WAITING[0]
        return EXTENSION_REQUESTED if self.extension_requested else NO_ANSWER

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
        """The bodies that did not answer and are not expected to: no anstånd running, none asked for."""
        return [e for e in self.entries if not e.answered and not e.waiting]

    @property
    def waiting(self) -> list[Entry]:
        """The bodies not answered that still may: under anstånd, or asking for one."""
        return [e for e in self.entries if e.waiting]

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
        """Every stance (declining counts as abstaining), anstånd, anstånd asked for, and "no answer",
        with how many bodies; in a fixed order so charts of two rounds compare."""
        counted = Counter(e.category for e in self.entries)
        return [(label, counted.get(label, 0)) for label in (*STANCES.values(), *WAITING, NO_ANSWER)]


def latest_entries(session: Session, round_: ReferralRound, now: datetime, zone: ZoneInfo) -> list[Entry]:
    """Every body of the round (withdrawn ones left out) with its latest submitted version, its received
    date and its anstånd; two queries."""
    def extension(state: str):
        return exists().where(ExtensionRequest.referral_id == Referral.id, ExtensionRequest.state == state)

    found = session.execute(
        select(Referral.id, Referral.state, Referral.deadline, Body.name, Response.late, Body.kind,
               extension(ExtensionState.GRANTED), extension(ExtensionState.REQUESTED))
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
    for referral_id, state, deadline, name, late, kind, granted, requested in found:
        content, submitted_at, version_late, version_id = versions.get(referral_id, (None, None, False, None))
        status = board.status_of(state, bool(late or version_late), deadline, round_open, now, zone)
        if status in ANSWERED and content is None:  # answered but nothing kept: treat as no answer
            status = "invited"
        answered = status in ANSWERED
        entry = Entry(name, status, (content or {}) if answered else {}, submitted_at if answered else None,
                      referral_id, version_id if answered else None, kind=kind, deadline=deadline)
        if answered:
            entry.received_on = board.received_on(content.get("received_on"), submitted_at, zone)
        elif round_open:
            entry.extended_to, entry.extension_requested = _extension(
                bool(granted), bool(requested), deadline, round_.deadline, now, zone)
        entries.append(entry)
    return sorted(entries, key=lambda e: swedish_key(e.body_name))


def _extension(granted: bool, requested: bool, deadline: date, round_deadline: date, now: datetime,
               zone: ZoneInfo) -> tuple[date | None, bool]:
    """(the anstånd's date while it runs, whether one is asked for) of a body that has not answered.

    A granted anstånd runs while the body's own deadline is later than the round's and not over (the
    deadline moved for everyone past it is no anstånd any more); a pending request waits for the officer."""
    if granted and deadline > round_deadline and now <= calendar.deadline_instant(deadline, zone):
        return deadline, False
    return None, requested


def deadline_not_passed(entries: list[Entry], now: datetime, zone: ZoneInfo) -> list[str]:
    """The bodies whose own deadline (anstånd included) is not over: they may still answer, or change
    their reply. Compiling now is allowed; the page names them. Swedish order, as the entries."""
    return [e.body_name for e in entries
            if e.deadline is not None and now <= calendar.deadline_instant(e.deadline, zone)]


def summarize(session: Session, round_: ReferralRound, now: datetime, zone: ZoneInfo,
              entries: list[Entry] | None = None, *, background: str = "", assessment: str = "",
              municipality: str | None = None) -> Summary:
    """What the compilation of `round_` says as of `now`, with the officer's own texts for the
    introduction; `municipality` defaults to the setting REMISS_MUNICIPALITY."""
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
    officer = strategy.officer.name if strategy.officer else ""
    compiled_on = calendar.local_date(now, zone)
    facts = [("Diarienummer", strategy.case_reference),
             ("Remissen skickades", day(launched)),
             ("Sista svarsdag", day(round_.deadline)),
             ("Handläggare", officer),
             ("Sammanställd", day(compiled_on))]
    if municipality is None:
        municipality = current_app.config.get("MUNICIPALITY", "") if has_app_context() else ""
    return Summary(round_.id, strategy.title, strategy.case_reference, facts, entries, parts,
                   introduction=introduction_facts(round_, entries, launched),
                   background=xml_text(background or "").strip(), assessment=xml_text(assessment or "").strip(),
                   officer_name=officer, municipality=municipality or "", compiled_on=compiled_on)


def introduction_facts(round_: ReferralRound, entries: list[Entry], launched: date | None) -> list[tuple[str, str]]:
    """The facts "Inledning" opens with: what was sent, when, to whom, and what came back."""
    strategy, draft = round_.strategy, round_.draft
    answered = [e for e in entries if e.answered]
    late = sum(1 for e in answered if e.status == "late")
    version = f"Version {draft.version}"
    if draft.title and draft.title.strip() != strategy.title.strip():
        version += f", {xml_line(draft.title)}"
    return [
        ("Strategi", strategy.title),
        ("Remissutkast", version),
        ("Diarienummer", strategy.case_reference),
        ("Remissen skickades", day(launched)),
        ("Skickad till", recipients_by_kind(entries)),
        ("Svaren märks", round_.reply_label),
        ("Sista svarsdag", day(round_.deadline)),
        ("Har svarat", f"{len(answered)} av {bodies(len(entries))}"
                       + (f", varav {late} efter sista svarsdag" if late else "")),
        ("Har avstått från att yttra sig", bodies(sum(1 for e in answered if e.status == "declined"))),
        ("Har anstånd", bodies(sum(1 for e in entries if e.waiting and e.extended_to is not None))),
        ("Har begärt anstånd", bodies(sum(1 for e in entries if e.waiting and e.extended_to is None))),
        ("Har inte svarat", bodies(sum(1 for e in entries if not e.answered and not e.waiting))),
    ]


def bodies(n: int) -> str:
    """ "ingen", "1 remissinstans", "12 remissinstanser"."""
    return "ingen" if n == 0 else f"{n} remissinstans" if n == 1 else f"{n} remissinstanser"


def recipients_by_kind(entries: list[Entry]) -> str:
    """ "12 remissinstanser: 9 nämnder, 3 bolag", kinds in the register's order."""
    counted = Counter(e.kind for e in entries)
    kinds = [f"{counted[kind]} {KIND_WORDS[kind][counted[kind] != 1]}" for kind in KIND_WORDS if counted.get(kind)]
    kinds += [f"{n} {kind}" for kind, n in counted.items() if kind not in KIND_WORDS]  # a kind added later
    return bodies(len(entries)) + (f": {', '.join(kinds)}" if kinds else "")


def day(value: date | None) -> str:
    return format_date(value, "d MMMM y", locale=LOCALE) if value else ""


def submitted_on(entry: Entry, zone: ZoneInfo | None = None) -> str:
    """The reply's received date (inkom, Entry.received_on) as the documents show it; "" without a reply."""
    return day(entry.received_on)


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
        ("Inkom", submitted_on(entry, zone) + (" (efter sista svarsdag)" if entry.status == "late" else "")),
        ("Beslutande organ", content.get("deciding_body") or ""),
        ("Beslutsdatum", day(decision_day(content))),
        ("Paragraf", paragraph_mark(content.get("decision_paragraph") or "")),
        ("Underskrift", signatory),
    ]


REPLY_TEXTS = (("Sammanfattning", "summary"), ("Förslag till beslut", "proposed_decision"))


# ------------------------------------------------------------------ the records

def compile_round(session: Session, round_: ReferralRound, now: datetime, zone: ZoneInfo,
                  entries: list[Entry] | None = None, *, background: str = "", assessment: str = "",
                  gather_empty: bool = True) -> bytes:
    """The remissammanställning of `round_` as .docx bytes (nothing stored), made at `now`; sections
    nobody commented on are named in one line unless `gather_empty` is off."""
    from .compilation_document import write_docx

    return write_docx(summarize(session, round_, now, zone, entries, background=background, assessment=assessment),
                      zone, now=now, gather_empty=gather_empty)


def record_compilation(session: Session, actor: User | None, now: datetime, round_: ReferralRound,
                       zone: ZoneInfo, *, background: str = "", assessment: str = "",
                       gather_empty: bool = True) -> Compilation:
    """Compile `round_` and keep the document with who made it, when, the submitted versions it covered
    and the officer's texts (background, overall assessment) it was made with. A deadline not yet
    passed does not stop it (deadline_not_passed names those bodies for the page)."""
    from .docx_files import DOCX_TYPE
    from .drafts import store_file

    if actor is not None and not actor.has_role(Role.OFFICER, Role.ADMIN):
        raise WorkflowError(_l("Bara handläggare kan sammanställa remissvar."))
    if round_.state not in (RoundState.OPEN, RoundState.CLOSED):
        raise WorkflowError(_l("Bara en utskickad remiss kan sammanställas."))
    background, assessment = xml_text(background or "").strip(), xml_text(assessment or "").strip()
    entries = latest_entries(session, round_, now, zone)
    data = compile_round(session, round_, now, zone, entries=entries, background=background, assessment=assessment,
                         gather_empty=gather_empty)
    name = DOCX_NAME.format(case=file_stem(round_.strategy.case_reference),
                            day=calendar.local_date(now, zone).isoformat())
    stored = store_file(session, actor, now, filename=name, content_type=DOCX_TYPE, data=data)
    covered = [e.version_id for e in entries if e.version_id is not None]
    compilation = Compilation(round_id=round_.id, created_by_id=actor.id if actor else None, created_at=now,
                              file_id=stored.id, background=background, assessment=assessment)
    compilation.versions = list(session.scalars(select(ResponseVersion).where(ResponseVersion.id.in_(covered))))
    session.add(compilation)
    session.flush()
    audit.record(session, actor, now, "round.compiled", compilation, after=f"{len(covered)} svar",
                 strategy_id=round_.strategy_id, round_id=round_.id, replies=len(covered))
    return compilation


# ------------------------------------------------------------------ the PDF, made outside the request

def _check_officer(actor: User | None) -> None:
    if actor is not None and not actor.has_role(Role.OFFICER, Role.ADMIN):
        raise WorkflowError(_l("Bara handläggare kan skapa PDF av sammanställningen."))


def request_pdf(session: Session, actor: User | None, now: datetime, kept: Compilation) -> bool:
    """Ask for the PDF of a kept compilation: the scheduler makes it (make_pending_pdf), so a slow
    LibreOffice never holds a web worker. False when it is already made or asked for. Raises
    WorkflowError when LibreOffice is not installed, so the officer is told at once."""
    from . import pdf

    _check_officer(actor)
    if kept.pdf_file_id is not None or kept.pdf_requested_at is not None:
        return False
    pdf.check_available()
    kept.pdf_requested_at, kept.pdf_error = now, ""
    session.flush()
    return True


def make_pdf(session: Session, actor: User | None, now: datetime, kept: Compilation) -> StoredFile:
    """Convert the kept .docx to a tagged PDF/A and keep it with the compilation (the CLI, the scheduler).
    Raises WorkflowError when LibreOffice is missing or fails; nothing is kept then."""
    from . import pdf
    from .drafts import store_file

    _check_officer(actor)
    if kept.pdf_file is not None:
        return kept.pdf_file
    data = pdf.docx_to_pdf(kept.file.data)
    name = kept.file.filename.removesuffix(".docx") + ".pdf"
    stored = store_file(session, actor, now, filename=name, content_type=pdf.PDF_TYPE, data=data)
    kept.pdf_file_id, kept.pdf_requested_at, kept.pdf_error = stored.id, None, ""
    session.flush()
    return stored


def pdf_failed(session: Session, kept: Compilation, error: WorkflowError) -> None:
    """A conversion asked for on the page failed: it is not tried again until asked again, and the page
    says why."""
    kept.pdf_requested_at, kept.pdf_error = None, str(error.message)[:2000]
    session.flush()


def next_pending_pdf(session: Session) -> Compilation | None:
    """The oldest compilation whose PDF was asked for and not made; on PostgreSQL locked for this
    transaction and skipped by other schedulers (FOR UPDATE SKIP LOCKED), so each is made once."""
    return session.scalar(select(Compilation).where(Compilation.pdf_requested_at.is_not(None),
                                                    Compilation.pdf_file_id.is_(None))
                          .order_by(Compilation.pdf_requested_at, Compilation.id).limit(1)
                          .with_for_update(skip_locked=True, of=Compilation))


def compilations_of(session: Session, round_: ReferralRound) -> list[Compilation]:
    """The round's compilations, newest first, each with how many replies it covered; two queries."""
    counts = dict(session.execute(
        select(Compilation.id, func.count()).join(Compilation.versions)
        .where(Compilation.round_id == round_.id).group_by(Compilation.id)).all())
    found = list(session.scalars(select(Compilation).where(Compilation.round_id == round_.id)
                                 .options(selectinload(Compilation.created_by), selectinload(Compilation.file),
                                          selectinload(Compilation.pdf_file))
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
    """The comments as an Excel workbook: one sheet, a bold frozen header row with a filter, wrapped text;
    printed landscape on A4, one page wide, the header row on every page. Named for the round and its
    officer (openpyxl would sign it "openpyxl")."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.worksheet.properties import PageSetupProperties

    rows = comment_rows(summary)
    book = Workbook(write_only=True)
    properties = book.properties
    properties.creator = properties.lastModifiedBy = xml_line(summary.officer_name)[:255] or "Remiss"
    properties.title = xml_line(f"Synpunkter: {summary.title}")[:255]
    properties.subject = xml_line(summary.case_reference)[:255]
    properties.language = "sv-SE"
    sheet = book.create_sheet("Synpunkter")
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{chr(ord('A') + len(EXPORT_COLUMNS) - 1)}{len(rows) + 1}"
    sheet.print_title_rows = "1:1"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = 9  # A4
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0  # one page wide, as many long as it takes
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    for letter, width in zip("ABCDEFG", (8, 30, 28, 24, 80, 16, 50)):
        sheet.column_dimensions[letter].width = width

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
    for row in rows:
        sheet.append(row_of(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
