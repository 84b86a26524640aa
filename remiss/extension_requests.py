"""Anstånd: a body asks for a later deadline; the officer grants or refuses. A grant moves that
referral's effective deadline, and with it its reminders."""
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, invitations
from .errors import WorkflowError
from .rounds import check_horizon
from .models import ExtensionRequest, ExtensionState, Referral, ReferralState, Role, RoundState, User

CLOSED = (ReferralState.SUBMITTED, ReferralState.DECLINED, ReferralState.WITHDRAWN)


def _check_referral_open(referral: Referral) -> None:
    if referral.round.state != RoundState.OPEN or referral.state in CLOSED:
        raise WorkflowError(_l("Remissen är redan besvarad eller avslutad; anstånd behövs inte."))


def pending_request(session: Session, referral: Referral) -> ExtensionRequest | None:
    return session.scalar(select(ExtensionRequest).where(ExtensionRequest.referral_id == referral.id,
                                                         ExtensionRequest.state == ExtensionState.REQUESTED))


def request_extension(session: Session, actor: User, now: datetime, referral: Referral, *,
                      requested_deadline: date, reason: str) -> ExtensionRequest:
    """A secretary of the body asks for a later date. Raises WorkflowError if they are not one,
    the date is not later than the current deadline, no reason is given, or a request is pending."""
    if referral.body_id not in actor.body_ids:
        raise WorkflowError(_l("Du kan bara begära anstånd för dina egna remissinstanser."))
    _check_referral_open(referral)
    if requested_deadline is None or requested_deadline <= referral.deadline:
        raise WorkflowError(_l("Begär ett datum efter nuvarande sista svarsdag."), "requested_deadline")
    check_horizon(requested_deadline, now, "requested_deadline")
    if not reason.strip():
        raise WorkflowError(_l("Skriv varför ni behöver mer tid, till exempel när nämnden sammanträder."), "reason")
    if pending_request(session, referral) is not None:
        raise WorkflowError(_l("Det finns redan en begäran om anstånd som väntar på beslut."))
    request = ExtensionRequest(referral_id=referral.id, state=ExtensionState.REQUESTED, requested_at=now,
                               requested_deadline=requested_deadline, reason=reason.strip(),
                               requested_by_id=actor.id)
    session.add(request)
    session.flush()
    invitations.queue_officer_notice(session, now, referral, "extension_requested", extension=request)
    audit.record(session, actor, now, "extension.requested", request, after=requested_deadline.isoformat(),
                 strategy_id=referral.round.strategy_id, round_id=referral.round_id, body=referral.body.name)
    return request


def grant_extension(session: Session, actor: User, now: datetime, referral: Referral, *, deadline: date,
                    reason: str = "", request: ExtensionRequest | None = None) -> ExtensionRequest:
    """The officer grants a later deadline, answering a request or on their own initiative.
    The referral's effective deadline moves; the body is mailed the date and a new calendar event."""
    if not actor.has_role(Role.OFFICER, Role.ADMIN):
        raise WorkflowError(_l("Bara en strateg kan bevilja anstånd."))
    _check_referral_open(referral)
    if deadline is None or deadline <= referral.deadline:
        raise WorkflowError(_l("Det nya datumet måste ligga efter nuvarande sista svarsdag."), "deadline")
    check_horizon(deadline, now, "deadline")
    request = request or pending_request(session, referral) or ExtensionRequest(
        referral_id=referral.id, requested_at=now, reason="", requested_by_id=None)
    if request.state not in (None, ExtensionState.REQUESTED):
        raise WorkflowError(_l("Begäran är redan avgjord."))
    before = referral.deadline
    request.state, request.granted_deadline = ExtensionState.GRANTED, deadline
    request.decision_reason, request.decided_by_id, request.decided_at = reason.strip(), actor.id, now
    referral.deadline = deadline
    referral.deadline_sequence += 1
    session.add(request)
    session.flush()
    invitations.queue_notice(session, now, referral, "extension_granted", extension=request)
    audit.record(session, actor, now, "extension.granted", request, before=before.isoformat(),
                 after=deadline.isoformat(), strategy_id=referral.round.strategy_id, round_id=referral.round_id,
                 body=referral.body.name)
    return request


def refuse_extension(session: Session, actor: User, now: datetime, request: ExtensionRequest, *,
                     reason: str) -> None:
    """The officer says no, with a reason the body reads in its mail."""
    if not actor.has_role(Role.OFFICER, Role.ADMIN):
        raise WorkflowError(_l("Bara en strateg kan avslå anstånd."))
    if request.state != ExtensionState.REQUESTED:
        raise WorkflowError(_l("Begäran är redan avgjord."))
    if not reason.strip():
        raise WorkflowError(_l("Skriv varför anståndet avslås; det står i mejlet till remissinstansen."), "reason")
    request.state, request.decision_reason = ExtensionState.REFUSED, reason.strip()
    request.decided_by_id, request.decided_at = actor.id, now
    session.flush()
    referral = request.referral
    invitations.queue_notice(session, now, referral, "extension_refused", extension=request)
    audit.record(session, actor, now, "extension.refused", request, before=ExtensionState.REQUESTED,
                 after=ExtensionState.REFUSED, strategy_id=referral.round.strategy_id, round_id=referral.round_id,
                 body=referral.body.name)
