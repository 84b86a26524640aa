"""The start page: what each role needs first."""
from dataclasses import dataclass

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import board, calendar, clock, digest
from ..access import visible_strategies
from ..strategies import strategy_states
from ..extensions import db
from ..i18n import swedish_key
from ..invitations import zone
from ..models import Referral, ReferralRound, Response, Role, RoundState, Strategy

bp = Blueprint("main", __name__)


@dataclass(frozen=True)
class InboxItem:
    referral: Referral
    status: str
    days_left: int

    @property
    def open(self) -> bool:
        return self.status in ("invited", "in_progress", "overdue")


def _inbox(now) -> list[InboxItem]:
    """The secretary's referrals: open ones first by deadline, then the answered ones."""
    found = db.session.execute(
        select(Referral, Response).outerjoin(Response, Response.referral_id == Referral.id)
        .join(ReferralRound, ReferralRound.id == Referral.round_id)
        .where(Referral.body_id.in_(current_user.body_ids), ReferralRound.state != RoundState.DRAFT)
        .options(selectinload(Referral.body), selectinload(Referral.round).selectinload(ReferralRound.strategy))
    ).all()
    items = [InboxItem(r, board.referral_status(r, resp, now, zone()), calendar.days_left(r.deadline, now, zone()))
             for r, resp in found]
    day = lambda i: i.referral.deadline.toordinal()  # noqa: E731
    return sorted(items, key=lambda i: (not i.open, day(i) if i.open else -day(i)))


@bp.route("/")
def index():
    now = clock.now()
    is_officer = current_user.has_role(Role.OFFICER, Role.ADMIN)
    strategies = db.session.scalars(visible_strategies(current_user).order_by(Strategy.created_at.desc())
                                    .options(selectinload(Strategy.drafts), selectinload(Strategy.officer))).all() \
        if is_officer else []
    bodies = sorted((m.body for m in current_user.memberships), key=lambda b: swedish_key(b.name))
    return render_template(
        "main/index.html", strategies=strategies, bodies=bodies, is_officer=is_officer,
        states=strategy_states(db.session, strategies),
        inbox=_inbox(now) if bodies else [],
        summaries=board.open_round_summaries(db.session, now, zone()) if is_officer else [],
        pending_extensions=board.pending_extension_requests(db.session) if is_officer else [],
        awaiting=_awaiting_compilation(now) if is_officer else [],
    )


def _awaiting_compilation(now) -> list[digest.AwaitingCompilation]:
    """The officer's own rounds ready to compile; an admin, who keeps an eye on the whole
    municipality, sees every officer's."""
    officer = None if current_user.has_role(Role.ADMIN) else current_user
    return digest.awaiting_compilation(db.session, now, zone(), officer)
