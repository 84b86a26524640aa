"""The remissammanställning as the officer sees it: a preview, the kept Word documents and their PDFs, the
comment exports. A PDF is only asked for here; the scheduler makes it (jobs.make_pending_pdfs)."""
from io import BytesIO

from flask import (Blueprint, Response as HTTPResponse, abort, flash, redirect, render_template,
                   send_file, url_for)
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from .. import clock, compilation, pdf
from ..access import get_round
from ..compilation_document import chart_description, chart_png
from ..exports import file_stem
from ..extensions import db
from ..forms import CompilationForm
from ..reply_documents import docx_paragraphs, xml_line
from ..invitations import zone
from ..models import Compilation, Role
from ..security import roles_required
from ._helpers import flash_done, form_status, submit

bp = Blueprint("compilations", __name__)

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.before_request
@roles_required(Role.OFFICER, Role.ADMIN)
def _officers_only():
    return None


def _summary(round_):
    return compilation.summarize(db.session, round_, clock.now(), zone())


@bp.route("/rounds/<int:round_id>/compilation", methods=["GET", "POST"])
def show(round_id: int):
    """The compilation as it would read now, the form that makes and keeps one (with the officer's
    background and assessment, the latest compilation's to begin with), and those made before."""
    round_ = get_round(round_id, current_user)
    kept = compilation.compilations_of(db.session, round_)
    form = CompilationForm()
    if not form.is_submitted() and kept:
        form.background.data, form.assessment.data = kept[0].background, kept[0].assessment
    texts = dict(background=form.background.data or "", assessment=form.assessment.data or "")
    done = submit(form, lambda: compilation.record_compilation(db.session, current_user, clock.now(), round_,
                                                               zone(), **texts,
                                                               gather_empty=bool(form.gather_empty.data)))
    if done:
        flash_done(_("Sammanställningen är skapad. Ladda ner den nedan."))
        return redirect(url_for("compilations.show", round_id=round_.id, _anchor="kept"))
    now = clock.now()
    summary = compilation.summarize(db.session, round_, now, zone(), **texts)
    handled = sum(1 for c in summary.comments if c.decision)
    since = compilation.replies_since(db.session, kept[0], summary) if kept else []
    return render_template("compilations/show.html", round=round_, summary=summary, form=form,
                           kept=kept, since=since, handled=handled, pdf_form=FlaskForm(),
                           not_passed=compilation.deadline_not_passed(summary.entries, now, zone()),
                           pdf_available=pdf.soffice_path() is not None,
                           chart_text=chart_description(summary), zone=zone(),
                           columns=compilation.OVERVIEW_COLUMNS, reply_texts=compilation.REPLY_TEXTS,
                           submitted_on=compilation.submitted_on, reply_facts=compilation.reply_facts,
                           paragraphs=docx_paragraphs, line=xml_line), form_status(form)


@bp.route("/rounds/<int:round_id>/compilation/chart.png")
def chart(round_id: int):
    round_ = get_round(round_id, current_user)
    return HTTPResponse(chart_png(_summary(round_)), mimetype="image/png")


@bp.route("/rounds/<int:round_id>/compilation/comments.csv")
def comments_csv(round_id: int):
    round_ = get_round(round_id, current_user)
    return _attachment(compilation.comments_csv(_summary(round_)).encode("utf-8"), "text/csv",
                       _export_name(round_, "csv"))


@bp.route("/rounds/<int:round_id>/compilation/comments.xlsx")
def comments_xlsx(round_id: int):
    round_ = get_round(round_id, current_user)
    return _attachment(compilation.comments_xlsx(_summary(round_)), XLSX_TYPE, _export_name(round_, "xlsx"))


def _kept(round_id: int, compilation_id: int) -> Compilation:
    round_ = get_round(round_id, current_user)
    kept = db.session.get(Compilation, compilation_id)
    if kept is None or kept.round_id != round_.id:
        abort(404)
    return kept


@bp.route("/rounds/<int:round_id>/compilations/<int:compilation_id>.docx")
def download(round_id: int, compilation_id: int):
    """A kept compilation, exactly as it was made."""
    kept = _kept(round_id, compilation_id)
    return _attachment(kept.file.data, kept.file.content_type, kept.file.filename)


@bp.route("/rounds/<int:round_id>/compilations/<int:compilation_id>/pdf", methods=["POST"])
def request_pdf(round_id: int, compilation_id: int):
    """Ask for the PDF of a kept compilation; the scheduler makes it within a minute or so."""
    kept = _kept(round_id, compilation_id)
    form = FlaskForm()
    if submit(form, lambda: compilation.request_pdf(db.session, current_user, clock.now(), kept)):
        flash_done(_("PDF:en skapas. Ladda om sidan om en stund för att ladda ner den."))
    for message in form.form_errors:
        flash(str(message), "error")
    return redirect(url_for("compilations.show", round_id=round_id, _anchor="kept"))


@bp.route("/rounds/<int:round_id>/compilations/<int:compilation_id>.pdf")
def download_pdf(round_id: int, compilation_id: int):
    """A kept compilation's PDF, once the scheduler has made it."""
    kept = _kept(round_id, compilation_id)
    if kept.pdf_file is None:
        abort(404)
    return _attachment(kept.pdf_file.data, kept.pdf_file.content_type, kept.pdf_file.filename)


def _export_name(round_, extension: str) -> str:
    return f"synpunkter-{file_stem(round_.strategy.case_reference)}.{extension}"


def _attachment(data: bytes, mimetype: str, name: str):
    return send_file(BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=name)
