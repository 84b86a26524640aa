"""Forms: bad input is shown again with a clear Swedish message and what was typed; no input gives a 500."""
import html
import itertools
import re
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from wtforms.fields.core import UnboundField

from remiss import forms, responses
from remiss.compilation import record_compilation
from remiss.errors import WorkflowError
from remiss.models import Body, Role, User

from . import builders
from .conftest import Client

REQUIRED = "Fyll i fältet."
BAD_EMAIL = "Skriv en e-postadress, till exempel namn@kommun.se."


def value_of(page, name: str) -> str | None:
    """The value attribute of the input called `name`, unescaped, or None if it has none."""
    tag = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', page.text)
    assert tag, f"no input {name!r} on the page"
    value = re.search(r'\bvalue="([^"]*)"', tag.group(0))
    return html.unescape(value.group(1)) if value else None


def error_of(page, field_id: str) -> str:
    """The error message shown under a field (the one aria-describedby points to)."""
    found = re.search(rf'<p class="error-message" id="{field_id}-error">(.*?)</p>', page.text, re.S)
    assert found, f"no error shown for {field_id}"
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).replace("Fel:", "").strip()


@pytest.fixture
def admin_client(client, session):
    admin = builders.create_admin(session)
    session.commit()
    client.sign_in(admin.email)
    client.admin = admin
    return client


BODY = {"name": "Kulturnämnden", "kind": "board", "code": "KN", "mailbox": "kultur@kommun.example"}


# ---------------------------------------------------------------- the body register

def test_body_without_a_name_is_shown_again_with_the_rest_kept(admin_client, session):
    page = admin_client.post("/admin/bodies/new", {**BODY, "name": ""})
    assert page.status_code == 422
    assert error_of(page, "name") == REQUIRED
    assert value_of(page, "code") == "KN"
    assert value_of(page, "mailbox") == "kultur@kommun.example"
    assert 'value="board" checked' in page.text or re.search(r'checked[^>]*value="board"', page.text)
    assert session.scalar(select(func.count(Body.id))) == 0


def test_body_with_a_bad_mailbox_is_shown_again_with_what_was_typed(admin_client, session):
    page = admin_client.post("/admin/bodies/new", {**BODY, "mailbox": "kultur på kommunen"})
    assert page.status_code == 422
    assert error_of(page, "mailbox") == BAD_EMAIL
    assert value_of(page, "mailbox") == "kultur på kommunen"
    assert value_of(page, "name") == "Kulturnämnden"
    assert 'aria-invalid="true"' in page.text
    assert session.scalar(select(func.count(Body.id))) == 0


def test_body_with_a_short_code_already_in_use_is_refused_and_the_typed_name_kept(admin_client, session):
    builders.create_body(session, name="Kommunstyrelsen", code="KS")
    session.commit()
    page = admin_client.post("/admin/bodies/new", {**BODY, "name": "Kulturnämnden i Kalmar", "code": "ks"})
    assert page.status_code == 422
    assert error_of(page, "code").startswith("Kortnamnet används redan")
    assert value_of(page, "name") == "Kulturnämnden i Kalmar"
    assert "Något behöver rättas" in page.text
    assert session.scalar(select(func.count(Body.id))) == 1


def test_body_with_a_name_already_in_use_is_refused(admin_client, session):
    builders.create_body(session, name="Kulturnämnden", code="KUN")
    session.commit()
    page = admin_client.post("/admin/bodies/new", {**BODY, "name": " Kulturnämnden "})
    assert page.status_code == 422
    assert error_of(page, "name") == "Det finns redan en remissinstans med det namnet."


def test_body_without_a_kind_gets_its_own_message(admin_client):
    page = admin_client.post("/admin/bodies/new", {**BODY, "kind": ""})
    assert page.status_code == 422
    assert "Välj en typ." in error_of(page, "kind")


def test_editing_a_body_to_take_another_bodys_code_is_refused_and_nothing_changes(admin_client, session):
    builders.create_body(session, name="Kommunstyrelsen", code="KS")
    culture = builders.create_body(session, name="Kulturnämnden", code="KN")
    session.commit()
    page = admin_client.post(f"/admin/bodies/{culture.id}", {**BODY, "name": "Kultur- och fritidsnämnden",
                                                            "code": "KS", "active": "y"})
    assert page.status_code == 422
    assert error_of(page, "code").startswith("Kortnamnet används redan")
    assert value_of(page, "name") == "Kultur- och fritidsnämnden"
    session.expire_all()
    assert (culture.name, culture.code) == ("Kulturnämnden", "KN")


def test_a_valid_body_is_saved(admin_client, session):
    response = admin_client.post("/admin/bodies/new", {**BODY, "code": " kn ", "mailbox": "Kultur@Kommun.example"})
    assert response.status_code == 302
    body = session.scalars(select(Body)).one()
    assert (body.name, body.code, body.mailbox) == ("Kulturnämnden", "KN", "kultur@kommun.example")


# ---------------------------------------------------------------- inviting users

def invitation(body=None, **fields):
    data = {"email": "ny@kommun.example", "name": "Nina Nämndsekreterare", "title": "nämndsekreterare",
            "role": "secretary", "locale": "sv", "bodies": [str(body.id)] if body else []}
    data.update(fields)
    return data


def test_inviting_an_address_already_in_use_is_refused_with_the_form_kept(admin_client, session):
    body = builders.create_body(session)
    builders.create_secretary(session, body, email="ny@kommun.example")
    session.commit()
    page = admin_client.post("/admin/users/new", invitation(body, email="NY@kommun.example"))
    assert page.status_code == 422
    assert error_of(page, "email") == "Det finns redan en användare med den e-postadressen."
    assert value_of(page, "name") == "Nina Nämndsekreterare"
    assert value_of(page, "title") == "nämndsekreterare"
    assert session.scalar(select(func.count(User.id))) == 2


def test_inviting_a_secretary_without_a_body_is_refused(admin_client, session):
    page = admin_client.post("/admin/users/new", invitation())
    assert page.status_code == 422
    assert error_of(page, "bodies") == "En nämndsekreterare måste höra till minst en remissinstans."
    assert value_of(page, "email") == "ny@kommun.example"
    assert re.search(r'checked[^>]*value="secretary"|value="secretary"[^>]*checked', page.text)
    assert session.scalar(select(func.count(User.id))) == 1


def test_inviting_without_a_role_asks_for_one(admin_client, session):
    body = builders.create_body(session)
    session.commit()
    data = invitation(body)
    del data["role"]
    page = admin_client.post("/admin/users/new", data)
    assert page.status_code == 422
    assert "Välj en roll." in error_of(page, "role")
    assert value_of(page, "name") == "Nina Nämndsekreterare"
    assert re.search(rf'checked[^>]*value="{body.id}"|value="{body.id}"[^>]*checked', page.text)


def test_inviting_with_a_bad_address_keeps_it_for_correction(admin_client):
    page = admin_client.post("/admin/users/new", invitation(email="nina(at)kommun.example", role="officer"))
    assert page.status_code == 422
    assert error_of(page, "email") == BAD_EMAIL
    assert value_of(page, "email") == "nina(at)kommun.example"


def test_inviting_with_an_unknown_body_is_refused(admin_client, session):
    page = admin_client.post("/admin/users/new", invitation(bodies=["4711"]))
    assert page.status_code == 422
    assert error_of(page, "bodies") == "Okänd remissinstans."
    assert session.scalar(select(func.count(User.id))) == 1


@pytest.mark.parametrize("tampered", [["abc"], ["-1"], ["99999999999999999999"], ["1e3"]])
def test_a_tampered_body_choice_is_an_unknown_body_not_a_crash(admin_client, session, tampered):
    page = admin_client.post("/admin/users/new", invitation(bodies=tampered))
    assert page.status_code == 422
    assert error_of(page, "bodies") == "Okänd remissinstans."
    assert value_of(page, "name") == "Nina Nämndsekreterare"
    assert session.scalar(select(func.count(User.id))) == 1


@pytest.mark.parametrize("field, value", [("role", "superuser"), ("locale", "xx")])
def test_an_unknown_choice_is_refused_in_swedish(admin_client, session, field, value):
    body = builders.create_body(session)
    session.commit()
    page = admin_client.post("/admin/users/new", invitation(body, **{field: value}))
    assert page.status_code == 422
    assert "Inte ett giltigt val" in error_of(page, field)
    assert session.scalar(select(func.count(User.id))) == 1


def test_an_admin_cannot_take_away_their_own_admin_role(admin_client, session):
    admin = admin_client.admin
    page = admin_client.post(f"/admin/users/{admin.id}", {"name": admin.name, "role": "officer", "locale": "sv",
                                                         "active": "y"})
    assert page.status_code == 422
    assert "Du kan inte ta bort din egen administratörsbehörighet." in page.text
    session.expire_all()
    assert admin.role == Role.ADMIN


# ---------------------------------------------------------------- passwords and signing in

@pytest.fixture
def link(session):
    invited = builders.create_user(session, role=Role.OFFICER, password=None, email="nina@kommun.example")
    path = builders.create_password_link(session, invited)
    session.commit()
    return path


def test_a_too_short_password_is_refused_and_the_link_still_works(client, session, link):
    page = client.post(link, {"password": "kort", "confirm": "kort"})
    assert page.status_code == 422
    assert error_of(page, "password") == "Lösenordet måste ha minst 10 tecken."
    assert value_of(page, "password") in (None, "")
    assert client.get(link).status_code == 200
    assert session.scalar(select(User.password_hash).where(User.email == "nina@kommun.example")) is None


def test_passwords_that_differ_are_refused(client, session, link):
    page = client.post(link, {"password": "ett långt lösenord", "confirm": "ett långt lösenord!"})
    assert page.status_code == 422
    assert error_of(page, "confirm") == "Lösenorden är inte lika."
    assert client.get(link).status_code == 200


def test_the_password_may_not_be_the_address(client, link):
    page = client.post(link, {"password": "Nina@Kommun.example", "confirm": "Nina@Kommun.example"})
    assert page.status_code == 422
    assert error_of(page, "password") == "Lösenordet får inte vara din e-postadress."


def test_an_empty_password_form_asks_for_both_fields(client, link):
    page = client.post(link, {})
    assert page.status_code == 422
    assert error_of(page, "password") == REQUIRED
    assert error_of(page, "confirm") == REQUIRED


def test_sign_in_with_empty_fields_asks_for_both(client):
    page = client.post("/sign-in", {"email": "", "password": ""})
    assert page.status_code == 422
    assert error_of(page, "email") == REQUIRED
    assert error_of(page, "password") == REQUIRED


def test_sign_in_without_a_password_keeps_the_address(client):
    page = client.post("/sign-in", {"email": "nina@kommun.example"})
    assert page.status_code == 422
    assert error_of(page, "password") == REQUIRED
    assert value_of(page, "email") == "nina@kommun.example"


def test_forgot_password_with_a_bad_address_says_so_and_keeps_it(client, session, smtp):
    page = client.post("/forgot-password", {"email": "nina på kommunen"})
    assert page.status_code == 422
    assert error_of(page, "email") == BAD_EMAIL
    assert value_of(page, "email") == "nina på kommunen"


def test_forgot_password_with_no_address_asks_for_one(client):
    page = client.post("/forgot-password", {"email": ""})
    assert page.status_code == 422
    assert error_of(page, "email") == REQUIRED


# ---------------------------------------------------------------- no input gives a 500

def every_field_name() -> list[str]:
    """Every field of every form the app defines, so a new field gets hostile input too."""
    names = {"next", "locale", "quick_pick"}
    for form in vars(forms).values():
        if isinstance(form, type) and issubclass(form, forms.FlaskForm):
            names |= {name for name, value in vars(form).items() if isinstance(value, UnboundField)}
            for base in form.__mro__:
                names |= {name for name, value in vars(base).items() if isinstance(value, UnboundField)}
    return sorted(names)


def hostile_payloads():
    fields = every_field_name()
    every = lambda value: {name: value for name in fields}  # noqa: E731
    payloads = {
        "nothing at all": {},
        "a NUL byte": every("nina@kommun.example\x00"),
        "an escape sequence": every("a\x1b[31mb\x1b[0m"),
        "other control characters": every("\x01\x02\x07\x08\x0b\x0c\x7f"),
        "markup": every('<script>alert("x")</script>"><img src=x onerror=alert(1)>'),
        "letters that grow when cased": {**every("ß" * 20), "email": "İ" * 254},
        "long Swedish text": every("åäö" * 1000),
        "only spaces": every("   "),
        "numbers too large": {**every("99999999999999999999"), "quick_pick": "round-99999999999999999999"},
        "negative and non-numeric ids": {**every("-1"), "bodies": ["abc", "-1", "0", "1e3", ""],
                                         "body": "abc", "draft": "-1", "officer": "x", "contact": "9" * 30},
        "unknown choices": {**every("x"), "role": "superuser", "kind": "planet", "locale": "xx",
                            "decision": "maybe", "active": "perhaps", "email": "nina@kommun.example"},
        "repeated fields": {name: ["nina@kommun.example", "andra@kommun.example", ""] for name in fields},
        "a plausible form with one NUL": {"email": "nina@kommun.example", "name": "Nina\x00", "code": "N\x00",
                                          "kind": "board", "role": "officer", "mailbox": "n@kommun.example",
                                          "password": "ett långt lösenord\x00", "confirm": "ett långt lösenord\x00",
                                          "locale": "sv", "title": "\x00", "reason": "\x00",
                                          "case_reference": "KS\x00", "reply_label": "\x00", "text": "# \x00"},
        "dates out of range": {**every("2021-02-30"), "deadline": "0000-01-01",
                               "requested_deadline": "99999-12-31"},
    }
    # 100,000 characters in each field, four fields a request (a whole form of them is over the
    # request size limit, which would stop it before any field is read).
    for start in range(0, len(fields), 4):
        chunk = fields[start:start + 4]
        payloads[f"100k characters in {', '.join(chunk)}"] = {name: "x" * 100_000 for name in chunk}
    return payloads


PDF = b"%PDF-1.4\n%%EOF\n"


class Argument:
    """A live value for each URL argument, fresh per request where the request may spend it."""

    def __init__(self, session):
        self.session = session
        self.body = builders.create_body(session)
        self.secretary = builders.create_secretary(session, self.body)
        self.strategy = builders.create_strategy(session)
        builders.create_draft(session, self.strategy)
        # Two versions, so they can be compared; the second from Word, so the round sends a file.
        self.draft = builders.create_docx_draft(session, self.strategy)
        self.round = builders.create_round(session, self.strategy, [self.body])
        session.flush()
        self.referral = self.round.referrals[0]
        self.compilation = record_compilation(session, None, builders.BUILT_AT, self.round,
                                              ZoneInfo("Europe/Stockholm"))
        session.commit()
        self.attachment = None
        self.attachment_id()

    def attachment_id(self) -> int:
        """A fresh attachment of the secretary's working copy (removing one spends it), while the
        reply may still change; after that (a hostile post may have cancelled the round), the last one."""
        try:
            self.attachment = responses.add_attachment(self.session, self.secretary, builders.BUILT_AT,
                                                       self.referral, filename="bilaga.pdf", data=PDF)
            self.session.commit()
        except WorkflowError:
            self.session.rollback()
        return self.attachment.id

    def value(self, name: str):
        if name == "token":
            path = builders.create_password_link(self.session, self.secretary, purpose="reset")
            self.session.commit()
            return path.rsplit("/", 1)[1]
        if name == "attachment_id":
            return self.attachment_id()
        known = {"body_id": self.body.id, "user_id": self.secretary.id, "strategy_id": self.strategy.id,
                 "draft_id": self.draft.id, "round_id": self.round.id, "referral_id": self.referral.id,
                 "file_id": self.draft.file_id, "number": 1, "name": "20210127T090000000000-abcd1234.eml",
                 "compilation_id": self.compilation.id}
        if name not in known:
            pytest.fail(f"a form route takes {name!r}: add a live value for it to tests/test_forms.py Argument",
                        pytrace=False)
        return known[name]


def test_no_hostile_input_to_any_form_gives_a_server_error(app, session):
    things = Argument(session)
    admin = builders.create_admin(session)
    session.commit()
    rules = [r for r in app.url_map.iter_rules() if "POST" in r.methods]
    assert {"auth.sign_in", "admin.new_body", "admin.invite_user", "auth.set_password"} <= {r.endpoint for r in rules}
    signed_in = Client(app)
    signed_in.sign_in(admin.email)
    admin_token = signed_in.csrf_token()
    secretary = Client(app)
    secretary.sign_in(things.secretary.email)
    secretary_token = secretary.csrf_token()
    failures = []
    addresses = itertools.count(1)
    for what, payload in hostile_payloads().items():
        for rule in rules:
            url = rule.build({name: things.value(name) for name in rule.arguments}, append_unknown=False)[1]
            # Anonymous, and as the admin (who may reach every form but signing out).
            attempts = [("anonymous", Client(app), None)]
            if rule.endpoint != "auth.sign_out":
                attempts.append(("admin", signed_in, admin_token) if not is_public(app, rule)
                                # a public form may sign in someone else (a password link does)
                                else ("admin", signed_in_as(app, admin), None))
            if not is_public(app, rule):
                attempts.append(("secretary", secretary, secretary_token))
            for who, client, token in attempts:
                data = {**payload, "csrf_token": token or client.csrf_token()}
                # Anonymous: a fresh address each time, so sign-in throttling does not hide what comes
                # after it. Signed in: the same address, or session protection signs the admin out.
                n = next(addresses)
                address = f"10.0.{n // 250}.{n % 250}" if who == "anonymous" else "127.0.0.1"
                try:
                    response = client.post(url, data, csrf=False, environ_base={"REMOTE_ADDR": address})
                except Exception as error:  # the test client re-raises what the app did not handle
                    failures.append(f"{what} -> {rule.endpoint} as {who}: {type(error).__name__}: {error}"[:300])
                    continue
                if response.status_code >= 500:
                    failures.append(f"{what} -> {rule.endpoint} as {who}: {response.status_code}")
                if who != "anonymous" and (response.location or "").startswith("/sign-in"):
                    failures.append(f"{what} -> {rule.endpoint}: the {who} was no longer signed in")
    assert not failures, "\n".join(failures)
    assert is_signed_in(signed_in) and is_signed_in(secretary)


def is_public(app, rule) -> bool:
    return getattr(app.view_functions[rule.endpoint], "is_public", False)


def signed_in_as(app, user) -> Client:
    client = Client(app)
    client.sign_in(user.email)
    return client


def is_signed_in(client) -> bool:
    return client.get("/").status_code == 200


def query_parameter_names() -> list[str]:
    """Every query parameter a view reads, found in the views' source, so a new one is tried too."""
    from pathlib import Path

    import remiss.views

    names = {"next"}
    for source in Path(remiss.views.__file__).parent.glob("*.py"):
        names |= set(re.findall(r"request\.args\.get\(\s*[\"'](\w+)[\"']", source.read_text()))
    return sorted(names)


def test_no_hostile_query_string_gives_a_server_error(app, session):
    things = Argument(session)
    admin = builders.create_admin(session)
    session.commit()
    names = query_parameter_names()
    assert {"next", "from"} <= set(names)
    signed_in = Client(app)
    signed_in.sign_in(admin.email)
    failures = []
    for value in ["99999999999999999999", "-1", "0", "abc", "\x00", "\x1b", "x" * 10_000, "<script>", ""]:
        query = "&".join(f"{name}={quote(value)}" for name in names)
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint == "static":
                continue
            url = rule.build({name: things.value(name) for name in rule.arguments}, append_unknown=False)[1]
            for who, client in (("admin", signed_in), ("anonymous", Client(app))):
                try:
                    status = client.get(f"{url}?{query}").status_code
                except Exception as error:  # the test client re-raises what the app did not handle
                    failures.append(f"{url}?…={value[:20]!r} as {who}: {type(error).__name__}: {error}"[:300])
                    continue
                if status >= 500:
                    failures.append(f"{url}?…={value[:20]!r} as {who}: {status}")
    assert not failures, "\n".join(failures)
    assert is_signed_in(signed_in)


@pytest.mark.parametrize("value", ["Nina\x00", "Nina\x1b[2J", "a\x7fb"])
def test_a_control_character_in_a_name_is_refused_with_a_message(admin_client, session, value):
    page = admin_client.post("/admin/bodies/new", {**BODY, "name": value})
    assert page.status_code == 422
    assert "tecken" in error_of(page, "name")
    assert session.scalar(select(func.count(Body.id))) == 0


def test_tabs_and_line_breaks_are_ordinary_text(admin_client, session):
    response = admin_client.post("/admin/bodies/new", {**BODY, "name": "Kultur\tnämnden\r\n"})
    assert response.status_code == 302
    assert session.scalar(select(Body.name)).startswith("Kultur\tnämnden")


def test_markup_in_a_name_is_shown_as_text_never_as_markup(admin_client, session):
    admin_client.post("/admin/bodies/new", {**BODY, "name": "<script>alert(1)</script>"})
    page = admin_client.get("/admin/bodies/")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_a_short_code_that_grows_when_upper_cased_is_refused_not_a_crash(admin_client, session):
    page = admin_client.post("/admin/bodies/new", {**BODY, "code": "ß" * 20})
    assert page.status_code == 422
    assert "20" in error_of(page, "code")
    assert session.scalar(select(func.count(Body.id))) == 0


def test_a_very_long_sign_in_address_is_a_wrong_password_not_a_crash(client, session):
    page = client.post("/sign-in", {"email": "İ" * 254, "password": "fel"})
    assert page.status_code == 422
    assert "Fel e-postadress eller lösenord." in page.text


def test_a_change_the_database_refuses_as_concurrent_is_a_message_on_the_form_not_an_error_page(app, session):
    """The last guard for two people doing the same thing at once: the database's unique constraint
    refuses the second (a real IntegrityError here, a second body with a taken code), and the form
    says so with nothing kept."""
    from flask_wtf import FlaskForm

    from remiss.models import Body
    from remiss.views._helpers import submit

    builders.create_body(session, name="Socialnämnden", code="SN")
    session.commit()

    def second_with_the_same_code():
        session.add(Body(name="Socialnämnden igen", kind="board", code="SN", mailbox="sn2@kommun.example",
                         active=True, created_at=builders.BUILT_AT))
        session.flush()

    with app.test_request_context(method="POST", data={}):
        app.config["WTF_CSRF_ENABLED"] = False
        try:
            form = FlaskForm()
            assert submit(form, second_with_the_same_code) is None
        finally:
            app.config["WTF_CSRF_ENABLED"] = True
    assert "Någon annan ändrade samma sak just nu." in form.form_errors[0]
    assert session.scalar(select(func.count()).select_from(Body)) == 1
