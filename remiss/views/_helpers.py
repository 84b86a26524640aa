"""What every view does the same way: one unit of work per posted form, and its errors on the form."""
from dataclasses import dataclass
from typing import Any, Callable

from flask import current_app, flash
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..errors import WorkflowError
from ..extensions import db


@dataclass(frozen=True)
class Done:
    result: Any = None


def submit(form: FlaskForm, action: Callable[[], Any]) -> Done | None:
    """Validate the posted form, run the workflow call, commit. None when the form was not posted,
    not valid, or the workflow refused: then nothing is kept and the message is on the form."""
    if not form.validate_on_submit():
        return None
    try:
        result = action()
        db.session.commit()
    except WorkflowError as error:
        db.session.rollback()
        show_workflow_error(form, error)
        form.refusal = error  # for a view that shows more than the message (an edit conflict)
        return None
    except (IntegrityError, StaleDataError):
        # Two people changed the same thing at the same moment and the database kept the first: the
        # second is told so, with what they typed still in the form, instead of an error page.
        db.session.rollback()
        current_app.logger.warning("a concurrent change was refused by the database", exc_info=True)
        form.form_errors.append(_("Någon annan ändrade samma sak just nu. Ladda om sidan och försök igen; "
                                  "det du skrev finns kvar i formuläret."))
        return None
    return Done(result)


def show_workflow_error(form: FlaskForm, error: WorkflowError) -> None:
    """Attach the error to its field if the form has it, else to the whole form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


def flash_done(message: str) -> None:
    flash(message, "success")


def form_status(form: FlaskForm) -> int:
    """422 when a posted form is shown again with errors, so tests and tools can tell."""
    return 422 if form.errors or form.form_errors else 200
