"""The register of bodies and users, kept by the admin (systemförvaltare)."""
import os
from email import message_from_bytes, policy

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from .. import accounts, bodies, clock
from ..access import get_body, get_user
from ..extensions import db
from ..forms import BodyForm, UserForm
from ..i18n import swedish_key
from ..models import Membership, OutboxMessage, OutboxState, Role, User
from ..security import roles_required
from ._helpers import flash_done, form_status, submit

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@roles_required(Role.ADMIN)
def _admins_only():
    return None


@bp.route("/")
def index():
    return redirect(url_for("admin.list_bodies"))


@bp.route("/bodies/")
def list_bodies():
    everyone = bodies.list_bodies(db.session)
    members = db.session.scalars(select(Membership).options(selectinload(Membership.user))).all()
    contacts: dict[int, list[User]] = {}
    for m in members:
        contacts.setdefault(m.body_id, []).append(m.user)
    return render_template("admin/bodies.html", bodies=everyone, contacts=contacts)


def _body_page(form: BodyForm, body=None):
    def save():
        fields = dict(name=form.name.data, kind=form.kind.data, code=form.code.data, mailbox=form.mailbox.data)
        if body is None:
            return bodies.create_body(db.session, current_user, clock.now(), **fields)
        bodies.update_body(db.session, current_user, clock.now(), body, active=form.active.data, **fields)
        return body

    if done := submit(form, save):
        flash_done(_("Remissinstansen %(name)s är sparad.", name=done.result.name))
        return redirect(url_for("admin.list_bodies"))
    return render_template("admin/body_form.html", form=form, body=body), form_status(form)


@bp.route("/bodies/new", methods=["GET", "POST"])
def new_body():
    return _body_page(BodyForm())


@bp.route("/bodies/<int:body_id>", methods=["GET", "POST"])
def edit_body(body_id: int):
    body = get_body(body_id, current_user)
    return _body_page(BodyForm(obj=body), body)


@bp.route("/users/")
def list_users():
    users = db.session.scalars(
        select(User).options(selectinload(User.memberships).selectinload(Membership.body))
    ).all()
    return render_template("admin/users.html", users=sorted(users, key=lambda u: swedish_key(u.name)))


def _user_form(user=None) -> UserForm:
    form = UserForm(obj=user)
    form.bodies.choices = [SelectChoice(b.id, b.name) for b in bodies.list_bodies(db.session)]
    if user is not None and not form.is_submitted():
        form.bodies.data = sorted(user.body_ids)
    return form


def _render_user_form(form: UserForm, user=None):
    return render_template("admin/user_form.html", form=form, user=user), form_status(form)


@bp.route("/users/new", methods=["GET", "POST"])
def invite_user():
    form = _user_form()
    if done := submit(form, lambda: accounts.invite_user(
            db.session, current_user, clock.now(), email=form.email.data, name=form.name.data,
            title=form.title.data or "", role=form.role.data, body_ids=form.bodies.data or [],
            locale=form.locale.data)):
        flash_done(_("En inbjudan har skickats till %(email)s.", email=done.result.email))
        return redirect(url_for("admin.list_users"))
    return _render_user_form(form)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id: int):
    user = get_user(user_id, current_user)
    form = _user_form(user)
    del form.email  # the address is the login; a new address is a new account
    if submit(form, lambda: accounts.update_user(
            db.session, current_user, clock.now(), user, name=form.name.data, title=form.title.data or "",
            role=form.role.data, body_ids=form.bodies.data or [], active=form.active.data,
            locale=form.locale.data)):
        flash_done(_("Användaren %(name)s är sparad.", name=user.name))
        return redirect(url_for("admin.list_users"))
    return _render_user_form(form, user)


@bp.route("/users/<int:user_id>/invitation", methods=["POST"])
def resend_invitation(user_id: int):
    user = get_user(user_id, current_user)
    if FlaskForm().validate_on_submit():
        accounts.issue_password_link(db.session, clock.now(), user, "invitation")
        db.session.commit()
        flash_done(_("En ny länk har skickats till %(email)s.", email=user.email))
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/outbox")
def outbox():
    """Mail in the outbox, failures first; with the file backend, the .eml files written."""
    state = request.args.get("state", "")
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(200)
    if state in set(OutboxState):
        query = query.where(OutboxMessage.state == state)
    folder = os.path.join(current_app.instance_path, "outbox")
    files = sorted(os.listdir(folder), reverse=True)[:200] if os.path.isdir(folder) else []
    return render_template("admin/outbox.html", messages=db.session.scalars(query).all(), state=state,
                           states=list(OutboxState), files=files,
                           file_backend=current_app.config["MAIL_BACKEND"] == "file")


@bp.route("/outbox/files/<name>")
def outbox_file(name: str):
    """One written .eml, as text: what the recipient would have received."""
    folder = os.path.join(current_app.instance_path, "outbox")
    if not name.endswith(".eml") or name != os.path.basename(name) or not os.path.isfile(os.path.join(folder, name)):
        abort(404)
    with open(os.path.join(folder, name), "rb") as eml:
        message = message_from_bytes(eml.read(), policy=policy.default)
    body = message.get_body(("plain",))
    return render_template("admin/outbox_file.html", name=name, message=message,
                           text=body.get_content() if body else "",
                           attachments=[part.get_filename() for part in message.iter_attachments()])
