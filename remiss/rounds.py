"""Referral rounds: prepare, launch, and every change after launch (logged and mailed, never silent)."""
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, calendar, invitations
from .errors import WorkflowError
from .models import (
    Body, Draft, Referral, ReferralRound, ReferralState, Role, RoundState, Strategy, User,
)

ANSWERED = (ReferralState.SUBMITTED, ReferralState.DECLINED)
ACTIVE = (ReferralState.INVITED, ReferralState.IN_PROGRESS, ReferralState.SUBMITTED, ReferralState.DECLINED)


def parse_offsets(text: str) -> str:
    """'-14, -7, 0, +1' → '-14,-7,0,1'; raises WorkflowError for anything else."""
    try:
        offsets = sorted({int(part) for part in text.replace(" ", "").split(",") if part})
    except ValueError:
        raise WorkflowError(_l("Skriv påminnelserna som dagar före (-) eller efter (+) sista svarsdag, "
                               "åtskilda med komma, till exempel -14,-7,-2,0,+1,+7."), "reminder_offsets") from None
    if any(abs(o) > 365 for o in offsets):
        raise WorkflowError(_l("En påminnelse kan ligga högst 365 dagar från sista svarsdag."), "reminder_offsets")
    return ",".join(str(o) for o in offsets)


def _check_officer(actor: User) -> None:
    if not actor.has_role(Role.OFFICER, Role.ADMIN):
        raise WorkflowError(_l("Bara en strateg kan ändra en remissomgång."))


def _check_deadline(deadline: date | None, now: datetime) -> None:
    today = calendar.local_date(now, invitations.zone())
    if deadline is None or deadline <= today:
        raise WorkflowError(_l("Sista svarsdag måste ligga efter i dag."), "deadline")
    check_horizon(deadline, now, "deadline")


# No referral runs for years. A date further ahead is a slip of the keyboard, and beyond what the
# calendar knows: the holiday data ends in 2100, and 9999-12-31 has no next day for the .ics event.
MAX_DEADLINE_YEARS = 5


def check_horizon(deadline: date, now: datetime, field: str) -> None:
    """Raise WorkflowError for a deadline more than MAX_DEADLINE_YEARS ahead."""
    if deadline > calendar.local_date(now, invitations.zone()) + timedelta(days=365 * MAX_DEADLINE_YEARS):
        raise WorkflowError(_l("Sista svarsdag kan ligga högst %(n)s år fram i tiden.", n=MAX_DEADLINE_YEARS),
                            field)


def _bodies(session: Session, body_ids) -> list[Body]:
    found = session.scalars(select(Body).where(Body.id.in_(set(body_ids)), Body.active.is_(True))).all()
    if len(found) != len(set(body_ids)):
        raise WorkflowError(_l("Någon av de valda remissinstanserna finns inte eller är inaktiv."), "bodies")
    return list(found)


def create_round(session: Session, actor: User, now: datetime, strategy: Strategy, *, draft: Draft,
                 deadline: date, body_ids, reply_label: str, cover_letter: str, reminder_offsets: str,
                 contact: User) -> ReferralRound:
    """Prepare a round (state draft) from one version of the strategy. Nothing is sent yet."""
    _check_officer(actor)
    if draft.strategy_id != strategy.id:
        raise WorkflowError(_l("Utkastet hör inte till ärendet."), "draft")
    round_ = ReferralRound(strategy_id=strategy.id, draft_id=draft.id, state=RoundState.DRAFT, created_at=now,
                           created_by_id=actor.id, deadline=deadline)
    session.add(round_)
    _apply_fields(session, round_, now, deadline=deadline, body_ids=body_ids, reply_label=reply_label,
                  cover_letter=cover_letter, reminder_offsets=reminder_offsets, contact=contact, draft=draft)
    session.flush()
    audit.record(session, actor, now, "round.created", round_, after=RoundState.DRAFT,
                 strategy_id=strategy.id, round_id=round_.id)
    return round_


def update_round(session: Session, actor: User, now: datetime, round_: ReferralRound, **fields) -> None:
    """Change a round that is still a draft. After launch, use the explicit changes below."""
    _check_officer(actor)
    check_editable(round_)
    _apply_fields(session, round_, now, **fields)
    session.flush()
    audit.record(session, actor, now, "round.updated", round_, strategy_id=round_.strategy_id,
                 round_id=round_.id)


def check_editable(round_: ReferralRound) -> None:
    """Raise WorkflowError unless the round is still a draft: once sent, nothing changes silently."""
    if round_.state != RoundState.DRAFT:
        raise WorkflowError(_l("Remissen är redan utskickad. Ändra sista svarsdag eller sändlistan med "
                               "knapparna på remissens sida, så att de berörda får veta det."))


def _apply_fields(session, round_, now, *, deadline, body_ids, reply_label, cover_letter, reminder_offsets,
                  contact, draft=None) -> None:
    _check_deadline(deadline, now)
    if contact is None or not contact.has_role(Role.OFFICER, Role.ADMIN):
        raise WorkflowError(_l("Välj en kontaktperson."), "contact")
    if draft is not None:
        if draft.strategy_id != round_.strategy_id:
            raise WorkflowError(_l("Utkastet hör inte till ärendet."), "draft")
        round_.draft_id = draft.id
    round_.deadline = deadline
    round_.reply_label = reply_label.strip()
    round_.cover_letter = cover_letter.strip()
    round_.reminder_offsets = parse_offsets(reminder_offsets)
    round_.contact_id = contact.id
    wanted = {b.id for b in _bodies(session, body_ids)}
    round_.referrals = [r for r in round_.referrals if r.body_id in wanted] + [
        Referral(body_id=b, state=ReferralState.INVITED, deadline=deadline)
        for b in sorted(wanted - {r.body_id for r in round_.referrals})
    ]
    for referral in round_.referrals:
        referral.deadline = deadline


def launch_round(session: Session, actor: User, now: datetime, round_: ReferralRound) -> None:
    """Send the round: every referral is invited and an invitation per body goes to the outbox.
    Raises WorkflowError unless the round is a draft with recipients and a future deadline."""
    _check_officer(actor)
    if round_.state != RoundState.DRAFT:
        raise WorkflowError(_l("Remissen är redan utskickad."))
    if not round_.referrals:
        raise WorkflowError(_l("Välj minst en remissinstans innan du skickar remissen."), "bodies")
    _check_deadline(round_.deadline, now)
    round_.state, round_.launched_at = RoundState.OPEN, now
    for referral in round_.referrals:
        referral.invited_at = now
    session.flush()
    for referral in round_.referrals:
        invitations.queue_invitation(session, now, referral)
    audit.record(session, actor, now, "round.launched", round_, before=RoundState.DRAFT, after=RoundState.OPEN,
                 strategy_id=round_.strategy_id, round_id=round_.id, bodies=len(round_.referrals))


def _check_open(round_: ReferralRound) -> None:
    if round_.state != RoundState.OPEN:
        raise WorkflowError(_l("Remissomgången är inte öppen."))


def add_body(session: Session, actor: User, now: datetime, round_: ReferralRound, body: Body | None,
             deadline: date | None = None) -> Referral:
    """Send an open round to one more body, with its own deadline (default: the round's)."""
    _check_officer(actor)
    _check_open(round_)
    if body is None or not body.active:
        raise WorkflowError(_l("Välj en remissinstans."), "body")
    deadline = deadline or round_.deadline
    _check_deadline(deadline, now)
    if any(r.body_id == body.id for r in round_.referrals):
        raise WorkflowError(_l("%(name)s finns redan på sändlistan.", name=body.name), "body")
    referral = Referral(round_id=round_.id, body_id=body.id, state=ReferralState.INVITED, deadline=deadline,
                        invited_at=now)
    round_.referrals.append(referral)
    session.flush()
    invitations.queue_invitation(session, now, referral)
    audit.record(session, actor, now, "referral.added", referral, after=deadline.isoformat(),
                 strategy_id=round_.strategy_id, round_id=round_.id, body=body.name)
    return referral


def withdraw_referral(session: Session, actor: User, now: datetime, referral: Referral, reason: str) -> None:
    """Take a body off an open round; the body is told why."""
    _check_officer(actor)
    _check_open(referral.round)
    if referral.state == ReferralState.WITHDRAWN:
        raise WorkflowError(_l("Remissen är redan återkallad."))
    if referral.state in ANSWERED:  # the reply is a public record; withdrawing would hide it
        raise WorkflowError(_l("Remissen är redan besvarad och kan inte återkallas. Svaret är en allmän handling."))
    if not reason.strip():
        raise WorkflowError(_l("Skriv varför remissen återkallas; det står i mejlet till remissinstansen."),
                            "reason")
    before = referral.state
    referral.state = ReferralState.WITHDRAWN
    session.flush()
    invitations.queue_notice(session, now, referral, "withdrawn", reason=reason.strip())
    audit.record(session, actor, now, "referral.withdrawn", referral, before=before, after=referral.state,
                 strategy_id=referral.round.strategy_id, round_id=referral.round_id, reason=reason.strip(),
                 body=referral.body.name)


def move_deadline(session: Session, actor: User, now: datetime, round_: ReferralRound, deadline: date,
                  reason: str = "") -> None:
    """Move the round's deadline for everyone still on it. A body with an anstånd later than the
    new date keeps its own. Each body is mailed the new date and a new calendar event."""
    _check_officer(actor)
    _check_open(round_)
    _check_deadline(deadline, now)
    if deadline == round_.deadline:
        raise WorkflowError(_l("Det är redan sista svarsdag."), "deadline")
    before = round_.deadline
    round_.deadline = deadline
    for referral in round_.referrals:
        if referral.state == ReferralState.WITHDRAWN or referral.deadline == deadline:
            continue
        if referral.deadline == before or referral.deadline < deadline:
            referral.deadline = deadline
            referral.deadline_sequence += 1
            if referral.state not in ANSWERED:
                invitations.queue_notice(session, now, referral, "deadline_moved", reason=reason.strip())
    session.flush()
    audit.record(session, actor, now, "round.deadline_moved", round_, before=before.isoformat(),
                 after=deadline.isoformat(), strategy_id=round_.strategy_id, round_id=round_.id,
                 reason=reason.strip())


def change_reminders(session: Session, actor: User, now: datetime, round_: ReferralRound, offsets: str) -> None:
    """Change an open round's reminder days. Reminders already planned stay planned; the new days
    apply from the next tick (and only to reminders later than those already sent)."""
    _check_officer(actor)
    _check_open(round_)
    before, round_.reminder_offsets = round_.reminder_offsets, parse_offsets(offsets)
    session.flush()
    audit.record(session, actor, now, "round.reminders_changed", round_, before=before,
                 after=round_.reminder_offsets, strategy_id=round_.strategy_id, round_id=round_.id)


def cancel_round(session: Session, actor: User, now: datetime, round_: ReferralRound, reason: str) -> None:
    """Call off a round; if it was sent, every body still on it is told."""
    _check_officer(actor)
    if round_.state not in (RoundState.DRAFT, RoundState.OPEN):
        raise WorkflowError(_l("Remissomgången är redan avslutad."))
    before = round_.state
    round_.state, round_.closed_at = RoundState.CANCELLED, now
    if before == RoundState.OPEN:
        for referral in round_.referrals:
            if referral.state != ReferralState.WITHDRAWN:
                invitations.queue_notice(session, now, referral, "cancelled", reason=reason.strip())
    session.flush()
    audit.record(session, actor, now, "round.cancelled", round_, before=before, after=round_.state,
                 strategy_id=round_.strategy_id, round_id=round_.id, reason=reason.strip())


def default_deadline(now: datetime) -> date:
    """A suggestion for a new round: the configured number of weeks ahead, on a business day."""
    weeks = current_app.config["REFERRAL_MIN_WEEKS"]
    return calendar.previous_business_day(calendar.local_date(now, invitations.zone()) + timedelta(weeks=weeks))
