"""Pages anyone may read without signing in: launched referral rounds, who they went to, and the
replies received (public records once received). A body's unsent working copy never shows here:
every reply is read through remiss.publication, which reads only submitted versions."""
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from io import BytesIO

from flask import Blueprint, Response, abort, render_template, send_file
from flask_babel import gettext as _

from .. import clock, publication
from ..extensions import db
from ..i18n import format_deadline, language
from ..mail import external_url
from ..models import ReferralRound
from ..security import public
from ..templating import STANCE_LABELS, STATUS_LABELS

bp = Blueprint("public", __name__, url_prefix="/public")

ATOM = "http://www.w3.org/2005/Atom"
ATOM_TYPE = "application/atom+xml"
FEED_SIZE = 50


@bp.route("/")
@public
def index():
    return render_template("public/index.html", rounds=publication.list_published_rounds(db.session))


@bp.route("/rounds/<int:round_id>")
@public
def show_round(round_id: int):
    round_ = publication.get_published_round(db.session, round_id) or abort(404)
    recipients = publication.list_recipients(db.session, round_)
    return render_template("public/round.html", round=round_, strategy=round_.strategy, recipients=recipients,
                           answered=sum(1 for r in recipients if r.version is not None),
                           total=sum(1 for r in recipients if not r.withdrawn))


@bp.route("/rounds/<int:round_id>/replies/<int:referral_id>")
@public
def show_reply(round_id: int, referral_id: int):
    referral, version = publication.get_published_reply(db.session, round_id, referral_id) or abort(404)
    content = version.content
    # The shared partial lists attachments as names; here they are links, listed by this page.
    return render_template("public/reply.html", referral=referral, round=referral.round,
                           strategy=referral.round.strategy, version=version,
                           content={**content, "attachments": []}, attachments=content.get("attachments") or [])


@bp.route("/files/<int:file_id>")
@public
def download_file(file_id: int):
    stored = publication.get_public_file(db.session, file_id) or abort(404)
    return send_file(BytesIO(stored.data), mimetype=stored.content_type, as_attachment=True,
                     download_name=stored.filename)


@bp.route("/feed.atom")
@public
def feed():
    rounds, replies = publication.list_feed_entries(db.session, FEED_SIZE)
    items = publication.newest(rounds, replies, FEED_SIZE)
    return Response(ET.tostring(_atom(items), encoding="utf-8", xml_declaration=True), mimetype=ATOM_TYPE)


@bp.route("/accessibility")
@public
def accessibility():
    return render_template("public/accessibility.html")


# ---------------------------------------------------------------- the Atom feed (RFC 4287)

def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _add(parent: ET.Element, tag: str, text: str | None = None, **attributes) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: v for k, v in attributes.items() if v is not None})
    if text is not None:
        element.text = text
    return element


def _atom(items: list) -> ET.Element:
    root = ET.Element("feed", {"xmlns": ATOM, "xml:lang": language()})
    self_url = external_url("public.feed")
    _add(root, "id", self_url)
    _add(root, "title", _("Publicerade remisser"))
    _add(root, "subtitle", _("Nya remisser och inkomna remissvar."))
    _add(root, "updated", _rfc3339(publication.published_at(items[0]) if items else clock.now()))
    _add(root, "link", rel="self", href=self_url, type=ATOM_TYPE)
    _add(root, "link", rel="alternate", href=external_url("public.index"), type="text/html")
    _add(_add(root, "author"), "name", "Remiss")
    for item in items:
        if isinstance(item, ReferralRound):
            _round_entry(root, item)
        else:
            _reply_entry(root, item)
    return root


def _round_entry(root: ET.Element, round_: ReferralRound) -> None:
    url = external_url("public.show_round", round_id=round_.id)
    entry = _add(root, "entry")
    _add(entry, "id", url)
    _add(entry, "title", _("Ny remiss: %(title)s", title=round_.strategy.title))
    _add(entry, "published", _rfc3339(round_.launched_at))
    _add(entry, "updated", _rfc3339(round_.launched_at))
    _add(entry, "link", rel="alternate", href=url, type="text/html")
    _add(entry, "summary", _("%(case)s, svar senast %(deadline)s", case=round_.strategy.case_reference,
                             deadline=format_deadline(round_.deadline)))


def _reply_entry(root: ET.Element, reply: publication.PublishedReply) -> None:
    version = reply.version
    url = external_url("public.show_reply", round_id=reply.round_id, referral_id=reply.referral_id)
    entry = _add(root, "entry")
    # Every submitted version is an entry of its own; the page shows the latest one.
    _add(entry, "id", f"{url}#version-{version.number}")
    title = _("Remissvar från %(body)s på %(title)s", body=reply.body_name, title=reply.strategy_title)
    if version.number > 1:
        title += " " + _("(version %(n)s)", n=version.number)
    _add(entry, "title", title)
    _add(entry, "published", _rfc3339(version.submitted_at))
    _add(entry, "updated", _rfc3339(version.submitted_at))
    _add(entry, "link", rel="alternate", href=url, type="text/html")
    _add(_add(entry, "author"), "name", reply.body_name)
    summary = f"{reply.case_reference}: {STANCE_LABELS.get(version.content.get('stance'), '')}"
    if version.late:
        summary += f" ({STATUS_LABELS['late']})"
    _add(entry, "summary", summary)
