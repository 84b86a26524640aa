"""What every view does the same way: turn a WorkflowError into a form error."""
from flask import flash
from flask_wtf import FlaskForm

from ..errors import WorkflowError


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
