"""The officer's handling of every comment (ställningstagande): one decision and reason per comment as it
was submitted, named by the referral and the draft section's key ("" = the general comments).

Only the latest submitted version of a reply is handled; a body's working copy never is.
"""
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit
from .compilation import latest_entries
from .errors import WorkflowError
from .i18n import swedish_key
from .models import (
    Disposition, DispositionDecision, Referral, ReferralRound, Response, ResponseVersion, Role, User,
)

GENERAL = ""  # the section key of the general comments
GENERAL_FILTER = "_general"  # the general comments in a filter's query string ("" there means every section);
# no section key has an underscore, so it names nothing else


@dataclass
class HandlingRow:
    referral_id: int
    section_key: str
    body_name: str
    stance: str | None
    text: str
    disposition: Disposition | None  # None when unhandled, or decided on words the body has changed since
    body_id: int | None = None
    earlier: Disposition | None = None  # a decision on the comment's earlier words, to start from

    @property
    def anchor(self) -> str:
        return f"comment-{self.referral_id}-{self.section_key}"


@dataclass
class HandlingSection:
    key: str  # "" for the general comments
    number: str
    heading: str
    rows: list[HandlingRow]

    @property
    def filter_value(self) -> str:
        """The section in a filter's query string."""
        return self.key or GENERAL_FILTER


def _comment_text(content: dict, section_key: str) -> str:
    """The text of the comment on `section_key` in a submitted version's content; "" when there is none."""
    if section_key == GENERAL:
        text = content.get("general_comments") or ""
    else:
        text = next((c.get("text") or "" for c in content.get("comments") or ()
                     if c.get("section_key") == section_key), "")
    return text if text.strip() else ""


def _latest_content(session: Session, referral: Referral) -> dict | None:
    return session.scalar(
        select(ResponseVersion.content).join(Response, Response.id == ResponseVersion.response_id)
        .where(Response.referral_id == referral.id).order_by(ResponseVersion.number.desc()).limit(1))


def set_disposition(session: Session, actor: User, now: datetime, referral: Referral, section_key: str | None,
                    decision: str, reason: str = "") -> Disposition:
    """Record (or change) the officer's decision on one submitted comment."""
    if not actor.has_role(Role.OFFICER, Role.ADMIN):
        raise WorkflowError(_l("Bara handläggare kan ta ställning till synpunkter."))
    if decision not in list(DispositionDecision):
        raise WorkflowError(_l("Välj ett ställningstagande."), "decision")
    section_key = section_key or GENERAL
    content = _latest_content(session, referral)
    if content is None or not _comment_text(content, section_key):
        raise WorkflowError(_l("Synpunkten finns inte i det inskickade svaret."))
    disposition = session.scalar(select(Disposition).where(Disposition.referral_id == referral.id,
                                                           Disposition.section_key == section_key))
    before = ""
    if disposition is None:
        disposition = Disposition(referral_id=referral.id, section_key=section_key)
        session.add(disposition)
    else:
        before = disposition.decision
    disposition.decision, disposition.reason = str(decision), (reason or "").strip()
    disposition.comment_text = _comment_text(content, section_key)
    disposition.decided_by_id, disposition.decided_at = actor.id, now
    session.flush()
    audit.record(session, actor, now, "comment.handled", disposition, before=before, after=disposition.decision,
                 strategy_id=referral.round.strategy_id, round_id=referral.round_id, body=referral.body.name,
                 section_key=section_key, reason=disposition.reason)
    return disposition


def handling_rows(session: Session, round_: ReferralRound, now: datetime | None = None,
                  zone: ZoneInfo | None = None, entries=None) -> list[HandlingSection]:
    """Per draft section in draft order, then the general comments: every comment of the latest submitted
    versions (compilation.latest_entries, read here unless given) with its body, stance and the disposition
    that still holds. A fixed number of queries whatever the size."""
    if entries is None:
        if now is None or zone is None:
            from . import clock
            from .invitations import zone as local_zone
            now, zone = now or clock.now(), zone or local_zone()
        entries = latest_entries(session, round_, now, zone)
    entries = [e for e in entries if e.answered]
    # The bodies and the dispositions in one query, so a filter by body costs nothing more.
    referrals = session.execute(select(Referral.id, Referral.body_id, Disposition)
                                .outerjoin(Disposition, Disposition.referral_id == Referral.id)
                                .where(Referral.round_id == round_.id)).all()
    body_of = {referral_id: body_id for referral_id, body_id, _disposition in referrals}
    dispositions = {(d.referral_id, d.section_key): d for _referral_id, _body_id, d in referrals if d is not None}

    def rows(key: str) -> list[HandlingRow]:
        found = []
        for entry in entries:
            text = _comment_text(entry.content, key)
            if text:
                decided = dispositions.get((entry.referral_id, key))
                holds = still_holds(decided, text)
                found.append(HandlingRow(entry.referral_id, key, entry.body_name, entry.content.get("stance"),
                                         text, decided if holds else None, body_of.get(entry.referral_id),
                                         None if holds else decided))
        return found

    sections = [HandlingSection(s.key, s.number, s.heading, rows(s.key)) for s in round_.draft.sections]
    sections.append(HandlingSection(GENERAL, "", "", rows(GENERAL)))
    return sections


def filter_sections(sections: list[HandlingSection], body_id: int | None = None, section_key: str | None = None,
                    unhandled: bool = False, keep: tuple[int, str] | None = None) -> list[HandlingSection]:
    """The rows a filter shows: of one body, under one section key (GENERAL for the general comments), not yet
    handled, or any of these together; None and False mean no filter. Without a filter every section stays, with
    or without rows; with one, sections left without rows are left out. `keep` (referral id, section key) is
    shown whatever the filter, so a refused form is never hidden from the officer who posted it."""
    if body_id is None and section_key is None and not unhandled:
        return [HandlingSection(s.key, s.number, s.heading, list(s.rows)) for s in sections]

    def shown(row: HandlingRow) -> bool:
        return ((row.referral_id, row.section_key) == keep
                or ((body_id is None or row.body_id == body_id)
                    and (section_key is None or row.section_key == section_key)
                    and (not unhandled or row.disposition is None)))

    found = [HandlingSection(s.key, s.number, s.heading, [r for r in s.rows if shown(r)]) for s in sections]
    return [s for s in found if s.rows]


@dataclass
class HandlingFilter:
    """The handling page's filter as read from its query string, with what it can choose from. A value that names
    nothing there (tampered, or a body whose comments are gone) is dropped and flagged, never an error."""
    bodies: list[tuple[int, str]]  # (id, name) of the bodies with comments, in Swedish order
    sections: list[HandlingSection]  # the sections with comments, in draft order, the general comments last
    body_id: int | None = None
    section_key: str | None = None
    unhandled: bool = False
    unknown_body: bool = False
    unknown_section: bool = False

    @property
    def active(self) -> bool:
        return self.body_id is not None or self.section_key is not None or self.unhandled

    @property
    def query(self) -> dict[str, str]:
        """The filter in force as query arguments, for the links and forms that keep it."""
        found = {"body": str(self.body_id) if self.body_id is not None else "",
                 "section": GENERAL_FILTER if self.section_key == GENERAL else self.section_key or "",
                 "unhandled": "1" if self.unhandled else ""}
        return {name: value for name, value in found.items() if value}


def read_filter(sections: list[HandlingSection], body: str = "", section: str = "",
                unhandled: str = "") -> HandlingFilter:
    """The filter asked for by `body` (an id), `section` (a key, GENERAL_FILTER for the general comments) and
    `unhandled` ("1"), each matched against what has comments, so nothing asked for reaches a query."""
    by_id = {str(row.body_id): (row.body_id, row.body_name) for s in sections for row in s.rows
             if row.body_id is not None}
    commented = [s for s in sections if s.rows]
    chosen_section = next((s.key for s in commented if s.filter_value == section), None)
    return HandlingFilter(
        bodies=sorted(by_id.values(), key=lambda item: swedish_key(item[1])), sections=commented,
        body_id=by_id[body][0] if body in by_id else None, section_key=chosen_section, unhandled=unhandled == "1",
        unknown_body=bool(body) and body not in by_id, unknown_section=bool(section) and chosen_section is None)


def still_holds(disposition: Disposition | None, text: str) -> bool:
    """Does the decision stand for the comment as it reads now? Not once the body has sent the comment
    again in other words: the officer decided on what it said then."""
    return disposition is not None and (not disposition.comment_text or disposition.comment_text == text)
