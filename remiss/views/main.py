"""The start page: what each role needs first."""
from flask import Blueprint, render_template
from flask_login import current_user

from ..access import visible_strategies
from ..extensions import db
from ..i18n import swedish_key
from ..models import Role, Strategy

bp = Blueprint("main", __name__)


@bp.route("/")
def index():
    strategies = db.session.scalars(visible_strategies(current_user).order_by(Strategy.created_at.desc())).all()
    bodies = sorted((m.body for m in current_user.memberships), key=lambda b: swedish_key(b.name))
    return render_template("main/index.html", strategies=strategies, bodies=bodies,
                           is_officer=current_user.has_role(Role.OFFICER, Role.ADMIN))
