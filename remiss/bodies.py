"""The register of bodies (remissinstanser) that referrals go to."""
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit
from .errors import WorkflowError
from .i18n import swedish_key
from .models import Body, BodyKind, Referral, User


CODE_LENGTH = Body.__table__.c.code.type.length


def _check_code_length(code: str) -> None:
    # Upper-casing can lengthen a code (ß becomes SS) past the limit the form checked.
    if len(code) > CODE_LENGTH:
        raise WorkflowError(_l("Kortnamnet får ha högst %(n)s tecken.", n=CODE_LENGTH), "code")


def _check_unique(session: Session, body: Body | None, name: str, code: str) -> None:
    others = select(Body).where(Body.id != (body.id if body else -1))
    if session.scalar(others.where(Body.name == name)) is not None:
        raise WorkflowError(_l("Det finns redan en remissinstans med det namnet."), "name")
    if session.scalar(others.where(Body.code == code)) is not None:
        raise WorkflowError(_l("Kortnamnet används redan av en annan remissinstans."), "code")


def create_body(session: Session, actor: User | None, now: datetime, *, name: str, kind: str, code: str,
                mailbox: str) -> Body:
    """Register a body. Raises WorkflowError when its name or short code is taken, the code too long
    or its kind unknown."""
    name, code = name.strip(), code.strip().upper()
    if kind not in set(BodyKind):
        raise WorkflowError(_l("Okänd typ av remissinstans."), "kind")
    _check_code_length(code)
    _check_unique(session, None, name, code)
    body = Body(name=name, kind=kind, code=code, mailbox=mailbox.strip().lower(), active=True, created_at=now)
    session.add(body)
    session.flush()
    audit.record(session, actor, now, "body.created", body, after=code)
    return body


def update_body(session: Session, actor: User, now: datetime, body: Body, *, name: str, kind: str, code: str,
                mailbox: str, active: bool) -> None:
    """Change a body's details; the same uniqueness rules as create_body."""
    name, code = name.strip(), code.strip().upper()
    if kind not in set(BodyKind):
        raise WorkflowError(_l("Okänd typ av remissinstans."), "kind")
    _check_code_length(code)
    _check_unique(session, body, name, code)
    before = body.code
    body.name, body.kind, body.code, body.mailbox, body.active = name, kind, code, mailbox.strip().lower(), active
    session.flush()
    audit.record(session, actor, now, "body.updated", body, before=before, after=code)


def list_bodies(session: Session, *, active_only: bool = False, not_in_round: int | None = None) -> list[Body]:
    """Bodies in Swedish alphabetical order (å, ä, ö last): all, the active ones, or those a round lacks."""
    query = select(Body)
    if active_only:
        query = query.where(Body.active.is_(True))
    if not_in_round is not None:
        query = query.where(Body.id.not_in(select(Referral.body_id).where(Referral.round_id == not_in_round)))
    return sorted(session.scalars(query).all(), key=lambda b: swedish_key(b.name))
