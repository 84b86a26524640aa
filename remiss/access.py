"""Loaders that check who may see an object. Anything a user may not see answers 404, as if it did not exist."""
from flask import abort
from sqlalchemy import Select, exists, select

from .extensions import db
from .models import Body, Draft, Membership, Referral, ReferralRound, Role, RoundState, Strategy, User


def _strategies_of_secretary(user: User) -> Select:
    """Strategies with a launched round that was sent to one of the user's bodies."""
    sent_to_my_body = (
        select(Referral.id)
        .join(ReferralRound, Referral.round_id == ReferralRound.id)
        .join(Membership, Membership.body_id == Referral.body_id)
        .where(Membership.user_id == user.id, ReferralRound.strategy_id == Strategy.id,
               ReferralRound.state != RoundState.DRAFT)
    )
    return select(Strategy).where(exists(sent_to_my_body))


def visible_strategies(user: User) -> Select:
    if user.has_role(Role.OFFICER, Role.ADMIN):
        return select(Strategy)
    return _strategies_of_secretary(user)


def get_strategy(strategy_id: int, user: User) -> Strategy:
    strategy = db.session.scalar(visible_strategies(user).where(Strategy.id == strategy_id))
    return strategy or abort(404)


def get_draft(strategy: Strategy, draft_id: int) -> Draft:
    draft = db.session.get(Draft, draft_id)
    if draft is None or draft.strategy_id != strategy.id:
        abort(404)
    return draft


def get_body(body_id: int, user: User) -> Body:
    body = db.session.get(Body, body_id) if user.has_role(Role.ADMIN) else None
    return body or abort(404)


def get_user(user_id: int, user: User) -> User:
    found = db.session.get(User, user_id) if user.has_role(Role.ADMIN) else None
    return found or abort(404)
