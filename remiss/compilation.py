"""The remissammanställning: a round's submitted replies compiled into one .docx for the officer.

Only submitted versions are read (the latest per referral); a body's working copy never is. The
text in the document is fixed Swedish. Real Title/Heading 1/Heading 2 styles, so Word builds a
table of contents; page numbers in the footer.
"""
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, aliased, selectinload

from . import audit, board, calendar
from .errors import WorkflowError
from .i18n import swedish_key
from .models import (
    Body, Compilation, Referral, ReferralRound, ReferralState, Response, ResponseVersion, Role, RoundState, User,
)
from .reply_documents import docx_paragraphs, facts as _facts, paragraph_mark, swedish_a4, xml_line

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
OVERVIEW_COLUMNS = ("Remissinstans", "Svar", "Datum", "Ställningstagande", "Deras diarienummer")


DOCX_NAME = "remissammanstallning-{case}-{day}.docx"


@dataclass
class _Entry:
    body_name: str
    status: str
    content: dict = field(default_factory=dict)  # the latest submitted version's; empty when none
    submitted_at: datetime | None = None
    referral_id: int = 0
    version_id: int | None = None

    @property
    def answered(self) -> bool:
        return self.status in ANSWERED


def latest_entries(session: Session, round_: ReferralRound, now: datetime, zone: ZoneInfo) -> list[_Entry]:
    """Every body of the round (withdrawn ones left out) with its latest submitted version; two queries."""
    return _entries(session, round_, now, zone)


def _entries(session: Session, round_: ReferralRound, now: datetime, zone: ZoneInfo) -> list[_Entry]:
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
        entries.append(_Entry(name, status, (content or {}) if status in ANSWERED else {},
                              submitted_at if status in ANSWERED else None, referral_id,
                              version_id if status in ANSWERED else None))
    return sorted(entries, key=lambda e: swedish_key(e.body_name))


def record_compilation(session: Session, actor: User | None, now: datetime, round_: ReferralRound,
                       zone: ZoneInfo) -> Compilation:
    """Compile `round_` and keep the document with who made it, when, and the submitted versions it covered."""
    from .drafts import store_file
    from .docx_files import DOCX_TYPE

    if actor is not None and not actor.has_role(Role.OFFICER, Role.ADMIN):
        raise WorkflowError(_l("Bara handläggare kan sammanställa remissvar."))
    if round_.state not in (RoundState.OPEN, RoundState.CLOSED):
        raise WorkflowError(_l("Bara en utskickad remiss kan sammanställas."))
    entries = _entries(session, round_, now, zone)
    data = compile_round(session, round_, now, zone, entries=entries)
    name = DOCX_NAME.format(case=round_.strategy.case_reference, day=calendar.local_date(now, zone).isoformat())
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
    """The round's compilations, newest first."""
    return list(session.scalars(select(Compilation).where(Compilation.round_id == round_.id)
                                .options(selectinload(Compilation.created_by))
                                .order_by(Compilation.created_at.desc(), Compilation.id.desc())))


def latest_compilation(session: Session, round_: ReferralRound) -> Compilation | None:
    return session.scalar(select(Compilation).where(Compilation.round_id == round_.id)
                          .order_by(Compilation.created_at.desc(), Compilation.id.desc()).limit(1))


def rounds_awaiting_compilation(session: Session, now: datetime, zone: ZoneInfo,
                                officer: User | None = None) -> list[ReferralRound]:
    """Launched rounds whose last deadline (anstånd included) has passed — the day is over — with no
    compilation made; only `officer`'s strategies when given. Oldest last deadline first; two queries."""
    from .models import Strategy

    last = (select(Referral.round_id, func.max(Referral.deadline).label("last"))
            .where(Referral.state != ReferralState.WITHDRAWN).group_by(Referral.round_id).subquery())
    query = (select(ReferralRound).join(last, last.c.round_id == ReferralRound.id)
             .where(ReferralRound.state.in_([RoundState.OPEN, RoundState.CLOSED]),
                    last.c.last < calendar.local_date(now, zone),
                    ~exists().where(Compilation.round_id == ReferralRound.id))
             .options(selectinload(ReferralRound.strategy))
             .order_by(last.c.last, ReferralRound.id))
    if officer is not None:
        query = query.join(Strategy, Strategy.id == ReferralRound.strategy_id).where(
            Strategy.officer_id == officer.id)
    return list(session.scalars(query))


def compile_round(session: Session, round_: ReferralRound, now: datetime, zone: ZoneInfo,
                  entries: list[_Entry] | None = None) -> bytes:
    """The remissammanställning of `round_` as .docx bytes."""
    import docx

    from .dispositions import dispositions_of

    entries = _entries(session, round_, now, zone) if entries is None else entries
    handled = dispositions_of(session, round_)
    sections = list(round_.draft.sections)
    document = docx.Document()
    swedish_a4(document)
    styles = document.styles
    title_style, h1, h2 = styles["Title"], styles["Heading 1"], styles["Heading 2"]
    strategy = round_.strategy
    properties = document.core_properties
    properties.title = xml_line(f"Remissammanställning: {strategy.title}")[:255]
    properties.identifier = xml_line(strategy.case_reference)[:255]
    properties.language = "sv-SE"
    _page_numbers(document)

    # Title page
    document.add_paragraph(xml_line(strategy.title), style=title_style)
    document.add_paragraph("Remissammanställning")
    facts = [("Diarienummer", strategy.case_reference),
             ("Remissen skickades", _day(calendar.local_date(round_.launched_at, zone) if round_.launched_at
                                         else None)),
             ("Sista svarsdag", _day(round_.deadline)),
             ("Handläggare", strategy.officer.name if strategy.officer else ""),
             ("Sammanställd", _day(calendar.local_date(now, zone)))]
    for label, value in facts:
        value = xml_line(value)
        if value:
            paragraph = document.add_paragraph()
            paragraph.add_run(f"{label}: ").bold = True
            paragraph.add_run(value)
    document.add_page_break()

    # Overview
    document.add_paragraph("Översikt", style=h1)
    table = document.add_table(rows=1, cols=len(OVERVIEW_COLUMNS))
    table.style = styles["Table Grid"]
    for cell, label in zip(table.rows[0].cells, OVERVIEW_COLUMNS):
        cell.text = label
    for entry in entries:
        cells = table.add_row().cells
        values = (entry.body_name, ANSWERS.get(entry.status, NO_ANSWER),
                  _day(calendar.local_date(entry.submitted_at, zone)) if entry.submitted_at else "",
                  STANCES.get(entry.content.get("stance") or "", ""), entry.content.get("case_reference") or "")
        for cell, value in zip(cells, values):
            cell.text = xml_line(value)

    # Comments per section, in draft order
    answered = [e for e in entries if e.answered]
    by_key: dict[str, list[tuple[str, str, object]]] = {}
    for entry in answered:
        for comment in entry.content.get("comments") or ():
            key = comment.get("section_key")
            by_key.setdefault(key, []).append((entry.body_name, comment.get("text") or "",
                                               handled.get((entry.referral_id, key or ""))))
    for section in sections:
        document.add_paragraph(xml_line(f"{section.number} {section.heading}".strip()) or "(utan rubrik)", style=h1)
        comments = by_key.get(section.key, [])
        if not comments:
            document.add_paragraph("Inga synpunkter på detta avsnitt.")
        for body_name, text, disposition in comments:
            _comment(document, body_name, text, disposition)

    document.add_paragraph("Övriga synpunkter", style=h1)
    general = [(e.body_name, e.content.get("general_comments") or "", handled.get((e.referral_id, "")))
               for e in answered]
    general = [(name, text, disposition) for name, text, disposition in general if docx_paragraphs(text)]
    if not general:
        document.add_paragraph("Inga övriga synpunkter.")
    for body_name, text, disposition in general:
        _comment(document, body_name, text, disposition)

    document.add_paragraph("Remissinstanser som inte svarat", style=h1)
    silent = [e for e in entries if not e.answered]
    if not silent:
        document.add_paragraph("Alla remissinstanser har svarat.")
    for entry in silent:
        document.add_paragraph(xml_line(entry.body_name), style=styles["List Bullet"])

    document.add_paragraph("Bilaga: remissvaren i sin helhet", style=h1)
    for entry in answered:
        content = entry.content
        document.add_paragraph(xml_line(entry.body_name), style=h2)
        decision_date = content.get("decision_date")
        try:
            decision_day = date.fromisoformat(decision_date) if decision_date else None
        except (TypeError, ValueError):
            decision_day = None
        signatory = ", ".join(xml_line(s) for s in (content.get("signatory_name") or "",
                                                 content.get("signatory_title") or "") if xml_line(s))
        _facts(document, [
            ("Ställningstagande", STANCES.get(content.get("stance") or "", "")),
            ("Deras diarienummer", content.get("case_reference") or ""),
            ("Inskickat", _day(calendar.local_date(entry.submitted_at, zone)) if entry.submitted_at else ""),
            ("Beslutande organ", content.get("deciding_body") or ""),
            ("Beslutsdatum", _day(decision_day)),
            ("Paragraf", paragraph_mark(content.get("decision_paragraph") or "")),
            ("Underskrift", signatory),
        ])
        for label, key in (("Sammanfattning", "summary"), ("Förslag till beslut", "proposed_decision")):
            paragraphs = docx_paragraphs(content.get(key) or "")
            if paragraphs:
                document.add_paragraph().add_run(f"{label}:").bold = True
                for text in paragraphs:
                    document.add_paragraph(text)
    if not answered:
        document.add_paragraph("Inga remissvar har kommit in.")

    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _comment(document, body_name: str, text: str, disposition=None) -> None:
    """The body's name in bold, then its comment; one paragraph per line of the comment; then the
    officer's disposition of it, if any."""
    lines = docx_paragraphs(text) or [""]
    paragraph = document.add_paragraph()
    paragraph.add_run(f"{xml_line(body_name)}: ").bold = True
    paragraph.add_run(lines[0])
    for line in lines[1:]:
        document.add_paragraph(line)
    if disposition is not None:
        reasons = docx_paragraphs(disposition.reason or "")
        paragraph = document.add_paragraph()
        paragraph.add_run("Ställningstagande: ").italic = True
        first = DECISIONS.get(disposition.decision, disposition.decision)
        paragraph.add_run(f"{first} – {reasons[0]}" if reasons else first)
        for line in reasons[1:]:
            document.add_paragraph(line)


def _page_numbers(document) -> None:
    """A centred PAGE field in every section's footer."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    for section in document.sections:
        paragraph = section.footer.paragraphs[0]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = paragraph.add_run()
        for kind, instruction in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"),
                                  ("end", None)):
            if kind:
                element = OxmlElement("w:fldChar")
                element.set(qn("w:fldCharType"), kind)
            elif instruction == "1":
                element = OxmlElement("w:t")
                element.text = "1"
            else:
                element = OxmlElement("w:instrText")
                element.set(qn("xml:space"), "preserve")
                element.text = instruction
            run._r.append(element)


def _day(day: date | None) -> str:
    return format_date(day, "d MMMM y", locale=LOCALE) if day else ""
