"""Strategies (ärenden): the matter a referral is about. Draft versions live in drafts.py."""
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit
from .errors import WorkflowError
from .models import ReferralRound, Role, RoundState, Strategy, User


def create_strategy(session: Session, actor: User, now: datetime, *, title: str, case_reference: str,
                    officer: User, description: str = "") -> Strategy:
    """Open a matter. Raises WorkflowError when the case reference is taken or the officer is not one."""
    case_reference = " ".join(case_reference.split())
    if not officer.has_role(Role.OFFICER, Role.ADMIN):
        raise WorkflowError(_l("Ansvarig måste vara strateg eller administratör."), "officer")
    if session.scalar(select(Strategy.id).where(Strategy.case_reference == case_reference)) is not None:
        raise WorkflowError(_l("Diarienumret används redan av ett annat ärende."), "case_reference")
    strategy = Strategy(title=title.strip(), case_reference=case_reference, description=description,
                        officer_id=officer.id, created_at=now)
    session.add(strategy)
    session.flush()
    audit.record(session, actor, now, "strategy.created", strategy, strategy_id=strategy.id)
    return strategy


# Where a matter stands, derived from its rounds and drafts, the most advanced first.
STRATEGY_STATES = ("on_referral", "referral_closed", "round_prepared", "drafted", "new")


def strategy_states(session: Session, strategies: list[Strategy]) -> dict[int, str]:
    """Each strategy's state (never stored): one query for the rounds, drafts already loaded."""
    rounds: dict[int, set[str]] = {}
    for strategy_id, state in session.execute(
        select(ReferralRound.strategy_id, ReferralRound.state)
        .where(ReferralRound.strategy_id.in_([s.id for s in strategies]))
    ):
        rounds.setdefault(strategy_id, set()).add(state)
    states = {}
    for strategy in strategies:
        seen = rounds.get(strategy.id, set())
        states[strategy.id] = (
            "on_referral" if RoundState.OPEN in seen else
            "referral_closed" if seen & {RoundState.CLOSED, RoundState.CANCELLED} else
            "round_prepared" if RoundState.DRAFT in seen else
            "drafted" if strategy.drafts else "new")
    return states


def update_strategy(session: Session, actor: User, now: datetime, strategy: Strategy, *, title: str,
                    case_reference: str, officer: User, description: str = "") -> None:
    """Change a matter's details; the same rules as create_strategy."""
    case_reference = " ".join(case_reference.split())
    if not officer.has_role(Role.OFFICER, Role.ADMIN):
        raise WorkflowError(_l("Ansvarig måste vara strateg eller administratör."), "officer")
    taken = select(Strategy.id).where(Strategy.case_reference == case_reference, Strategy.id != strategy.id)
    if session.scalar(taken) is not None:
        raise WorkflowError(_l("Diarienumret används redan av ett annat ärende."), "case_reference")
    before = strategy.case_reference
    strategy.title, strategy.case_reference = title.strip(), case_reference
    strategy.officer_id, strategy.description = officer.id, description
    session.flush()
    audit.record(session, actor, now, "strategy.updated", strategy, before=before, after=case_reference,
                 strategy_id=strategy.id)
