"""Who may reach what. Walks every route of the app, so a new route is checked the day it is added.

A route whose URL takes an argument must be listed in `ObjectsOutOfReach.values` below; the walk
fails on an argument name it does not know, so whoever adds a route also says which objects a
secretary of another body must not reach through it.
"""
import itertools
import os
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from werkzeug.routing import Rule

from remiss import responses
from remiss.compilation import record_compilation
from remiss.models import RoundState, User

from . import builders
from .conftest import Client

HUGE_ID = 10**20  # larger than any integer column of either database


def view_of(app, rule: Rule):
    return app.view_functions[rule.endpoint]


def is_public(app, rule: Rule) -> bool:
    return getattr(view_of(app, rule), "is_public", False)


def routes(app):
    """Every rule but static files, which are the same for everyone and need no sign-in."""
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]


class ObjectsOutOfReach:
    """Two bodies A and B; a secretary of A; for each URL argument, objects that secretary must not
    reach (of B, or not yet launched) and objects they may reach (of A, launched)."""

    def __init__(self, session):
        self.body_a = builders.create_body(session, name="Socialnämnden", code="SN")
        self.body_b = builders.create_body(session, name="Kalmarhem AB", code="KH", kind="company")
        self.secretary = builders.create_secretary(session, self.body_a)
        self.secretary_of_b = builders.create_secretary(session, self.body_b)
        self.officer = builders.create_officer(session)
        self.admin = builders.create_admin(session)

        # Sent only to B.
        self.hidden = builders.create_strategy(session, officer=self.officer, title="Strategi bara till B")
        self.hidden_draft = builders.create_draft(session, self.hidden)
        self.round_to_b = builders.create_round(session, self.hidden, [self.body_b])
        # Meant for A, but the round is still a draft: not sent, so not visible.
        self.unsent = builders.create_strategy(session, officer=self.officer, title="Strategi ännu inte skickad")
        self.unsent_draft = builders.create_draft(session, self.unsent)
        self.unsent_round = builders.create_round(session, self.unsent, [self.body_a], state=RoundState.DRAFT)
        # Sent to A: the secretary may see it (the positive control and the other half of mixed URLs).
        self.visible = builders.create_strategy(session, officer=self.officer, title="Strategi till A")
        self.visible_draft = builders.create_draft(session, self.visible)
        self.round_to_a = builders.create_round(session, self.visible, [self.body_a, self.body_b])
        self.invited = builders.create_user(session, password=None, bodies=[self.body_b])
        self.token_path = builders.create_password_link(session, self.invited)

        referral = lambda round_, body: next(r for r in round_.referrals if r.body_id == body.id)  # noqa: E731
        session.flush()
        for round_ in (self.round_to_b, self.unsent_round, self.round_to_a):
            session.refresh(round_)
        self._reply(session)
        self.compilation_to_b, self.compilation_to_a = (
            record_compilation(session, self.officer, builders.BUILT_AT, round_, ZoneInfo("Europe/Stockholm"))
            for round_ in (self.round_to_b, self.round_to_a))

        # argument name -> [(value, out of reach for the secretary of A?)]
        self.values = {
            "strategy_id": [(self.hidden.id, True), (self.unsent.id, True), (self.visible.id, False)],
            "draft_id": [(self.hidden_draft.id, True), (self.unsent_draft.id, True), (self.visible_draft.id, False)],
            "round_id": [(self.round_to_b.id, True), (self.unsent_round.id, True), (self.round_to_a.id, False)],
            "referral_id": [(referral(self.round_to_b, self.body_b).id, True),
                            (referral(self.unsent_round, self.body_a).id, True),
                            (referral(self.round_to_a, self.body_b).id, True),
                            (referral(self.round_to_a, self.body_a).id, False)],
            # The register of bodies and people belongs to the admin alone.
            "body_id": [(self.body_b.id, True), (self.body_a.id, True)],
            "user_id": [(self.secretary_of_b.id, True), (self.officer.id, True)],
            "token": [("inte-en-riktig-länk", True)],
            # An attachment of B's working copy (reached through A's referral too); A's own is in reach.
            "attachment_id": [(self.b_working_attachment.id, True), (self.a_working_attachment.id, False)],
            # B has sent two versions in the round to both; A one, so A's referral has no version 2.
            "number": [(2, True), (1, False)],
            # A file public once sent (B's reply in the round to B), and one only in B's working copy.
            "file_id": [(self.b_sent_attachment.file_id, False), (self.b_working_attachment.file_id, True)],
            # A mail written by the development file backend: the admin's alone.
            "name": [("20210127T090000000000-abcd1234.eml", True)],
            # Compilations are the officer's alone, of a round to B or to A alike.
            "compilation_id": [(self.compilation_to_b.id, True), (self.compilation_to_a.id, True)],
        }

    def _reply(self, session):
        """Replies through the workflow: B answered the round sent only to it with an attachment (a
        public file once sent) and sent two versions in the round to both, then attached a file it has
        not sent; A sent one version and has a file in its working copy."""
        to_b = referral_of(self.round_to_b, self.body_b)
        b_in_a, a_in_a = referral_of(self.round_to_a, self.body_b), referral_of(self.round_to_a, self.body_a)
        self.b_sent_attachment = attach(session, self.secretary_of_b, to_b, "kalmarhem-protokoll.pdf")
        send_reply(session, self.secretary_of_b, to_b)
        send_reply(session, self.secretary_of_b, b_in_a)
        send_reply(session, self.secretary_of_b, b_in_a, hours=1)
        self.b_working_attachment = attach(session, self.secretary_of_b, b_in_a, "kalmarhem-ej-skickad.pdf")
        send_reply(session, self.secretary, a_in_a)
        self.a_working_attachment = attach(session, self.secretary, a_in_a, "socialnamnden-ej-skickad.pdf")

    def check_known(self, rule: Rule) -> None:
        unknown = set(rule.arguments) - set(self.values)
        if unknown:
            pytest.fail(f"{rule.rule} ({rule.endpoint}) takes {sorted(unknown)}, which this test does not know: "
                        f"add to ObjectsOutOfReach.values which objects a secretary of another body must not "
                        f"reach through it.", pytrace=False)

    def urls_out_of_reach(self, rule: Rule):
        """Every URL of `rule` built from the known values where at least one is out of reach."""
        self.check_known(rule)
        names = sorted(rule.arguments)
        for combination in itertools.product(*(self.values[name] for name in names)):
            if any(out_of_reach for _, out_of_reach in combination):
                yield rule.build({n: v for n, (v, _) in zip(names, combination)}, append_unknown=False)[1]

    def any_url(self, rule: Rule) -> str:
        self.check_known(rule)
        return rule.build({name: self.values[name][0][0] for name in rule.arguments}, append_unknown=False)[1]


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


def attach(session, secretary, referral, filename):
    return responses.add_attachment(session, secretary, builders.BUILT_AT, referral, filename=filename, data=PDF)


def send_reply(session, secretary, referral, *, hours=0):
    """Save and submit a reply (a new version when one was sent before)."""
    now = builders.BUILT_AT + timedelta(hours=hours)
    working = responses.response_of(session, referral)
    draft = responses.ReplyDraft(responses.ReplyFields(stance="approves", summary="Svar."))
    saved = responses.save_reply(session, secretary, now, referral, version=working.lock_version if working else None,
                                 draft=draft)
    return responses.submit_reply(session, secretary, now, referral, version=saved.lock_version)


@pytest.fixture
def world(session):
    objects = ObjectsOutOfReach(session)
    session.commit()
    return objects


# ---------------------------------------------------------------- (a) default deny

def test_every_endpoint_not_marked_public_sends_an_anonymous_visitor_to_sign_in(app, client, world):
    checked = []
    for rule in routes(app):
        if is_public(app, rule):
            continue
        url = world.any_url(rule)
        for method in ("GET", "POST"):
            if method not in rule.methods:
                continue
            response = client.get(url) if method == "GET" else client.post(url)
            assert response.status_code == 302, f"{method} {url} ({rule.endpoint}) answered {response.status_code}"
            assert response.location.startswith("/sign-in?next="), f"{method} {url} -> {response.location}"
            checked.append(rule.endpoint)
    assert {"main.index", "strategies.show", "admin.edit_body", "admin.resend_invitation"} <= set(checked)


def test_public_pages_answer_without_sign_in(app, client, world):
    world.values["token"] = [(world.token_path.rsplit("/", 1)[1], False)]
    answered = []
    for rule in routes(app):
        if not is_public(app, rule) or "GET" not in rule.methods:
            continue
        url = world.any_url(rule)
        response = client.get(url)
        assert response.status_code == 200, f"public {rule.endpoint} {url} answered {response.status_code}"
        answered.append(rule.endpoint)
    assert {"auth.sign_in", "auth.forgot_password", "auth.set_password", "public.index"} <= set(answered)


def test_static_files_need_no_sign_in(client):
    response = client.get("/static/remiss.css")
    assert response.status_code == 200
    response.close()


def test_a_post_without_sign_in_to_a_non_public_endpoint_changes_nothing(client, world, session):
    response = client.post(f"/admin/bodies/{world.body_b.id}", {"name": "Kapat", "kind": "board", "code": "KAP",
                                                                "mailbox": "kapat@example.org"})
    assert response.status_code == 302
    session.expire_all()
    assert world.body_b.name == "Kalmarhem AB"


# ---------------------------------------------------------------- (b) a secretary sees only their own bodies' matters

def test_secretary_gets_404_for_every_object_of_another_body_on_every_route(app, client, world):
    client.sign_in(world.secretary.email)
    anonymous = Client(app)
    wrong = []
    tried = 0
    for rule in routes(app):
        if not rule.arguments:
            continue
        for url in world.urls_out_of_reach(rule):
            for method in ("GET", "POST"):
                if method not in rule.methods:
                    continue
                response = client.get(url) if method == "GET" else client.post(url)
                tried += 1
                if is_public(app, rule):
                    # A public page shows a signed-in secretary nothing more than it shows anyone.
                    expected = (anonymous.get(url) if method == "GET" else anonymous.post(url)).status_code
                else:
                    expected = 404
                if response.status_code != expected:
                    wrong.append(f"{method} {url} ({rule.endpoint}): {response.status_code}, expected {expected}")
    assert not wrong, "the secretary of A reached what is not theirs:\n" + "\n".join(wrong)
    assert tried >= 20  # the walk really walked
    assert is_signed_in_as(client, world.secretary)


def is_signed_in_as(client, user) -> bool:
    page = client.get("/")
    return page.status_code == 200 and user.name in page.text


def referral_of(round_, body):
    return next(r for r in round_.referrals if r.body_id == body.id)


def test_secretary_reaches_their_own_bodys_reply_its_attachments_and_versions_and_no_others(client, world):
    client.sign_in(world.secretary.email)
    own = f"/referrals/{referral_of(world.round_to_a, world.body_a).id}"

    assert client.get(f"{own}/reply").status_code == 200
    assert client.get(f"{own}/reply/attachments/{world.a_working_attachment.id}").data == PDF
    assert client.get(f"{own}/versions/1").status_code == 200
    assert client.get(f"{own}/versions/2").status_code == 404, "B's second version is not A's"
    assert client.get(f"{own}/reply/attachments/{world.b_working_attachment.id}").status_code == 404
    assert client.post(f"{own}/reply/attachments/{world.b_working_attachment.id}/delete").status_code == 404


def test_only_a_sent_attachment_is_a_public_file(client, world):
    assert client.get(f"/public/files/{world.b_sent_attachment.file_id}").data == PDF
    assert client.get(f"/public/files/{world.b_working_attachment.file_id}").status_code == 404
    assert client.get(f"/public/files/{world.a_working_attachment.file_id}").status_code == 404
    client.sign_in(world.secretary.email)
    assert client.get(f"/public/files/{world.b_working_attachment.file_id}").status_code == 404


def test_secretary_sees_the_referral_sent_to_their_own_body(client, world):
    client.sign_in(world.secretary.email)
    page = client.get(f"/referrals/{referral_of(world.round_to_a, world.body_a).id}")
    assert page.status_code == 200
    assert "Strategi till A" in page.text


def test_secretary_cannot_see_a_strategy_sent_only_to_another_body_until_a_round_reaches_their_own(
        client, session, world):
    client.sign_in(world.secretary.email)
    assert "Strategi bara till B" not in client.get("/").text
    assert client.get(f"/referrals/{referral_of(world.round_to_b, world.body_b).id}").status_code == 404

    second = builders.create_round(session, world.hidden, [world.body_a], deadline=date(2021, 4, 30))
    session.commit()
    assert "Strategi bara till B" in client.get("/").text
    page = client.get(f"/referrals/{referral_of(second, world.body_a).id}")
    assert page.status_code == 200
    assert "Strategi bara till B" in page.text
    # Still not the other body's referral in the first round.
    assert client.get(f"/referrals/{referral_of(world.round_to_b, world.body_b).id}").status_code == 404


def test_secretary_of_the_other_body_sees_what_was_sent_to_it_and_not_what_is_unsent(client, world):
    client.sign_in(world.secretary_of_b.email)
    assert client.get(f"/referrals/{referral_of(world.round_to_b, world.body_b).id}").status_code == 200
    start = client.get("/").text
    assert "Strategi bara till B" in start
    assert "Strategi ännu inte skickad" not in start


def test_a_secretary_who_leaves_a_body_no_longer_sees_its_matters(client, session, world):
    client.sign_in(world.secretary_of_b.email)
    url = f"/referrals/{referral_of(world.round_to_b, world.body_b).id}"
    assert client.get(url).status_code == 200
    world.secretary_of_b.memberships.clear()
    session.commit()
    assert client.get(url).status_code == 404
    assert "Strategi bara till B" not in client.get("/").text


def test_officer_sees_every_strategy_whoever_it_was_sent_to(client, world):
    client.sign_in(world.officer.email)
    for strategy in (world.hidden, world.unsent, world.visible):
        page = client.get(f"/strategies/{strategy.id}")
        assert page.status_code == 200
        assert strategy.title in page.text
    assert client.get(f"/referrals/{referral_of(world.round_to_b, world.body_b).id}").status_code == 200


def test_secretary_finds_only_their_own_bodies_matters_in_the_lists(client, world):
    client.sign_in(world.secretary.email)
    start = client.get("/")
    assert start.status_code == 200
    assert "Strategi till A" in start.text
    assert "Strategi bara till B" not in start.text
    assert "Strategi ännu inte skickad" not in start.text
    officers_list = client.get("/strategies/")
    assert officers_list.status_code == 404 or (
        "Strategi bara till B" not in officers_list.text and "Strategi ännu inte skickad" not in officers_list.text)


def test_a_draft_of_another_strategy_is_not_reached_through_a_visible_one(client, world):
    client.sign_in(world.officer.email)
    assert client.get(f"/strategies/{world.visible.id}/drafts/{world.visible_draft.id}").status_code == 200
    response = client.get(f"/strategies/{world.visible.id}/drafts/{world.hidden_draft.id}")
    assert response.status_code == 404


def test_an_id_too_large_for_the_database_is_a_404_not_a_500(client, world):
    client.sign_in(world.admin.email)
    for url in (f"/strategies/{HUGE_ID}", f"/strategies/{world.visible.id}/drafts/{HUGE_ID}/file",
                f"/admin/bodies/{HUGE_ID}", f"/admin/users/{HUGE_ID}", f"/strategies/{2**31}"):
        assert client.get(url).status_code == 404, url


# ---------------------------------------------------------------- (c) the register is the admin's

def written_mail(app) -> str:
    """A mail as the development file backend writes it, so the admin's page for it has one to show."""
    folder = os.path.join(app.instance_path, "outbox")
    os.makedirs(folder, exist_ok=True)
    name = "20210127T090000000000-abcd1234.eml"
    with open(os.path.join(folder, name), "w") as eml:
        eml.write("Subject: Inbjudan\nTo: sn@kommun.example\nFrom: remiss@kommun.example\n\nHej.\n")
    return name


def admin_urls(app, world):
    own = {"body_id": world.body_a.id, "user_id": world.secretary.id, "token": "x", "name": written_mail(app)}
    for rule in routes(app):
        if rule.rule.startswith("/admin"):
            yield rule, rule.build({name: own[name] for name in rule.arguments}, append_unknown=False)[1]


@pytest.mark.parametrize("who", ["secretary", "officer"])
def test_secretary_and_officer_get_404_on_every_admin_page(app, client, world, session, who):
    user = getattr(world, who)
    client.sign_in(user.email)
    wrong = []
    for rule, url in admin_urls(app, world):
        for method in ("GET", "POST"):
            if method in rule.methods:
                response = client.get(url) if method == "GET" else client.post(
                    url, {"name": "Kapat", "kind": "board", "code": "KAP", "mailbox": "kapat@example.org",
                          "email": "ny@example.org", "role": "admin", "bodies": [str(world.body_a.id)]})
                if response.status_code != 404:
                    wrong.append(f"{method} {url}: {response.status_code}")
    assert not wrong, f"the {who} reached the register:\n" + "\n".join(wrong)
    session.expire_all()
    assert world.body_a.name == "Socialnämnden"
    assert world.secretary.role == "secretary"
    assert session.scalar(select(User.id).where(User.email == "ny@example.org")) is None


def test_the_admin_reaches_every_admin_page(app, client, world):
    client.sign_in(world.admin.email)
    for rule, url in admin_urls(app, world):
        if "GET" in rule.methods:
            response = client.get(url)
            assert response.status_code in (200, 302), f"{url}: {response.status_code}"
