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
from .models import (
    Disposition, DispositionDecision, Referral, ReferralRound, Response, ResponseVersion, Role, User,
)

GENERAL = ""  # the section key of the general comments


@dataclass
class HandlingRow:
    referral_id: int
    section_key: str
    body_name: str
    stance: str | None
    text: str
    disposition: Disposition | None

    @property
    def anchor(self) -> str:
        return f"comment-{self.referral_id}-{self.section_key}"


@dataclass
class HandlingSection:
    key: str  # "" for the general comments
    number: str
    heading: str
    rows: list[HandlingRow]


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
    disposition.decided_by_id, disposition.decided_at = actor.id, now
    session.flush()
    audit.record(session, actor, now, "comment.handled", disposition, before=before, after=disposition.decision,
                 strategy_id=referral.round.strategy_id, round_id=referral.round_id, body=referral.body.name,
                 section_key=section_key, reason=disposition.reason)
    return disposition


def handling_rows(session: Session, round_: ReferralRound, now: datetime | None = None,
                  zone: ZoneInfo | None = None) -> list[HandlingSection]:
    """Per draft section in draft order, then the general comments: every comment of the latest submitted
    versions with its body, stance and disposition. A fixed number of queries whatever the size."""
    if now is None or zone is None:
        from . import clock
        from .invitations import zone as local_zone
        now, zone = now or clock.now(), zone or local_zone()
    entries = [e for e in latest_entries(session, round_, now, zone) if e.answered]
    dispositions = dispositions_of(session, round_)

    def rows(key: str) -> list[HandlingRow]:
        found = []
        for entry in entries:
            text = _comment_text(entry.content, key)
            if text:
                found.append(HandlingRow(entry.referral_id, key, entry.body_name, entry.content.get("stance"),
                                         text, dispositions.get((entry.referral_id, key))))
        return found

    sections = [HandlingSection(s.key, s.number, s.heading, rows(s.key)) for s in round_.draft.sections]
    sections.append(HandlingSection(GENERAL, "", "", rows(GENERAL)))
    return sections


def dispositions_of(session: Session, round_: ReferralRound) -> dict[tuple[int, str], Disposition]:
    """Every disposition of the round by (referral id, section key); one query."""
    return {(d.referral_id, d.section_key): d for d in session.scalars(
        select(Disposition).join(Referral, Referral.id == Disposition.referral_id)
        .where(Referral.round_id == round_.id))}
