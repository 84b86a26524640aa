"""Pages anyone may read without signing in: published referral rounds are public records."""
from flask import Blueprint, render_template
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import ReferralRound, RoundState
from ..security import public

bp = Blueprint("public", __name__, url_prefix="/public")


@bp.route("/")
@public
def index():
    rounds = db.session.scalars(
        select(ReferralRound)
        .where(ReferralRound.state.in_([RoundState.OPEN, RoundState.CLOSED]))
        .options(selectinload(ReferralRound.strategy))
        .order_by(ReferralRound.deadline.desc())
    ).all()
    return render_template("public/index.html", rounds=rounds)


@bp.route("/accessibility")
@public
def accessibility():
    return render_template("public/accessibility.html")
