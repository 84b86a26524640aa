"""Jinja filters, the values every page needs, and the error pages."""
from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from . import i18n
from .forms import KIND_CHOICES, ROLE_CHOICES

def _label(choices):
    table = {choice.value: choice.label for choice in choices}
    return lambda value: str(table.get(value, value))


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
        deadline=i18n.format_deadline, moment=i18n.format_moment, day=i18n.format_day,
        body_kind=_label(KIND_CHOICES), role_label=_label(ROLE_CHOICES),
    )
    app.context_processor(_page_context)

    @app.errorhandler(404)
    def not_found(error):
        return _error_page(404, _("Sidan finns inte"),
                           _("Sidan du söker finns inte, eller så har du inte behörighet att se den."))

    @app.errorhandler(413)
    def too_large(error):
        limit = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
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
