"""Strategies (ärenden) and their drafts, as the officer sees them."""
from io import BytesIO

from flask import Blueprint, abort, render_template, send_file
from flask_login import current_user

from ..access import get_draft, get_strategy, visible_strategies
from ..extensions import db
from ..models import Strategy

bp = Blueprint("strategies", __name__, url_prefix="/strategies")


@bp.route("/")
def list_strategies():
    strategies = db.session.scalars(visible_strategies(current_user).order_by(Strategy.created_at.desc())).all()
    return render_template("strategies/list.html", strategies=strategies)


@bp.route("/<int:strategy_id>")
def show(strategy_id: int):
    strategy = get_strategy(strategy_id, current_user)
    return render_template("strategies/show.html", strategy=strategy)


@bp.route("/<int:strategy_id>/drafts/<int:draft_id>/file")
def download_draft(strategy_id: int, draft_id: int):
    draft = get_draft(get_strategy(strategy_id, current_user), draft_id)
    if draft.file is None:
        abort(404)
    return send_file(BytesIO(draft.file.data), mimetype=draft.file.content_type, as_attachment=True,
                     download_name=draft.file.filename)
