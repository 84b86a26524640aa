"""Referral rounds as the officer runs them: prepare, review, launch, the status board, changes after launch."""
from flask import (Blueprint, Response as HTTPResponse, abort, current_app, flash, redirect, render_template,
                   request, url_for)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectChoice

from .. import bodies as body_register, board, clock, compilation, dispositions, extension_requests, rounds
from ..access import get_referral_for_officer, get_round, get_strategy
from ..calendar import deadline_warnings, local_date
from ..errors import WorkflowError
from ..exports import csv_text, file_stem
from ..extensions import db
from ..forms import (AddBodyForm, DispositionForm, ExtensionDecisionForm, GrantForm, MoveDeadlineForm, ReasonForm, RemindersForm,
                     RoundForm, record_id)
from ..i18n import swedish_key
from ..invitations import zone
from ..models import AuditEvent, Body, BodyKind, Referral, ReferralRound, Role, RoundState, User
from ..security import roles_required
from ..templating import STANCE_LABELS, STATUS_LABELS
from ._helpers import flash_done, form_status, submit

bp = Blueprint("rounds", __name__)


@bp.before_request
@roles_required(Role.OFFICER, Role.ADMIN)
def _officers_only():
    return None


QUICK_PICKS = {"boards": (BodyKind.BOARD,), "companies": (BodyKind.COMPANY,)}


def _round_form(strategy, round_=None) -> RoundForm:
    form = RoundForm(obj=round_)
    form.draft.choices = [SelectChoice(d.id, _("Version %(n)s – %(title)s", n=d.version, title=d.title))
                          for d in reversed(strategy.drafts)]
    everyone = body_register.list_bodies(db.session, active_only=True)
    form.bodies.choices = [SelectChoice(b.id, b.name) for b in everyone]
    officers = db.session.scalars(select(User).where(User.role.in_([Role.OFFICER, Role.ADMIN]),
                                                     User.active.is_(True))).all()
    form.contact.choices = [SelectChoice(u.id, f"{u.name} ({u.email})") for u in officers]
    if not form.is_submitted():
        if round_ is not None:
            form.bodies.data = [r.body_id for r in round_.referrals]
            form.draft.data, form.contact.data = round_.draft_id, round_.contact_id
        else:
            form.deadline.data = rounds.default_deadline(clock.now())
            form.reminder_offsets.data = current_app.config["DEFAULT_REMINDER_OFFSETS"]
            form.contact.data = strategy.officer_id
            form.reply_label.data = f"Remissvar {strategy.title}"  # bodies mark replies with it: Swedish
    pick = request.form.get("quick_pick")
    if pick in QUICK_PICKS:
        chosen = {b.id for b in everyone if b.kind in QUICK_PICKS[pick]}
        form.bodies.data = sorted(set(form.bodies.data or []) | chosen)
    elif pick and pick.startswith("round-"):
        earlier = db.session.get(ReferralRound, record_id(pick.removeprefix("round-")))
        if earlier is not None:
            form.bodies.data = sorted(set(form.bodies.data or []) | {r.body_id for r in earlier.referrals})
    return form


def _round_fields(form: RoundForm, strategy) -> dict:
    draft = next((d for d in strategy.drafts if d.id == form.draft.data), None)
    contact = db.session.get(User, form.contact.data or 0)
    if draft is None:
        raise WorkflowError(_("Välj en version av utkastet."), "draft")
    return dict(draft=draft, deadline=form.deadline.data, body_ids=form.bodies.data or [],
                reply_label=form.reply_label.data, cover_letter=form.cover_letter.data,
                reminder_offsets=form.reminder_offsets.data, contact=contact)


def _render_round_form(form, strategy, round_=None):
    warnings = []
    if form.deadline.data:
        warnings = deadline_warnings(local_date(clock.now(), zone()), form.deadline.data,
                                     current_app.config["REFERRAL_MIN_WEEKS"])
    earlier = [r for r in db.session.scalars(select(ReferralRound).where(ReferralRound.state != RoundState.DRAFT)
                                             .order_by(ReferralRound.created_at.desc()).limit(10))]
    return render_template("rounds/form.html", form=form, strategy=strategy, round=round_, warnings=warnings,
                           earlier_rounds=earlier), form_status(form)


@bp.route("/strategies/<int:strategy_id>/rounds/new", methods=["GET", "POST"])
def new_round(strategy_id: int):
    strategy = get_strategy(strategy_id, current_user)
    if not strategy.drafts:
        flash_done(_("Lägg först till ett utkast; remissen skickar ut en version av det."))
        return redirect(url_for("strategies.new_draft", strategy_id=strategy.id))
    form = _round_form(strategy)
    if not request.form.get("quick_pick") and (done := submit(form, lambda: rounds.create_round(
            db.session, current_user, clock.now(), strategy, **_round_fields(form, strategy)))):
        return redirect(url_for("rounds.show", round_id=done.result.id))
    return _render_round_form(form, strategy)


@bp.route("/rounds/<int:round_id>/edit", methods=["GET", "POST"])
def edit_round(round_id: int):
    round_ = get_round(round_id, current_user)
    try:
        rounds.check_editable(round_)
    except WorkflowError as error:
        flash(str(error.message), "error")
        return redirect(url_for("rounds.show", round_id=round_.id))
    strategy = round_.strategy
    form = _round_form(strategy, round_)
    if not request.form.get("quick_pick") and submit(form, lambda: rounds.update_round(
            db.session, current_user, clock.now(), round_, **_round_fields(form, strategy))):
        return redirect(url_for("rounds.show", round_id=round_.id))
    return _render_round_form(form, strategy, round_)


def _board_context(round_):
    now = clock.now()
    rows = board.board_rows(db.session, round_, now, zone())
    status_filter = request.args.get("status", "")
    shown = [row for row in rows if not status_filter or row.status == status_filter]
    return dict(round=round_, rows=shown, all_rows=rows, counts=board.counts(rows), status_filter=status_filter,
                statuses=board.STATUSES, text=_board_texts(rows),
                latest_compilation=compilation.latest_compilation(db.session, round_),
                warnings=deadline_warnings(local_date(round_.launched_at or now, zone()), round_.deadline,
                                           current_app.config["REFERRAL_MIN_WEEKS"]))


def _board_texts(rows) -> dict:
    """Everything the board says more than once, said once: labels, dates and link patterns.
    A board of 200 rows would otherwise ask gettext, Babel and the URL map 200 times each."""
    from ..i18n import format_day, format_moment
    from ..templating import days_left_text

    statuses = {row.status for row in rows} | {row.extension_state for row in rows if row.extension_state}
    days = {row.deadline for row in rows} | {row.extension_requested for row in rows if row.extension_requested}
    return {
        "received": {day: _("inkom %(day)s", day=format_day(day)) for day in {row.received_on for row in rows
                                                                              if row.received_on}},
        "status": {key: str(STATUS_LABELS.get(key, "")) for key in statuses},
        "stance": {key: str(STANCE_LABELS.get(key, "")) for key in {row.stance for row in rows if row.stance}},
        "day": {day: format_day(day) for day in days},
        "days_left": {n: days_left_text(n) for n in {row.days_left for row in rows}},
        "moment": {when: format_moment(when) for when in {row.last_reminder for row in rows if row.last_reminder}},
        "decide": _("Besluta om anstånd"), "grant": _("Ge anstånd"), "withdraw": _("Återkalla"),
        "register": _("Registrera svar"), "reopen": _("Öppna svaret igen"),
        "decide_url": _id_pattern("rounds.decide_extension"), "withdraw_url": _id_pattern("rounds.withdraw"),
        "register_url": _id_pattern("replies.register"), "reopen_url": _id_pattern("replies.reopen"),
        "version_url": url_for("replies.show_version", referral_id=987654321, number=123456789)
        .replace("987654321", "%d").replace("123456789", "%d"),
    }


def _id_pattern(endpoint: str) -> str:
    """url_for with a %d where the referral id goes (ids are plain integers, so this is exact)."""
    return url_for(endpoint, referral_id=987654321).replace("987654321", "%d")


@bp.route("/rounds/<int:round_id>")
def show(round_id: int):
    round_ = get_round(round_id, current_user)
    return render_template("rounds/show.html", **_board_context(round_), add_form=_add_body_form(round_),
                           move_form=MoveDeadlineForm(), reminders_form=_reminders_form(round_, posted=False))


def _reminders_form(round_, posted: bool = True) -> RemindersForm:
    return RemindersForm() if posted else RemindersForm(formdata=None, obj=round_)


@bp.route("/rounds/<int:round_id>/board.csv")
def board_csv(round_id: int):
    round_ = get_round(round_id, current_user)
    rows = board.board_rows(db.session, round_, clock.now(), zone())
    text = csv_text(
        ["remissinstans", "kortnamn", "status", "sista svarsdag", "dagar kvar", "anstånd", "senaste påminnelse",
         "ställningstagande", "deras diarienummer", "inkom"],
        ([row.body_name, row.body_code, STATUS_LABELS[row.status], row.deadline.isoformat(), row.days_left,
          STATUS_LABELS[row.extension_state] if row.extension_state else "",
          row.last_reminder.isoformat() if row.last_reminder else "", STANCE_LABELS.get(row.stance, ""),
          row.case_reference, row.received_on.isoformat() if row.received_on else ""] for row in rows))
    filename = f"status-{file_stem(round_.strategy.case_reference)}.csv"
    return HTTPResponse(text, mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f"attachment; filename={filename}"})


@bp.route("/rounds/<int:round_id>/launch", methods=["POST"])
def launch(round_id: int):
    round_ = get_round(round_id, current_user)
    return _change(round_, FlaskForm(), lambda: rounds.launch_round(db.session, current_user, clock.now(), round_),
                   ngettext("Remissen är utskickad till %(num)s remissinstans.",
                            "Remissen är utskickad till %(num)s remissinstanser.", len(round_.referrals)))


def _change(round_, form, action, done_message):
    """A change posted from the round's page: done, back to the page; refused, the page again with why."""
    if submit(form, action):
        flash_done(done_message)
        return redirect(url_for("rounds.show", round_id=round_.id))
    forms = {"add_form": form if isinstance(form, AddBodyForm) else _add_body_form(round_, posted=False),
             "move_form": form if isinstance(form, MoveDeadlineForm) else MoveDeadlineForm(formdata=None),
             "reminders_form": form if isinstance(form, RemindersForm) else _reminders_form(round_, posted=False)}
    errors = [*form.form_errors, *(error for field in form for error in field.errors)]
    return render_template("rounds/show.html", **_board_context(round_), **forms, action_errors=errors), 422


def _add_body_form(round_, posted: bool = True) -> AddBodyForm:
    form = AddBodyForm() if posted else AddBodyForm(formdata=None)
    absent = body_register.list_bodies(db.session, active_only=True, not_in_round=round_.id)
    form.body.choices = [SelectChoice(b.id, b.name) for b in absent]
    return form


@bp.route("/rounds/<int:round_id>/bodies", methods=["POST"])
def add_body(round_id: int):
    round_ = get_round(round_id, current_user)
    form = _add_body_form(round_)
    body = db.session.get(Body, form.body.data or 0)
    return _change(round_, form, lambda: rounds.add_body(db.session, current_user, clock.now(), round_, body,
                                                         form.deadline.data),
                   _("%(name)s har fått remissen.", name=body.name if body else ""))


@bp.route("/rounds/<int:round_id>/deadline", methods=["POST"])
def move_deadline(round_id: int):
    round_ = get_round(round_id, current_user)
    form = MoveDeadlineForm()
    return _change(round_, form, lambda: rounds.move_deadline(db.session, current_user, clock.now(), round_,
                                                              form.deadline.data, form.reason.data or ""),
                   _("Sista svarsdag är flyttad och remissinstanserna har fått besked."))


@bp.route("/rounds/<int:round_id>/reminders", methods=["POST"])
def change_reminders(round_id: int):
    round_ = get_round(round_id, current_user)
    form = RemindersForm()
    return _change(round_, form, lambda: rounds.change_reminders(db.session, current_user, clock.now(), round_,
                                                                 form.reminder_offsets.data),
                   _("Påminnelserna är ändrade."))


@bp.route("/rounds/<int:round_id>/cancel", methods=["GET", "POST"])
def cancel(round_id: int):
    round_ = get_round(round_id, current_user)
    form = ReasonForm()
    if submit(form, lambda: rounds.cancel_round(db.session, current_user, clock.now(), round_, form.reason.data)):
        flash_done(_("Remissomgången är avbruten."))
        return redirect(url_for("rounds.show", round_id=round_.id))
    return render_template("rounds/reason.html", form=form, round=round_, referral=None,
                           heading=_("Avbryt remissomgången"), submit_label=_("Avbryt remissomgången")), \
        form_status(form)


@bp.route("/referrals/<int:referral_id>/withdraw", methods=["GET", "POST"])
def withdraw(referral_id: int):
    referral = get_referral_for_officer(referral_id, current_user)
    form = ReasonForm()
    if submit(form, lambda: rounds.withdraw_referral(db.session, current_user, clock.now(), referral,
                                                     form.reason.data)):
        flash_done(_("Remissen till %(name)s är återkallad.", name=referral.body.name))
        return redirect(url_for("rounds.show", round_id=referral.round_id))
    return render_template("rounds/reason.html", form=form, round=referral.round, referral=referral,
                           heading=_("Återkalla remissen till %(name)s", name=referral.body.name),
                           submit_label=_("Återkalla remissen")), form_status(form)


@bp.route("/referrals/<int:referral_id>/extension-decision", methods=["GET", "POST"])
def decide_extension(referral_id: int):
    """Grant or refuse a pending anstånd request, or grant one unasked."""
    referral = get_referral_for_officer(referral_id, current_user)
    pending = extension_requests.pending_request(db.session, referral)
    form = ExtensionDecisionForm() if pending else GrantForm()
    if pending and not form.is_submitted():
        form.decision.data, form.deadline.data = "grant", pending.requested_deadline

    def decide():
        if pending and form.decision.data == "refuse":
            return extension_requests.refuse_extension(db.session, current_user, clock.now(), pending,
                                                       reason=form.reason.data or "")
        return extension_requests.grant_extension(db.session, current_user, clock.now(), referral,
                                                  deadline=form.deadline.data, reason=form.reason.data or "",
                                                  request=pending)

    if submit(form, decide):
        flash_done(_("Beslutet om anstånd för %(name)s är sparat och skickat.", name=referral.body.name))
        return redirect(url_for("rounds.show", round_id=referral.round_id))
    return render_template("rounds/extension.html", form=form, referral=referral, pending=pending), \
        form_status(form)


@bp.route("/rounds/<int:round_id>/history")
def history(round_id: int):
    round_ = get_round(round_id, current_user)
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.round_id == round_.id)
                                .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())).all()
    actors = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_({e.actor_id for e in events})))}
    return render_template("rounds/history.html", round=round_, events=events, actors=actors)


@bp.route("/rounds/<int:round_id>/mail")
def mail_log(round_id: int):
    """Per body: the mails sent, reminders planned, the next reminder due, and failures."""
    from ..models import OutboxMessage, PlannedReminder
    from ..reminders import next_reminder

    round_ = get_round(round_id, current_user)
    referrals = sorted(round_.referrals, key=lambda r: swedish_key(r.body.name))
    ids = [r.id for r in referrals]
    messages, planned = {}, {}
    for message in db.session.scalars(select(OutboxMessage).where(OutboxMessage.referral_id.in_(ids))
                                      .order_by(OutboxMessage.created_at, OutboxMessage.id)):
        messages.setdefault(message.referral_id, []).append(message)
    for reminder in db.session.scalars(select(PlannedReminder).where(PlannedReminder.referral_id.in_(ids))
                                       .order_by(PlannedReminder.due_at)):
        planned.setdefault(reminder.referral_id, []).append(reminder)
    now = clock.now()
    return render_template("rounds/mail.html", round=round_, referrals=referrals, messages=messages,
                           planned=planned, upcoming={r.id: next_reminder(r, now, zone()) for r in referrals})


def _disposition_prefix(referral_id: int, section_key: str) -> str:
    return f"c{referral_id}-{section_key}"


@bp.route("/rounds/<int:round_id>/handling", methods=["GET", "POST"])
def handling(round_id: int):
    """Every submitted comment, section by section, each with a form for the officer's disposition; a filter by
    body, section and unhandled, kept through every save so the officer goes on where they were."""
    round_ = get_round(round_id, current_user)
    asked = {"body": request.args.get("body", ""), "section": request.args.get("section", ""),
             "unhandled": request.args.get("unhandled", "")}
    posted, target = None, None
    if request.method == "POST":
        referral_text, _sep, section_key = request.form.get("comment", "").partition(":")
        referral = db.session.get(Referral, record_id(referral_text) or 0)
        if referral is None or referral.round_id != round_.id or len(section_key) > 64:
            abort(404)
        target = (referral.id, section_key)
        posted = DispositionForm(prefix=_disposition_prefix(*target))
        if submit(posted, lambda: dispositions.set_disposition(
                db.session, current_user, clock.now(), referral, section_key, posted.decision.data,
                posted.reason.data or "")):
            flash_done(_("Ställningstagandet för %(name)s är sparat.", name=referral.body.name))
            kept = {name: value for name, value in asked.items() if value and len(value) <= 64}  # none is longer
            return redirect(url_for("rounds.handling", round_id=round_.id, **kept,
                                    _anchor=f"comment-{referral.id}-{section_key}"))
    sections = dispositions.handling_rows(db.session, round_, clock.now(), zone())
    every = [row for section in sections for row in section.rows]
    handled = sum(1 for row in every if row.disposition is not None)
    chosen = dispositions.read_filter(sections, **asked)
    forms = {}
    for row in every:
        key = (row.referral_id, row.section_key)
        if key == target:
            forms[key] = posted
        else:
            decided = row.disposition or row.earlier
            data = {"decision": decided.decision, "reason": decided.reason} if decided else {}
            forms[key] = DispositionForm(formdata=None, prefix=_disposition_prefix(*key), data=data)
    # The row just posted stays in sight with its errors, whatever the filter.
    shown = dispositions.filter_sections(sections, chosen.body_id, chosen.section_key, chosen.unhandled, keep=target)
    status = form_status(posted) if posted is not None else 200
    if posted is not None and target not in forms:  # the comment is not in the submitted version
        status = 422
    return render_template("rounds/handling.html", round=round_, sections=shown, forms=forms,
                           handled=handled, total=len(every), chosen=chosen,
                           shown_count=sum(len(section.rows) for section in shown),
                           posted=posted if posted is not None and target not in forms else None), status
