"""Plain builders for tests: `create_*` makes one object with sensible defaults and flushes it.

They call the workflow where it exists, so a builder cannot make what the rules forbid.
"""
import itertools
from datetime import date, datetime, timezone

from remiss import accounts, bodies, strategies
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


def create_draft(session, strategy, *, data=b"PK\x03\x04 not a real docx", filename="utkast.docx"):
    return strategies.add_draft_file(session, strategy.officer, BUILT_AT, strategy, filename=filename, data=data)


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
