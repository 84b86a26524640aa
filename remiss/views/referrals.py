"""A referral as its body sees it: the cover letter, the deadline, the draft, and asking for anstånd."""
from io import BytesIO

from flask import Blueprint, abort, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from .. import clock, extension_requests, invitations
from ..access import get_referral
from ..docx_files import DOCX_TYPE
from ..board import referral_status
from ..responses import is_locked
from ..extensions import db
from ..forms import ExtensionRequestForm
from ..i18n import swedish_key
from ..invitations import officer_of, zone
from ..models import Body, ExtensionRequest, Referral, Response
from ._helpers import flash_done, form_status, submit

bp = Blueprint("referrals", __name__, url_prefix="/referrals")


def _page(referral: Referral, form: ExtensionRequestForm):
    response = db.session.scalar(select(Response).where(Response.referral_id == referral.id))
    requests = db.session.scalars(select(ExtensionRequest).where(ExtensionRequest.referral_id == referral.id)
                                  .order_by(ExtensionRequest.requested_at.desc())).all()
    # The sändlista in one query, in Swedish order (not a lazy load per referral).
    recipients = sorted(db.session.scalars(select(Body.name).join(Referral, Referral.body_id == Body.id)
                                           .where(Referral.round_id == referral.round_id)), key=swedish_key)
    return render_template(
        "referrals/show.html", referral=referral, round=referral.round, strategy=referral.round.strategy,
        draft=referral.round.draft, officer=officer_of(referral), form=form, requests=requests,
        pending=next((r for r in requests if r.state == "requested"), None), recipients=recipients,
        status=referral_status(referral, response, clock.now(), zone()),
        may_request=referral.body_id in current_user.body_ids, response=response,
        versions=response.versions if response else [], locked=is_locked(referral, clock.now()),
    ), form_status(form)


@bp.route("/<int:referral_id>")
def show(referral_id: int):
    return _page(get_referral(referral_id, current_user), ExtensionRequestForm(formdata=None))


@bp.route("/<int:referral_id>/extension", methods=["POST"])
def request_extension(referral_id: int):
    referral = get_referral(referral_id, current_user)
    form = ExtensionRequestForm()
    if submit(form, lambda: extension_requests.request_extension(
            db.session, current_user, clock.now(), referral, requested_deadline=form.requested_deadline.data,
            reason=form.reason.data)):
        flash_done(_("Er begäran om anstånd är skickad till %(name)s.", name=officer_of(referral).name))
        return redirect(url_for("referrals.show", referral_id=referral.id))
    return _page(referral, form)


@bp.route("/<int:referral_id>/svarsmall")
def download_reply_template(referral_id: int):
    """The svarsmall, made afresh for this body and the version it was sent."""
    name, data = invitations.reply_template(get_referral(referral_id, current_user), clock.now())
    return send_file(BytesIO(data), mimetype=DOCX_TYPE, as_attachment=True, download_name=name)


@bp.route("/<int:referral_id>/draft")
def download_draft(referral_id: int):
    outgoing = get_referral(referral_id, current_user).round.draft.outgoing_file
    if outgoing is None:
        abort(404)
    return send_file(BytesIO(outgoing.data), mimetype=outgoing.content_type, as_attachment=True,
                     download_name=outgoing.filename)
