"""Accounts: creating and inviting users, passwords, single-use links and throttled sign-in."""
import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import audit
from .errors import WorkflowError
from .mail import external_url, queue_mail, render_mail
from .models import Body, LoginAttempt, Membership, PasswordToken, Role, User


def _hasher() -> PasswordHasher:
    c = current_app.config
    return PasswordHasher(time_cost=c["ARGON2_TIME_COST"], memory_cost=c["ARGON2_MEMORY_COST"])


def check_password_rules(password: str, email: str = "") -> None:
    if len(password) < current_app.config["PASSWORD_MIN_LENGTH"]:
        raise WorkflowError(
            _l("Lösenordet måste ha minst %(n)s tecken.", n=current_app.config["PASSWORD_MIN_LENGTH"]), "password"
        )
    if email and password.strip().lower() == email.lower():
        raise WorkflowError(_l("Lösenordet får inte vara din e-postadress."), "password")


def set_password(user: User, password: str) -> None:
    check_password_rules(password, user.email)
    user.password_hash = _hasher().hash(password)


def _set_bodies(session: Session, user: User, body_ids) -> None:
    wanted = set(body_ids)
    found = set(session.scalars(select(Body.id).where(Body.id.in_(wanted))).all()) if wanted else set()
    if found != wanted:
        raise WorkflowError(_l("Okänd remissinstans."), "bodies")
    if user.role == Role.SECRETARY and not wanted:
        raise WorkflowError(_l("En nämndsekreterare måste höra till minst en remissinstans."), "bodies")
    user.memberships = [m for m in user.memberships if m.body_id in wanted] + [
        Membership(body_id=b) for b in sorted(wanted - user.body_ids)
    ]


def create_user(session: Session, actor: User | None, now: datetime, *, email: str, name: str, role: str,
                body_ids=(), password: str | None = None, locale: str = "sv", title: str = "") -> User:
    """Add an account. Raises WorkflowError if the address is taken, the role unknown,
    a secretary has no body, or the password breaks the rules."""
    email = email.strip().lower()
    if role not in set(Role):
        raise WorkflowError(_l("Okänd roll."), "role")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise WorkflowError(_l("Det finns redan en användare med den e-postadressen."), "email")
    user = User(email=email, name=name.strip(), role=role, locale=locale, title=title, created_at=now, active=True)
    _set_bodies(session, user, body_ids)
    if password is not None:
        set_password(user, password)
    session.add(user)
    session.flush()
    audit.record(session, actor, now, "user.created", user, after=role)
    return user


def update_user(session: Session, actor: User, now: datetime, user: User, *, name: str, role: str,
                body_ids, active: bool, title: str = "", locale: str | None = None) -> None:
    """Change a user's name, role, bodies or whether they may sign in. An admin cannot lock themself out."""
    if user.id == actor.id and (role != Role.ADMIN or not active):
        raise WorkflowError(_l("Du kan inte ta bort din egen administratörsbehörighet."), "role")
    if role not in set(Role):
        raise WorkflowError(_l("Okänd roll."), "role")
    before = f"{user.role}/{'active' if user.active else 'inactive'}"
    user.name, user.role, user.active, user.title = name.strip(), role, active, title
    user.locale = locale or user.locale
    _set_bodies(session, user, body_ids)
    session.flush()
    audit.record(session, actor, now, "user.updated", user, before=before,
                 after=f"{role}/{'active' if active else 'inactive'}")


def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_password_link(session: Session, now: datetime, user: User, purpose: str) -> str:
    """Queue a mail with a single-use link to set a password; returns the link."""
    hours = current_app.config["INVITATION_VALID_HOURS" if purpose == "invitation" else "PASSWORD_RESET_VALID_HOURS"]
    raw = secrets.token_urlsafe(32)
    token = PasswordToken(user_id=user.id, token_hash=_token_hash(raw), purpose=purpose,
                          created_at=now, expires_at=now + timedelta(hours=hours))
    session.add(token)
    session.flush()
    link = external_url("auth.set_password", token=raw)
    rendered = render_mail(purpose, user.locale, user=user, link=link, valid_hours=hours)
    queue_mail(session, now, key=f"password-token:{token.id}", kind=purpose, to=user.email, rendered=rendered)
    return link


def invite_user(session: Session, actor: User, now: datetime, **fields) -> User:
    """Create an account without a password and mail its owner a link to choose one."""
    user = create_user(session, actor, now, **fields)
    issue_password_link(session, now, user, "invitation")
    return user


def request_password_reset(session: Session, now: datetime, email: str) -> None:
    """Mail a reset link if the address belongs to an active user. Says nothing either way."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is not None and user.active:
        issue_password_link(session, now, user, "reset")


def find_password_token(session: Session, now: datetime, raw: str) -> PasswordToken:
    """The live token for a link, or WorkflowError if it is unknown, used or expired. Consumes nothing."""
    token = session.scalar(select(PasswordToken).where(PasswordToken.token_hash == _token_hash(raw)))
    if token is None or token.used_at is not None or token.expires_at <= now or not token.user.active:
        raise WorkflowError(_l("Länken är ogiltig, redan använd eller för gammal. Be om en ny länk."))
    return token


def set_password_with_token(session: Session, now: datetime, raw: str, password: str) -> User:
    """Use a single-use link: set the password and spend every open link of that user."""
    token = find_password_token(session, now, raw)
    user = token.user
    set_password(user, password)
    for open_token in session.scalars(
        select(PasswordToken).where(PasswordToken.user_id == user.id, PasswordToken.used_at.is_(None))
    ):
        open_token.used_at = now
    session.flush()
    audit.record(session, user, now, f"user.password_set.{token.purpose}", user)
    return user


def _recent_failures(session: Session, since: datetime, column, value) -> int:
    return session.scalar(select(func.count(LoginAttempt.id)).where(column == value, LoginAttempt.at >= since))


def authenticate(session: Session, now: datetime, email: str, password: str, address: str) -> User:
    """Check a sign-in. Raises WorkflowError when the account or the address has too many
    recent failures, or when the address and password do not match an active user."""
    c = current_app.config
    email = email.strip().lower()
    since = now - timedelta(minutes=c["LOGIN_WINDOW_MINUTES"])
    if (_recent_failures(session, since, LoginAttempt.email, email) >= c["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
            or _recent_failures(session, since, LoginAttempt.address, address) >= c["LOGIN_MAX_FAILURES_PER_ADDRESS"]):
        raise WorkflowError(_l("För många misslyckade inloggningsförsök. Vänta %(m)s minuter och försök igen.",
                               m=c["LOGIN_WINDOW_MINUTES"]))
    user = session.scalar(select(User).where(User.email == email))
    if not _password_matches(user, password):
        # Lower-casing can lengthen an address (İ becomes i̇) past the column; no account has such an address.
        session.add(LoginAttempt(email=email[:254], address=address[:64], at=now))
        raise WorkflowError(_l("Fel e-postadress eller lösenord."))
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = _hasher().hash(password)
    user.last_login_at = now
    return user


def _password_matches(user: User | None, password: str) -> bool:
    if user is None or not user.active or not user.password_hash:
        _hasher().hash(password)  # as slow as a real check, so timing does not reveal accounts
        return False
    try:
        return _hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
