"""Sign-in, sign-out, single-use password links and the language switch."""
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm

from .. import accounts, clock
from ..errors import WorkflowError
from ..extensions import db
from ..forms import ForgotPasswordForm, SetPasswordForm, SignInForm
from ..security import public
from ._helpers import flash_done, show_workflow_error

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only follow `next` within this site, never to another host."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("main.index")


def _start_session(user) -> None:
    """A fresh session on sign-in (no fixation), keeping only the chosen language."""
    chosen = session.get("locale")
    logout_user()
    session.clear()
    if chosen:
        session["locale"] = chosen
    login_user(user)


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = SignInForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(db.session, clock.now(), form.email.data, form.password.data,
                                         request.remote_addr or "unknown")
        except WorkflowError as error:
            db.session.commit()  # keep the failed attempt: it is what throttling counts
            show_workflow_error(form, error)
        else:
            db.session.commit()
            _start_session(user)
            return redirect(_safe_next(request.args.get("next")))
    form.password.data = ""
    return render_template("auth/sign_in.html", form=form), 200 if not form.errors else 422


@bp.route("/sign-out", methods=["POST"])
@public
def sign_out():
    form = FlaskForm()
    if form.validate_on_submit():
        logout_user()
        session.clear()
        flash_done(_("Du är utloggad."))
    return redirect(url_for("auth.sign_in"))


@bp.route("/forgot-password", methods=["GET", "POST"])
@public
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        accounts.request_password_reset(db.session, clock.now(), form.email.data)
        db.session.commit()
        return render_template("auth/forgot_password_sent.html", email=form.email.data)
    return render_template("auth/forgot_password.html", form=form), 200 if not form.errors else 422


@bp.route("/password/<token>", methods=["GET", "POST"])
@public
def set_password(token: str):
    """The link from an invitation or reset mail. GET only shows the form: mail scanners open
    every link, so the token is spent by the POST alone."""
    try:
        password_token = accounts.find_password_token(db.session, clock.now(), token)
    except WorkflowError as error:
        return render_template("auth/link_invalid.html", message=error.message), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = accounts.set_password_with_token(db.session, clock.now(), token, form.password.data)
        except WorkflowError as error:
            show_workflow_error(form, error)
        else:
            db.session.commit()
            _start_session(user)
            flash_done(_("Ditt lösenord är sparat. Välkommen!"))
            return redirect(url_for("main.index"))
    response = current_app.make_response((
        render_template("auth/set_password.html", form=form, purpose=password_token.purpose,
                        user=password_token.user),
        200 if not form.errors else 422,
    ))
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in this page's address
    return response


@bp.route("/language", methods=["POST"])
@public
def language():
    form = FlaskForm()
    chosen = request.form.get("locale")
    if not form.validate_on_submit() or chosen not in current_app.config["LOCALES"]:
        abort(400)
    session["locale"] = chosen
    if current_user.is_authenticated and current_user.locale != chosen:
        current_user.locale = chosen
        db.session.commit()
    return redirect(_safe_next(request.form.get("next")))
