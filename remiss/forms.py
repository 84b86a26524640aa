"""Forms: the shape of what is posted. The rules live in the workflow."""
import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import MultiDict
from wtforms import (BooleanField, DateField, EmailField, HiddenField, PasswordField, RadioField, SelectChoice, SelectField,
                     SelectMultipleField, StringField, TextAreaField)
from wtforms import FieldList, FormField
from wtforms import Form as SubForm
from wtforms import widgets
from wtforms.validators import AnyOf, Email, InputRequired, Length, Optional, ValidationError

from .access import MAX_ID
from config import Config

from .models import BodyKind, Role, Stance

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


# C0 control characters but tab, line feed and carriage return: PostgreSQL cannot store NUL, a
# Word file cannot hold the others, and no one types them on purpose.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# Inside a one-line field a line break is one too (at its ends the workflow strips it): a title or
# a name becomes a mail's Subject, and Python's email refuses a header with any of these
# (str.splitlines) and stops the outbox.
_LINE_BREAKS = re.compile(r"[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


class HiddenTextField(HiddenField):
    """A hidden field carrying text of several lines (read from a Word reply) from one page to the next."""


def _no_control_characters(form, field) -> None:
    values = [v for v in (field.data if isinstance(field.data, list) else [field.data]) if isinstance(v, str)]
    one_line = isinstance(field, StringField) and not isinstance(field, (TextAreaField, PasswordField,
                                                                         HiddenTextField))
    if any(_CONTROL_CHARACTERS.search(v) or (one_line and _LINE_BREAKS.search(v.strip())) for v in values):
        raise ValidationError(_l("Texten innehåller osynliga styrtecken, till exempel från inklistrad text. "
                                 "Skriv om den och försök igen."))


def record_id(value) -> int:
    """coerce= for a choice of a row. What cannot be an id (not a number, or too large for the column)
    becomes 0, which is no row: the workflow then says "unknown …" instead of the driver overflowing."""
    try:
        number = int(value)
    except ValueError:
        return 0
    return number if -MAX_ID <= number <= MAX_ID else 0


class Form(FlaskForm):
    """Every form of the app: what all of them refuse, whatever their fields."""

    def validate(self, extra_validators=None):
        extra = {name: list(validators) for name, validators in (extra_validators or {}).items()}
        for name in self._fields:
            extra.setdefault(name, []).append(_no_control_characters)
        return super().validate(extra)


class SignInForm(Form):
    email = EmailField(_l("E-postadress"), validators=[InputRequired(REQUIRED), Length(max=254)],
                       render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Lösenord"), validators=[InputRequired(REQUIRED)],
                             render_kw={"autocomplete": "current-password"})


class ForgotPasswordForm(Form):
    email = EmailField(_l("E-postadress"), validators=[
        InputRequired(REQUIRED), Email(_l("Skriv en e-postadress, till exempel namn@kommun.se.")), Length(max=254)],
        render_kw={"autocomplete": "email"})


class SetPasswordForm(Form):
    password = PasswordField(_l("Nytt lösenord"), validators=[InputRequired(REQUIRED)],
                             description=_l("Minst %(n)s tecken. En fras av flera ord är lätt att minnas.",
                                            n=Config.PASSWORD_MIN_LENGTH),
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Upprepa lösenordet"), validators=[InputRequired(REQUIRED)],
                            render_kw={"autocomplete": "new-password"})

    def validate_confirm(self, field):
        if field.data != self.password.data:
            from wtforms.validators import ValidationError
            raise ValidationError(_l("Lösenorden är inte lika."))


class BodyForm(Form):
    name = StringField(_l("Namn"), validators=[InputRequired(REQUIRED), Length(max=200)],
                       description=_l("Till exempel Socialnämnden eller Kalmarhem AB."))
    kind = RadioField(_l("Typ"), choices=KIND_CHOICES, validators=[InputRequired(_l("Välj en typ."))])
    code = StringField(_l("Kortnamn"), validators=[InputRequired(REQUIRED), Length(max=20)],
                       description=_l("En förkortning som används i listor, till exempel SN."))
    mailbox = EmailField(_l("Funktionsbrevlåda"), validators=[
        InputRequired(REQUIRED), Email(_l("Skriv en e-postadress, till exempel namn@kommun.se.")), Length(max=254)],
        description=_l("Dit går inbjudningar och påminnelser, till exempel socialnamnden@kommun.se."))
    active = BooleanField(_l("Aktiv (kan få remisser)"), default=True)


class UserForm(Form):
    email = EmailField(_l("E-postadress"), validators=[
        InputRequired(REQUIRED), Email(_l("Skriv en e-postadress, till exempel namn@kommun.se.")), Length(max=254)])
    name = StringField(_l("Namn"), validators=[InputRequired(REQUIRED), Length(max=200)])
    title = StringField(_l("Titel"), validators=[Optional(), Length(max=200)],
                        description=_l("Till exempel nämndsekreterare."))
    role = RadioField(_l("Roll"), choices=ROLE_CHOICES, validators=[InputRequired(_l("Välj en roll."))])
    bodies = MultiCheckboxField(_l("Remissinstanser"), coerce=record_id, validate_choice=False,
                                description=_l("De remissinstanser användaren svarar för."))
    locale = SelectField(_l("Språk i e-post"), choices=[SelectChoice("sv", "Svenska"), SelectChoice("en", "English")], default="sv")
    active = BooleanField(_l("Kan logga in"), default=True)


# ------------------------------------------------------------------ strategies, drafts, rounds

DATE_FORMAT_ERROR = _l("Skriv datumet som ÅÅÅÅ-MM-DD, till exempel 2021-03-26.")


class LocalDateField(DateField):
    """A date typed as 2021-03-26 (or picked); a bad value gets our message, and is kept as typed."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(DATE_FORMAT_ERROR) from None


class StrategyForm(Form):
    title = StringField(_l("Titel"), validators=[InputRequired(REQUIRED), Length(max=300)],
                        description=_l("Till exempel Strategi för internationellt arbete."))
    case_reference = StringField(_l("Diarienummer"), validators=[InputRequired(REQUIRED), Length(max=50)],
                                 description=_l("Till exempel KS 2020/0946."))
    officer = SelectField(_l("Ansvarig strateg"), coerce=record_id, validate_choice=False)
    description = TextAreaField(_l("Beskrivning"), validators=[Optional(), Length(max=20000)],
                                description=_l("Valfritt. Syftet med strategin, i korthet."))


class DraftForm(Form):
    file = FileField(_l("Word-fil (.docx)"), description=_l(
        "Rubrikerna i dokumentet (Rubrik 1–3 eller Heading 1–3) blir avsnitt som remissinstanserna kan "
        "kommentera. Högst 20 MB."), render_kw={"accept": ".docx"})
    text = TextAreaField(_l("Eller klistra in texten"), validators=[Optional(), Length(max=500000)],
                         description=_l("Rader som börjar med # blir rubriker: # Rubrik 1, ## Rubrik 2."))
    title = StringField(_l("Titel på versionen"), validators=[Optional(), Length(max=300)],
                        description=_l("Valfritt. Annars används dokumentets titel."))


OUTLINE_LEVELS = 9  # as many as Word has


class OutlineForm(Form):
    """Which paragraphs are headings: one level field per line of the outline, made by outline_form_for."""


def outline_form_for(lines, **kwargs) -> OutlineForm:
    """A level (0 = not a heading) per line the outline page lists, defaulting to what was found."""
    choices = [SelectChoice(0, _l("Ingen rubrik"))] + [SelectChoice(n, _l("Nivå %(n)s", n=n))
                                                       for n in range(1, OUTLINE_LEVELS + 1)]
    fields = {f"level_{line.paragraph}": SelectField(line.text[:200], coerce=int, choices=choices,
                                                     default=min(line.level or 0, OUTLINE_LEVELS))
              for line in lines}
    return type("DraftOutlineForm", (OutlineForm,), fields)(**kwargs)


class RoundForm(Form):
    draft = SelectField(_l("Version av utkastet"), coerce=record_id, validate_choice=False)
    deadline = LocalDateField(_l("Sista svarsdag"), validators=[InputRequired(DATE_FORMAT_ERROR)],
                         description=_l("Svaren ska ha kommit in senast kl. 23.59 den dagen."))
    bodies = MultiCheckboxField(_l("Sändlista"), coerce=record_id, validate_choice=False,
                                description=_l("De remissinstanser som ska få remissen."))
    reply_label = StringField(_l("Märkning av svaren"), validators=[InputRequired(REQUIRED), Length(max=200)],
                              description=_l("Till exempel Remissvar Internationell strategi."))
    cover_letter = TextAreaField(_l("Missiv"), validators=[InputRequired(REQUIRED), Length(max=20000)],
                                 description=_l("Följebrevet: vad remissen gäller och vad ni vill ha synpunkter på."))
    reminder_offsets = StringField(_l("Påminnelser"), validators=[InputRequired(REQUIRED), Length(max=100)],
                                   description=_l("Dagar före (-) och efter (+) sista svarsdag, till exempel "
                                                  "-14,-7,-2,0,+1,+7. Påminnelser går ut kl. 08.00 på arbetsdagar."))
    contact = SelectField(_l("Kontaktperson för remissen"), coerce=record_id, validate_choice=False)


class AddBodyForm(Form):
    body = SelectField(_l("Remissinstans"), coerce=record_id, validate_choice=False)
    deadline = LocalDateField(_l("Egen sista svarsdag"), validators=[Optional()],
                         description=_l("Valfritt. Annars gäller remissens sista svarsdag."))


class RemindersForm(Form):
    reminder_offsets = StringField(_l("Påminnelser"), validators=[InputRequired(REQUIRED), Length(max=100)],
                                   description=_l("Dagar före (-) och efter (+) sista svarsdag, till exempel "
                                                  "-14,-7,-2,0,+1,+7. Påminnelser går ut kl. 08.00 på arbetsdagar."))


class ReasonForm(Form):
    reason = TextAreaField(_l("Motivering"), validators=[InputRequired(REQUIRED), Length(max=5000)],
                           description=_l("Står i mejlet till de berörda."))


class MoveDeadlineForm(Form):
    deadline = LocalDateField(_l("Ny sista svarsdag"), validators=[InputRequired(DATE_FORMAT_ERROR)])
    reason = TextAreaField(_l("Motivering"), validators=[Optional(), Length(max=5000)],
                           description=_l("Valfritt. Står i mejlet till remissinstanserna."))


class ExtensionRequestForm(Form):
    requested_deadline = LocalDateField(_l("Önskad sista svarsdag"), validators=[InputRequired(DATE_FORMAT_ERROR)])
    reason = TextAreaField(_l("Varför behöver ni mer tid?"), validators=[InputRequired(REQUIRED), Length(max=5000)],
                           description=_l("Till exempel: nämnden sammanträder först den 14 april."))


class ExtensionDecisionForm(Form):
    decision = RadioField(_l("Beslut"), choices=[SelectChoice("grant", _l("Bevilja anstånd")),
                                                 SelectChoice("refuse", _l("Avslå"))],
                          validators=[InputRequired(_l("Välj bevilja eller avslå."))])
    deadline = LocalDateField(_l("Ny sista svarsdag"), validators=[Optional()],
                         description=_l("Vid beviljat anstånd. Förifyllt med det datum som begärdes."))
    reason = TextAreaField(_l("Motivering"), validators=[Optional(), Length(max=5000)],
                           description=_l("Krävs vid avslag. Står i mejlet till remissinstansen."))


class GrantForm(Form):
    deadline = LocalDateField(_l("Ny sista svarsdag"), validators=[InputRequired(DATE_FORMAT_ERROR)])
    reason = TextAreaField(_l("Motivering"), validators=[Optional(), Length(max=5000)])


DECISION_CHOICES = [
    SelectChoice("considered", _l("Beaktas")),
    SelectChoice("partly_considered", _l("Beaktas delvis")),
    SelectChoice("not_considered", _l("Beaktas ej")),
    SelectChoice("noted", _l("Noteras")),
]


class DispositionForm(Form):
    """The officer's handling of one submitted comment; one per comment on the page, each with its prefix."""

    decision = RadioField(_l("Ställningstagande"), choices=DECISION_CHOICES,
                          validators=[InputRequired(_l("Välj ett ställningstagande."))])
    reason = TextAreaField(_l("Motivering"), validators=[Optional(), Length(max=5000)])


# ------------------------------------------------------------------ replies

STANCE_CHOICES = [
    SelectChoice("approves", _l("Tillstyrker")),
    SelectChoice("approves_with_comments", _l("Tillstyrker med synpunkter")),
    SelectChoice("rejects", _l("Avstyrker")),
    SelectChoice("no_comments", _l("Inga synpunkter")),
]
LONG_TEXT = 100_000


class CompilationForm(Form):
    """The officer's own texts for the compilation's introduction, kept with each compilation made."""

    background = TextAreaField(_l("Bakgrund"), validators=[Optional(), Length(max=LONG_TEXT)],
                               description=_l("Varför strategin tas fram och hur remissen gick till. Står i "
                                              "inledningen, efter uppgifterna om remissen."),
                               render_kw={"rows": 6})
    assessment = TextAreaField(_l("Sammanfattande bedömning"), validators=[Optional(), Length(max=LONG_TEXT)],
                               description=_l("Din samlade bedömning av vad remissvaren säger och vad det betyder "
                                              "för strategin."),
                               render_kw={"rows": 6})
    gather_empty = BooleanField(_l("Samla avsnitt utan synpunkter på en rad"), default=True,
                                description=_l("Annars får varje avsnitt en egen rubrik med texten att inga "
                                               "synpunkter har lämnats."))


class ReplyForm(Form):
    """The reply (remissvar). A comment field per draft section is added by `reply_form_for`."""

    version = HiddenField()
    stance = RadioField(_l("Ställningstagande"), choices=STANCE_CHOICES, validators=[Optional()],
                        description=_l("Vill nämnden inte yttra sig alls, använd knappen Avstå från att yttra sig."))
    summary = TextAreaField(_l("Sammanfattning"), validators=[Optional(), Length(max=LONG_TEXT)])
    proposed_decision = TextAreaField(_l("Förslag till beslut"), validators=[Optional(), Length(max=LONG_TEXT)],
                                      description=_l("En punkt per rad, som i tjänsteskrivelsen."))
    general_comments = TextAreaField(_l("Övriga synpunkter"), validators=[Optional(), Length(max=LONG_TEXT)],
                                     description=_l("Synpunkter på strategin som helhet."))
    case_reference = StringField(_l("Ert diarienummer"), validators=[Optional(), Length(max=50)],
                                 description=_l("Till exempel SN 2021/0163.02.10."))
    deciding_body = StringField(_l("Beslutande organ"), validators=[Optional(), Length(max=200)],
                                description=_l("Till exempel Socialnämnden."))
    decision_date = LocalDateField(_l("Beslutsdatum"), validators=[Optional()])
    decision_paragraph = StringField(_l("Paragraf (§)"), validators=[Optional(), Length(max=20)])
    signatory_name = StringField(_l("Undertecknad av"), validators=[Optional(), Length(max=200)])
    signatory_title = StringField(_l("Befattning"), validators=[Optional(), Length(max=200)])
    contact = StringField(_l("Handläggare och kontaktuppgifter"), validators=[Optional(), Length(max=300)])

    def comment_fields(self):
        return [field for name, field in self._fields.items() if name.startswith("comment_")]


class RegisterReplyForm(ReplyForm):
    received_on = LocalDateField(_l("Svaret kom in"), validators=[InputRequired(DATE_FORMAT_ERROR)],
                                 description=_l("Datum då svaret kom med e-post eller post."))
    letter = FileField(_l("Svaret som fil (PDF eller Word)"), description=_l(
        "Valfritt. Brevet eller protokollsutdraget som kom in; det bifogas svaret. Högst 20 MB."),
        render_kw={"accept": ".pdf,.docx"})
    declined = BooleanField(_l("Remissinstansen avstår från att yttra sig"))


def reply_form_for(sections, base=ReplyForm, **kwargs) -> ReplyForm:
    """The reply form with a comment box per section of the draft that was sent."""
    fields = {f"comment_{s.id}": TextAreaField(f"{s.number} {s.heading}".strip(), validators=[
        Optional(), Length(max=LONG_TEXT)]) for s in sections}
    return type("SectionReplyForm", (base,), fields)(**kwargs)


class DeclineForm(Form):
    reason = TextAreaField(_l("Motivering"), validators=[Optional(), Length(max=5000)],
                           description=_l("Valfritt. Till exempel: remissen berör inte nämndens ansvarsområde."))


class AttachmentForm(Form):
    file = FileField(_l("Bilaga (PDF eller Word)"), description=_l(
        "Till exempel det justerade protokollsutdraget. Högst 20 MB."), render_kw={"accept": ".pdf,.docx"})
    description = StringField(_l("Beskrivning"), validators=[Optional(), Length(max=300)])


class ReplyImportForm(Form):
    file = FileField(_l("Nämndens svar som Word-fil (.docx)"), description=_l(
        "Fälten fylls i från dokumentet. Du granskar dem innan något sparas."), render_kw={"accept": ".docx"})


# ------------------------------------------------------------------ reviewing an imported reply

GENERAL_CHOICE = "general"  # the select's value for "Övriga synpunkter"
MAX_IMPORTED_COMMENTS = 500
EXCERPT_WORDS = 8
# A FieldList index that str.isdigit() accepts but int() does not ("²") is a 500 in WTForms: such keys are dropped.
_BAD_INDEX = re.compile(r"^comments-(?![0-9]+-)")


def _unix_line_breaks(value):
    """Browsers post a text's line breaks as CRLF; the reader's text has LF."""
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value


class ImportedCommentForm(SubForm):
    """One comment read from the Word reply: its text and why it landed where it did, carried in hidden
    fields, and the section the secretary puts it under (choices set by ReplyImportReviewForm.offer)."""

    text = HiddenTextField(validators=[Length(max=LONG_TEXT)], filters=[_unix_line_breaks])
    reason = HiddenField(validators=[Length(max=20)])
    detail = HiddenField(validators=[Length(max=500)])
    landed = HiddenField(validators=[Length(max=20)])
    section = SelectField(_l("Avsnitt"), validate_choice=False)

    def validate_section(self, field):
        if field.data not in {str(choice.value) for choice in field.choices or []}:
            raise ValidationError(_l("Välj ett avsnitt i utkastet eller Övriga synpunkter."))


class ReplyImportReviewForm(Form):
    """The review of a reply read from Word: every field and comment travels in the form until the reply
    form is filled in, so nothing is stored before the secretary saves the reply. A document that looks
    like another body's or another case's (other_body, other_case_reference) needs `confirmed`."""

    class Meta:
        def wrap_formdata(self, form, formdata):
            data = super().wrap_formdata(form, formdata)
            if data is None:
                return None
            return MultiDict([(key, value) for key, value in data.items(multi=True) if not _BAD_INDEX.match(key)])

    summary = HiddenTextField(validators=[Length(max=LONG_TEXT)], filters=[_unix_line_breaks])
    proposed_decision = HiddenTextField(validators=[Length(max=LONG_TEXT)], filters=[_unix_line_breaks])
    case_reference = HiddenField(validators=[Length(max=300)])
    deciding_body = HiddenField(validators=[Length(max=300)])
    signatory_name = HiddenField(validators=[Length(max=300)])
    signatory_title = HiddenField(validators=[Length(max=300)])
    # Only a svarsmall has fields for these.
    stance = HiddenField(validators=[Optional(), AnyOf([s.value for s in Stance])])
    decision_date = HiddenField(validators=[Length(max=100)])
    decision_paragraph = HiddenField(validators=[Length(max=100)])
    contact = HiddenTextField(validators=[Length(max=1000)], filters=[_unix_line_breaks])
    other_body = HiddenField(validators=[Length(max=200)])
    other_case_reference = HiddenField(validators=[Length(max=100)])
    comments = FieldList(FormField(ImportedCommentForm), max_entries=MAX_IMPORTED_COMMENTS)
    confirmed = BooleanField(_l("Jag har kontrollerat att det är rätt dokument"))

    def offer(self, sections) -> None:
        """Let each comment go to any section of the draft or to the general comments; each select is
        labelled with the start of its comment, so a screen reader says which comment it moves."""
        choices = [SelectChoice(str(s.id), f"{s.number} {s.heading}".strip()) for s in sections]
        choices.append(SelectChoice(GENERAL_CHOICE, _l("Övriga synpunkter")))
        for number, entry in enumerate(self.comments, 1):
            words = (entry.form.text.data or "").split()
            excerpt = " ".join(words[:EXCERPT_WORDS]) + (" …" if len(words) > EXCERPT_WORDS else "")
            entry.form.section.choices = choices
            entry.form.section.label.text = _l("Avsnitt för synpunkt %(n)s (”%(start)s”)", n=number, start=excerpt)

    def needs_confirmation(self) -> bool:
        return bool(self.other_body.data or self.other_case_reference.data)

    def tampered(self) -> bool:
        """Errors no one can cause by using the page (its hidden fields changed), shown as one message."""
        fields = [f for f in self if f.short_name not in ("comments", "confirmed", "csrf_token")]
        fields += [f for entry in self.comments for f in entry.form if f.short_name != "section"]
        return any(f.errors for f in fields)

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if any(entry.form.section.errors for entry in self.comments):
            self.form_errors.append(_l("En synpunkt har ett avsnitt som inte finns i utkastet. Välj avsnitt igen."))
            valid = False
        if self.needs_confirmation() and not self.confirmed.data:
            self.confirmed.errors = [*self.confirmed.errors,
                                     _l("Kryssa i rutan när du har kontrollerat att det är rätt dokument.")]
            valid = False
        return valid
