"""Strategies (ärenden) and their draft versions, as the officer sees them."""
from io import BytesIO

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from .. import clock, drafts, strategies
from ..access import get_draft, get_strategy, visible_strategies
from ..errors import WorkflowError
from ..extensions import db
from ..forms import DraftForm, StrategyForm, outline_form_for
from ..invitations import zone
from ..models import AuditEvent, ReferralRound, Role, Strategy, User
from ..security import roles_required
from ._helpers import flash_done, form_status, submit

bp = Blueprint("strategies", __name__, url_prefix="/strategies")


@bp.route("/")
def list_strategies():
    found = db.session.scalars(visible_strategies(current_user).order_by(Strategy.created_at.desc())
                               .options(selectinload(Strategy.drafts), selectinload(Strategy.officer))).all()
    return render_template("strategies/list.html", strategies=found,
                           states=strategies.strategy_states(db.session, found))


def _strategy_form(strategy=None) -> StrategyForm:
    form = StrategyForm(obj=strategy)
    officers = db.session.scalars(select(User).where(User.role.in_([Role.OFFICER, Role.ADMIN]),
                                                     User.active.is_(True)).order_by(User.name)).all()
    form.officer.choices = [SelectChoice(u.id, u.name) for u in officers]
    if not form.is_submitted():
        form.officer.data = strategy.officer_id if strategy else current_user.id
    return form


def _chosen_officer(form: StrategyForm) -> User:
    officer = db.session.get(User, form.officer.data or 0)
    if officer is None:
        raise WorkflowError(_("Välj en ansvarig strateg."), "officer")
    return officer


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.OFFICER, Role.ADMIN)
def new():
    form = _strategy_form()
    if done := submit(form, lambda: strategies.create_strategy(
            db.session, current_user, clock.now(), title=form.title.data, officer=_chosen_officer(form),
            case_reference=form.case_reference.data, description=form.description.data or "")):
        flash_done(_("Ärendet är skapat. Lägg till utkastet."))
        return redirect(url_for("strategies.new_draft", strategy_id=done.result.id))
    return render_template("strategies/form.html", form=form, strategy=None), form_status(form)


@bp.route("/<int:strategy_id>/edit", methods=["GET", "POST"])
@roles_required(Role.OFFICER, Role.ADMIN)
def edit(strategy_id: int):
    strategy = get_strategy(strategy_id, current_user)
    form = _strategy_form(strategy)
    if submit(form, lambda: strategies.update_strategy(
            db.session, current_user, clock.now(), strategy, title=form.title.data,
            case_reference=form.case_reference.data, officer=_chosen_officer(form),
            description=form.description.data or "")):
        flash_done(_("Ärendet är sparat."))
        return redirect(url_for("strategies.show", strategy_id=strategy.id))
    return render_template("strategies/form.html", form=form, strategy=strategy), form_status(form)


@bp.route("/<int:strategy_id>")
def show(strategy_id: int):
    strategy = get_strategy(strategy_id, current_user)
    if not current_user.has_role(Role.OFFICER, Role.ADMIN):
        abort(404)  # a secretary reads the draft from their referral's page
    found_rounds = db.session.scalars(select(ReferralRound).where(ReferralRound.strategy_id == strategy.id)
                                      .options(selectinload(ReferralRound.referrals))
                                      .order_by(ReferralRound.created_at.desc())).all()
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.strategy_id == strategy.id)
                                .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(200)).all()
    actors = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_({e.actor_id for e in events})))}
    return render_template("strategies/show.html", strategy=strategy, rounds=found_rounds, events=events,
                           actors=actors)


@bp.route("/<int:strategy_id>/drafts/new", methods=["GET", "POST"])
@roles_required(Role.OFFICER, Role.ADMIN)
def new_draft(strategy_id: int):
    strategy = get_strategy(strategy_id, current_user)
    form = DraftForm()

    def add_version():
        upload = form.file.data
        if upload and upload.filename:
            data = upload.read(current_app.config["MAX_UPLOAD_SIZE"] + 1)
            return drafts.import_docx(db.session, current_user, clock.now(), strategy,
                                      filename=upload.filename, data=data)
        if (form.text.data or "").strip():
            return drafts.import_text(db.session, current_user, clock.now(), strategy, text=form.text.data,
                                      title=form.title.data or "")
        raise WorkflowError(_("Välj en Word-fil eller klistra in texten."), "file")

    if done := submit(form, add_version):
        draft = done.result
        flash_done(ngettext("Version %(n)s är sparad med %(num)s avsnitt.",
                            "Version %(n)s är sparad med %(num)s avsnitt.", len(draft.sections), n=draft.version))
        if draft.cleaned:
            flash(_("Filen innehåller %(what)s. Remissinstanserna får en rensad kopia; originalet sparas åt dig.",
                    what=draft.cleaned), "warning")
        # A Word file's headings are shown for the officer to confirm before the version goes out.
        target = "strategies.outline" if draft.file else "strategies.show_draft"
        return redirect(url_for(target, strategy_id=strategy.id, draft_id=draft.id))
    return render_template("strategies/draft_form.html", form=form, strategy=strategy), form_status(form)


@bp.route("/<int:strategy_id>/drafts/<int:draft_id>/outline", methods=["GET", "POST"])
@roles_required(Role.OFFICER, Role.ADMIN)
def outline(strategy_id: int, draft_id: int):
    strategy = get_strategy(strategy_id, current_user)
    draft = get_draft(strategy, draft_id)
    if draft.file is None:
        abort(404)
    parsed = drafts.outline(draft)
    form = outline_form_for(parsed.outline)
    if submit(form, lambda: drafts.correct_outline(
            db.session, current_user, clock.now(), draft,
            {line.paragraph: form[f"level_{line.paragraph}"].data for line in parsed.outline})):
        flash_done(ngettext("Rubrikerna är bekräftade: %(num)s avsnitt.", "Rubrikerna är bekräftade: %(num)s avsnitt.",
                            len(draft.sections)))
        return redirect(url_for("strategies.show_draft", strategy_id=strategy.id, draft_id=draft.id))
    return render_template("strategies/outline.html", strategy=strategy, draft=draft, parsed=parsed, form=form,
                           locked=drafts.in_launched_round(db.session, draft)), form_status(form)


@bp.route("/<int:strategy_id>/drafts/<int:draft_id>")
def show_draft(strategy_id: int, draft_id: int):
    strategy = get_strategy(strategy_id, current_user)
    if not current_user.has_role(Role.OFFICER, Role.ADMIN):
        abort(404)
    return render_template("strategies/draft.html", strategy=strategy, draft=get_draft(strategy, draft_id))


@bp.route("/<int:strategy_id>/compare")
def compare(strategy_id: int):
    strategy = get_strategy(strategy_id, current_user)
    if not current_user.has_role(Role.OFFICER, Role.ADMIN) or len(strategy.drafts) < 2:
        abort(404)
    old = get_draft(strategy, request.args.get("from", type=int) or strategy.drafts[-2].id)
    new = get_draft(strategy, request.args.get("to", type=int) or strategy.drafts[-1].id)
    return render_template("strategies/compare.html", strategy=strategy, old=old, new=new,
                           comparison=drafts.compare_with_comments(db.session, old, new, clock.now(), zone()))


@bp.route("/<int:strategy_id>/drafts/<int:draft_id>/file")
def download_draft(strategy_id: int, draft_id: int):
    strategy = get_strategy(strategy_id, current_user)
    if not current_user.has_role(Role.OFFICER, Role.ADMIN):
        abort(404)  # a secretary downloads the version sent to them from their referral's page
    draft = get_draft(strategy, draft_id)
    # The officer's original by default; ?copy=clean is the copy the bodies get.
    kept = draft.clean_file if request.args.get("copy") == "clean" else draft.file
    if kept is None:
        abort(404)
    return send_file(BytesIO(kept.data), mimetype=kept.content_type, as_attachment=True,
                     download_name=kept.filename)
