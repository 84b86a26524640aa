"""Jinja filters, the values every page needs, and the error pages."""
from flask import Flask, g, render_template, request
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError

from . import i18n
from .forms import DECISION_CHOICES, KIND_CHOICES, ROLE_CHOICES


def _memoised(kind: str, function):
    """A filter that computes each (value, language) once per request. A board of 200 rows
    shows the same few labels and dates over and over; each gettext or Babel call costs."""
    def memoised(value):
        cache = g.setdefault("_filter_memo", {})
        key = (kind, value, i18n.language())
        if key not in cache:
            cache[key] = function(value)
        return cache[key]
    return memoised


def _label(choices):
    table = {choice.value: choice.label for choice in choices}
    return lambda value: str(table.get(value, value))


STATUS_LABELS = {
    "invited": _l("inbjuden"), "in_progress": _l("påbörjad"), "submitted": _l("inskickad"),
    "declined": _l("avstår"), "overdue": _l("försenad"), "late": _l("sen"), "withdrawn": _l("återkallad"),
    "draft": _l("utkast"), "open": _l("utskickad"), "closed": _l("avslutad"), "cancelled": _l("avbruten"),
    "requested": _l("begärt"), "granted": _l("beviljat"), "refused": _l("avslaget"),
    "pending": _l("väntar"), "sent": _l("skickat"), "failed": _l("misslyckades"),
    "on_referral": _l("på remiss"), "referral_closed": _l("remiss avslutad"),
    "round_prepared": _l("remiss förbereds"), "drafted": _l("utkast finns"), "new": _l("nytt"),
}
STANCE_LABELS = {
    "approves": _l("tillstyrker"), "approves_with_comments": _l("tillstyrker med synpunkter"),
    "rejects": _l("avstyrker"), "no_comments": _l("inga synpunkter"),
    "abstains": _l("avstår från att yttra sig"),
}
ACTION_LABELS = {
    "strategy.created": _l("Ärendet skapades"), "strategy.updated": _l("Ärendet ändrades"),
    "draft.added": _l("Ny version av utkastet"),
    "draft.outline_corrected": _l("Utkastets rubriker bekräftades"), "round.created": _l("Remissomgången förbereddes"),
    "round.updated": _l("Remissomgången ändrades"), "round.launched": _l("Remissen skickades ut"),
    "round.deadline_moved": _l("Sista svarsdag flyttades"), "round.reminders_changed": _l("Påminnelserna ändrades"),
    "round.cancelled": _l("Remissomgången avbröts"),
    "referral.added": _l("Remissinstans lades till"), "referral.withdrawn": _l("Remissen återkallades"),
    "extension.requested": _l("Anstånd begärdes"), "extension.granted": _l("Anstånd beviljades"),
    "extension.refused": _l("Anstånd avslogs"),
    "referral.started": _l("Svaret påbörjades"), "reply.submitted": _l("Svaret skickades in"),
    "reply.declined": _l("Remissinstansen avstod från att svara"), "reply.reopened": _l("Svaret öppnades igen"),
    "comment.handled": _l("Ställning togs till en synpunkt"), "round.compiled": _l("En remissammanställning skapades"),
}

# How a heading of an uploaded draft was found (remiss.outline), in the officer's words.
FOUND_BY_LABELS = {
    "style": _l("rubrikformat"), "outline": _l("dispositionsnivå"), "bold": _l("fet rad"),
    "size": _l("större text"), "manual": _l("ändrad av dig"),
}


def _lookup(table):
    return lambda value: str(table.get(value, value or ""))


def days_left_text(n: int) -> str:
    """'12 dagar kvar', '1 dag kvar', '3 dagar sen'."""
    if n >= 0:
        return ngettext("%(num)s dag kvar", "%(num)s dagar kvar", n)
    return ngettext("%(num)s dag sen", "%(num)s dagar sen", -n)


def received_text(version) -> str:
    """When a kept reply came in (inkom, board.received_on): the day the officer entered for one
    registered from e-mail or paper; the moment it was sent for one sent in the app."""
    from flask_babel import format_date

    from .board import received_on

    content = version.content or {}
    if content.get("registered_by_officer") and content.get("received_on"):
        return format_date(received_on(content["received_on"], version.submitted_at, i18n.local_zone()),
                           "EEEE d MMMM y")
    return i18n.format_moment(version.submitted_at)


def _page_context():
    return {
        "lang": i18n.language(),
        "languages": i18n.LANGUAGE_NAMES,
        "current_path": request.full_path.rstrip("?") if request else "/",
    }


def _error_page(status: int, title: str, message: str):
    return render_template("errors/error.html", status=status, title=title, message=message), status


def init_app(app: Flask) -> None:
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.filters.update(
        deadline=_memoised("deadline", i18n.format_deadline), moment=i18n.format_moment,
        day=_memoised("day", i18n.format_day), days_left=_memoised("days", days_left_text),
        body_kind=_label(KIND_CHOICES), role_label=_label(ROLE_CHOICES),
        status_label=_memoised("status", _lookup(STATUS_LABELS)),
        stance_label=_memoised("stance", _lookup(STANCE_LABELS)),
        outbox_state=_lookup(STATUS_LABELS), action_label=_lookup(ACTION_LABELS),
        decision_label=_label(DECISION_CHOICES), found_by=_lookup(FOUND_BY_LABELS), received=received_text,
    )
    app.context_processor(_page_context)

    @app.errorhandler(404)
    def not_found(error):
        return _error_page(404, _("Sidan finns inte"),
                           _("Sidan du söker finns inte, eller så har du inte behörighet att se den."))

    @app.errorhandler(413)
    def too_large(error):
        limit = app.config["MAX_UPLOAD_SIZE"] // (1024 * 1024)
        return _error_page(413, _("Filen är för stor"),
                           _("Filen är större än %(mb)s MB. Välj en mindre fil och försök igen.", mb=limit))

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        return _error_page(400, _("Formuläret kunde inte skickas"),
                           _("Formuläret saknade sin säkerhetskod. Gå tillbaka, ladda om sidan och försök igen."))

    @app.errorhandler(400)
    def bad_request(error):
        return _error_page(400, _("Felaktig begäran"), _("Begäran kunde inte tolkas. Gå tillbaka och försök igen."))

    @app.errorhandler(405)
    def method_not_allowed(error):
        return _error_page(405, _("Felaktig begäran"), _("Begäran kunde inte tolkas. Gå tillbaka och försök igen."))

    @app.errorhandler(500)
    def server_error(error):
        return _error_page(500, _("Något gick fel"),
                           _("Ett fel uppstod hos oss. Det du skrev kan ha gått förlorat; försök igen om en stund."))
