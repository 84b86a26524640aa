"""Plain builders for tests: `create_*` makes one object with sensible defaults and flushes it.

They call the workflow where it exists, so a builder cannot make what the rules forbid.
"""
import itertools
from datetime import date, datetime, timezone
from pathlib import Path

from remiss import accounts, bodies, drafts, strategies
from remiss.models import Referral, ReferralRound, ReferralState, Role, RoundState

PASSWORD = "correct horse battery"
BUILT_AT = datetime(2021, 1, 4, 8, 0, tzinfo=timezone.utc)
_numbers = itertools.count(1)


def create_body(session, *, name=None, kind="board", code=None, mailbox=None):
    n = next(_numbers)
    return bodies.create_body(session, None, BUILT_AT, name=name or f"Nämnd {n}", kind=kind,
                              code=code or f"N{n}", mailbox=mailbox or f"namnd{n}@kommun.example")


def create_user(session, *, role=Role.SECRETARY, bodies=(), email=None, name=None, password=PASSWORD,
                locale="sv"):
    n = next(_numbers)
    return accounts.create_user(session, None, BUILT_AT, email=email or f"user{n}@kommun.example",
                                name=name or f"Användare {n}", role=role, body_ids=[b.id for b in bodies],
                                password=password, locale=locale)


def create_officer(session, **fields):
    return create_user(session, role=Role.OFFICER, **fields)


def create_admin(session, **fields):
    return create_user(session, role=Role.ADMIN, **fields)


def create_secretary(session, body, **fields):
    return create_user(session, role=Role.SECRETARY, bodies=[body], **fields)


def create_strategy(session, *, officer=None, title=None, case_reference=None):
    n = next(_numbers)
    officer = officer or create_officer(session)
    return strategies.create_strategy(session, officer, BUILT_AT, title=title or f"Strategi {n}",
                                      case_reference=case_reference or f"KS 2021/{n:04d}", officer=officer)


def create_draft(session, strategy, *, text="# Inledning\nBakgrund.\n\n# Syfte och mål\nMålen.\n\n# Ansvar\nVem gör vad."):
    """A draft version from pasted text (fast); import the Kalmar .docx where the file itself matters."""
    return drafts.import_text(session, strategy.officer, BUILT_AT, strategy, text=text)


def create_round(session, strategy, recipients, *, deadline=date(2021, 3, 26), state=RoundState.OPEN):
    """A round already launched to `recipients` (launching itself belongs to the rounds workflow)."""
    draft = strategy.drafts[-1] if strategy.drafts else create_draft(session, strategy)
    launched = BUILT_AT if state != RoundState.DRAFT else None
    round_ = ReferralRound(strategy_id=strategy.id, draft_id=draft.id, state=state, deadline=deadline,
                           reply_label=f"Remissvar {strategy.title}", created_at=BUILT_AT, launched_at=launched)
    session.add(round_)
    session.flush()
    for body in recipients:
        session.add(Referral(round_id=round_.id, body_id=body.id, state=ReferralState.INVITED,
                             deadline=deadline, invited_at=launched))
    session.flush()
    return round_


def create_password_link(session, user, *, purpose="invitation", now=None) -> str:
    """A live single-use link for `user` (as mailed), returned as its path: `/password/<token>`.
    Issued at `now`, by default the clock's now, so it has not expired."""
    from urllib.parse import urlsplit

    from remiss import clock

    link = accounts.issue_password_link(session, now or clock.now(), user, purpose)
    return urlsplit(link).path


KALMAR_DRAFT = Path(__file__).resolve().parent.parent / "remiss" / "demo" / "kalmar-strategy-draft.docx"


def create_docx_draft(session, strategy, *, path=KALMAR_DRAFT):
    """A draft version imported from a real Word file (the Kalmar draft unless told), kept as uploaded."""
    return drafts.import_docx(session, strategy.officer, BUILT_AT, strategy, filename=path.name,
                              data=path.read_bytes())


def create_extension_request(session, referral, secretary, *, deadline, now=BUILT_AT,
                             reason="Nämnden sammanträder först efter sista svarsdag."):
    """A pending anstånd request from a secretary of the referral's body (through the workflow)."""
    from remiss import extension_requests

    return extension_requests.request_extension(session, secretary, now, referral, requested_deadline=deadline,
                                                reason=reason)
