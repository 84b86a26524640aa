"""Loaders that check who may see an object. Anything a user may not see answers 404, as if it did not exist."""
from flask import abort
from sqlalchemy import Select, exists, select
from werkzeug.routing import IntegerConverter

from .extensions import db
from .models import Body, Draft, Membership, Referral, ReferralRound, Role, RoundState, Strategy, User


MAX_ID = 2**31 - 1  # ids are INTEGER columns; a larger number overflows the driver instead of finding nothing


class IdConverter(IntegerConverter):
    """`<int:…>` in every route: a number larger than an id is no object, so the URL does not match
    (404) instead of overflowing in the database driver (500)."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_ID,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def _get(model, id_: int):
    """session.get, where an id no column can hold is simply not found."""
    return db.session.get(model, id_) if -MAX_ID <= id_ <= MAX_ID else None


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
    if not -MAX_ID <= strategy_id <= MAX_ID:
        abort(404)
    strategy = db.session.scalar(visible_strategies(user).where(Strategy.id == strategy_id))
    return strategy or abort(404)


def get_draft(strategy: Strategy, draft_id: int) -> Draft:
    draft = _get(Draft, draft_id)
    if draft is None or draft.strategy_id != strategy.id:
        abort(404)
    return draft


def get_body(body_id: int, user: User) -> Body:
    body = _get(Body, body_id) if user.has_role(Role.ADMIN) else None
    return body or abort(404)


def get_user(user_id: int, user: User) -> User:
    found = _get(User, user_id) if user.has_role(Role.ADMIN) else None
    return found or abort(404)


def get_round(round_id: int, user: User) -> ReferralRound:
    """A round, for the officers who run rounds."""
    round_ = _get(ReferralRound, round_id) if user.has_role(Role.OFFICER, Role.ADMIN) else None
    return round_ or abort(404)


def get_referral_for_officer(referral_id: int, user: User) -> Referral:
    referral = _get(Referral, referral_id) if user.has_role(Role.OFFICER, Role.ADMIN) else None
    return referral or abort(404)


def get_referral(referral_id: int, user: User) -> Referral:
    """A referral of a launched round, for a secretary of its body (officers see every one)."""
    referral = _get(Referral, referral_id)
    if referral is None or referral.round.state == RoundState.DRAFT:
        abort(404)
    if not (user.has_role(Role.OFFICER, Role.ADMIN) or referral.body_id in user.body_ids):
        abort(404)
    return referral


def get_referral_to_answer(referral_id: int, user: User) -> Referral:
    """A referral whose reply the user may write: a secretary of its body, in a launched round."""
    referral = get_referral(referral_id, user)
    if referral.body_id not in user.body_ids:
        abort(404)
    return referral


def get_version(referral: Referral, number: int):
    """A submitted version of a referral already loaded through a checking loader: public once
    submitted, so whoever may see the referral may read it."""
    from .models import Response, ResponseVersion

    version = db.session.scalar(select(ResponseVersion).join(Response).where(
        Response.referral_id == referral.id, ResponseVersion.number == number))
    return version or abort(404)
