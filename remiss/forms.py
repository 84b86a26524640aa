"""Forms: the shape of what is posted. The rules live in the workflow."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, EmailField, PasswordField, RadioField, SelectChoice, SelectField,
                     SelectMultipleField, StringField)
from wtforms import widgets
from wtforms.validators import Email, InputRequired, Length, Optional

from .models import BodyKind, Role

ROLE_CHOICES = [
    SelectChoice(Role.SECRETARY, _l("Nämndsekreterare / kontaktperson")),
    SelectChoice(Role.OFFICER, _l("Strateg / handläggare")),
    SelectChoice(Role.ADMIN, _l("Systemförvaltare")),
]
KIND_CHOICES = [
    SelectChoice(BodyKind.BOARD, _l("Nämnd")),
    SelectChoice(BodyKind.COMPANY, _l("Bolag")),
    SelectChoice(BodyKind.ADMINISTRATION, _l("Förvaltning")),
    SelectChoice(BodyKind.COUNCIL, _l("Råd")),
    SelectChoice(BodyKind.EXTERNAL, _l("Extern")),
]

REQUIRED = _l("Fyll i fältet.")


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class SignInForm(FlaskForm):
    email = EmailField(_l("E-postadress"), validators=[InputRequired(REQUIRED), Length(max=254)],
                       render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Lösenord"), validators=[InputRequired(REQUIRED)],
                             render_kw={"autocomplete": "current-password"})


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("E-postadress"), validators=[
        InputRequired(REQUIRED), Email(_l("Skriv en e-postadress, till exempel namn@kommun.se.")), Length(max=254)],
        render_kw={"autocomplete": "email"})


class SetPasswordForm(FlaskForm):
    password = PasswordField(_l("Nytt lösenord"), validators=[InputRequired(REQUIRED)],
                             description=_l("Minst 10 tecken. En fras av flera ord är lätt att minnas."),
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Upprepa lösenordet"), validators=[InputRequired(REQUIRED)],
                            render_kw={"autocomplete": "new-password"})

    def validate_confirm(self, field):
        if field.data != self.password.data:
            from wtforms.validators import ValidationError
            raise ValidationError(_l("Lösenorden är inte lika."))


class BodyForm(FlaskForm):
    name = StringField(_l("Namn"), validators=[InputRequired(REQUIRED), Length(max=200)],
                       description=_l("Till exempel Socialnämnden eller Kalmarhem AB."))
    kind = RadioField(_l("Typ"), choices=KIND_CHOICES, validators=[InputRequired(_l("Välj en typ."))])
    code = StringField(_l("Kortnamn"), validators=[InputRequired(REQUIRED), Length(max=20)],
                       description=_l("En förkortning som används i listor, till exempel SN."))
    mailbox = EmailField(_l("Funktionsbrevlåda"), validators=[
        InputRequired(REQUIRED), Email(_l("Skriv en e-postadress, till exempel namn@kommun.se.")), Length(max=254)],
        description=_l("Dit går inbjudningar och påminnelser, till exempel socialnamnden@kommun.se."))
    active = BooleanField(_l("Aktiv (kan få remisser)"), default=True)


class UserForm(FlaskForm):
    email = EmailField(_l("E-postadress"), validators=[
        InputRequired(REQUIRED), Email(_l("Skriv en e-postadress, till exempel namn@kommun.se.")), Length(max=254)])
    name = StringField(_l("Namn"), validators=[InputRequired(REQUIRED), Length(max=200)])
    title = StringField(_l("Titel"), validators=[Optional(), Length(max=200)],
                        description=_l("Till exempel nämndsekreterare."))
    role = RadioField(_l("Roll"), choices=ROLE_CHOICES, validators=[InputRequired(_l("Välj en roll."))])
    bodies = MultiCheckboxField(_l("Remissinstanser"), coerce=int, validate_choice=False,
                                description=_l("De remissinstanser användaren svarar för."))
    locale = SelectField(_l("Språk i e-post"), choices=[SelectChoice("sv", "Svenska"), SelectChoice("en", "English")], default="sv")
    active = BooleanField(_l("Kan logga in"), default=True)
