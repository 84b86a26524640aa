"""The officer's side in real Chromium: a strategy, its Word draft, a round to eight bodies,
an anstånd asked for by a secretary and granted, with axe-core checking every page on the way."""
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from playwright.sync_api import expect

from remiss.demo import DOMAIN, load_demo

from .axe import assert_no_axe_violations

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
KALMAR_DRAFT = Path(__file__).resolve().parent.parent / "remiss" / "demo" / "kalmar-strategy-draft.docx"
EIGHT_BODIES = ["Barn- och ungdomsnämnden", "Kultur- och fritidsnämnden", "Miljönämnden", "Omsorgsnämnden",
                "Samhällsbyggnadsnämnden", "Socialnämnden", "Kalmarhem AB", "Kalmar Vatten AB"]


@pytest.fixture
def demo(session, frozen_clock):
    frozen_clock.set(datetime(2021, 1, 27, 9, 0, tzinfo=timezone.utc))
    logins = load_demo(session, frozen_clock.now, PASSWORD)
    session.commit()
    return logins


def sign_in(page, email: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("E-postadress").fill(email)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Välkommen")


def sign_out(page) -> None:
    page.locator("header").get_by_role("button", name="Logga ut").click()
    expect(page).to_have_url(re.compile(r"/sign-in$"))


def checked_page(page, what: str) -> None:
    assert_no_axe_violations(page, what)


def test_officer_launches_a_round_and_grants_the_anstand_a_secretary_asked_for(page, demo):
    sign_in(page, f"strateg@{DOMAIN}")
    checked_page(page, "officer start page")

    page.get_by_role("link", name="Nytt ärende").click()
    page.get_by_label("Titel").fill("Strategi för hållbar turism")
    page.get_by_label("Diarienummer").fill("KS 2021/0042")
    checked_page(page, "new strategy form")
    page.get_by_role("button", name="Spara").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Lägg till en version")
    page.get_by_label("Word-fil (.docx)").set_input_files(str(KALMAR_DRAFT))
    checked_page(page, "draft upload form")
    page.get_by_role("button", name="Spara versionen").click()

    expect(page.get_by_role("status")).to_contain_text("Version 1 är sparad med 21 avsnitt")
    # The outline found is shown first; the officer confirms it as it is.
    expect(page.get_by_role("heading", level=1)).to_have_text("Rubriker i version 1")
    checked_page(page, "outline of the uploaded draft")
    page.get_by_role("button", name="Bekräfta rubrikerna").click()
    expect(page.get_by_role("status")).to_contain_text("Rubrikerna är bekräftade: 21 avsnitt")
    contents = page.get_by_role("navigation", name="Innehåll")
    expect(contents.get_by_role("link", name="7.1 Verksamhetsutveckling och extern finansiering")).to_be_visible()
    checked_page(page, "draft, read section by section")
    page.get_by_role("link", name="Tillbaka till ärendet").click()

    page.get_by_role("link", name="Ny remissomgång").click()
    page.get_by_label("Sista svarsdag").fill("2021-03-26")
    for name in EIGHT_BODIES:
        page.get_by_role("checkbox", name=name, exact=True).check()
    page.get_by_label("Märkning av svaren").fill("Remissvar Hållbar turism")
    page.get_by_label("Missiv").fill("Kommunstyrelsen önskar nämndernas och bolagens synpunkter på förslaget.")
    checked_page(page, "new round form")
    page.get_by_role("button", name="Spara och granska").click()

    expect(page.get_by_role("heading", level=2, name="Granska och skicka")).to_be_visible()
    checked_page(page, "round review")
    page.get_by_role("button", name="Skicka remissen").click()

    expect(page.get_by_role("status")).to_contain_text("Remissen är utskickad till 8 remissinstanser")
    board = page.get_by_role("table", name="Status per remissinstans")
    expect(board.get_by_role("row")).to_have_count(1 + 8)
    expect(board.get_by_role("row", name=re.compile("Socialnämnden"))).to_contain_text("inbjuden")
    expect(board.get_by_role("row", name=re.compile("Socialnämnden"))).to_contain_text("26 mars 2021")
    checked_page(page, "status board")
    sign_out(page)

    sign_in(page, f"sekreterare.sn@{DOMAIN}")
    checked_page(page, "secretary start page")
    page.get_by_role("link", name="Strategi för hållbar turism").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Strategi för hållbar turism")
    checked_page(page, "referral page")
    page.get_by_label("Önskad sista svarsdag").fill("2021-04-16")
    page.get_by_label("Varför behöver ni mer tid?").fill("Socialnämnden sammanträder den 14 april.")
    page.get_by_role("button", name="Begär anstånd").click()
    expect(page.get_by_role("status")).to_contain_text("Er begäran om anstånd är skickad")
    expect(page.get_by_text("Er begäran väntar på beslut.")).to_be_visible()
    sign_out(page)

    sign_in(page, f"strateg@{DOMAIN}")
    page.get_by_role("region", name="Begäran om anstånd").get_by_role("link", name="Socialnämnden").click()
    expect(page.get_by_label("Ny sista svarsdag")).to_have_value("2021-04-16")
    checked_page(page, "anstånd decision")
    page.get_by_role("button", name="Spara beslutet").click()

    expect(page.get_by_role("status")).to_contain_text("Beslutet om anstånd för Socialnämnden")
    row = page.get_by_role("table", name="Status per remissinstans").get_by_role("row", name=re.compile("Socialnämnden"))
    expect(row).to_contain_text("16 april 2021")
    expect(row).to_contain_text("beviljat")


def test_the_handling_view_has_no_axe_violations(page, demo, session, frozen_clock):
    from remiss import responses
    from remiss.models import ReferralRound, User
    from sqlalchemy import select

    round_ = session.scalars(select(ReferralRound)).first()
    # The body with an anstånd: the demo's main deadline has passed, its own has not.
    referral = next(r for r in round_.referrals if r.body.code == "SBN")
    secretary = session.scalar(select(User).where(User.email == f"sekreterare.sbn@{DOMAIN}"))
    section = round_.draft.sections[8]
    saved = responses.save_reply(session, secretary, frozen_clock.now, referral, version=None, draft=responses.ReplyDraft(
        responses.ReplyFields(stance="approves_with_comments"), {section.id: "En central stödfunktion."}, "Bra."))
    responses.submit_reply(session, secretary, frozen_clock.now, referral, version=saved.lock_version)
    session.commit()

    sign_in(page, f"strateg@{DOMAIN}")
    page.goto(f"/rounds/{round_.id}/handling")
    expect(page.get_by_text("En central stödfunktion.")).to_be_visible()
    checked_page(page, "handling view")

    # Filtered to one body's unhandled comments on one section; saving keeps the filter.
    page.get_by_label("Remissinstans").select_option(label=referral.body.name)
    page.get_by_label("Avsnitt").select_option(value=section.key)
    page.get_by_label("Visa bara ohanterade synpunkter").check()
    page.get_by_role("button", name="Visa", exact=True).click()
    expect(page.get_by_text("1 synpunkt matchar filtret.")).to_be_visible()
    expect(page.get_by_text("Bra.", exact=True)).to_have_count(0)  # the general comment is filtered out
    checked_page(page, "handling view, filtered")
    comment = page.locator(f"#comment-{referral.id}-{section.key}")
    comment.get_by_label("Noteras").check()
    comment.get_by_role("button", name=re.compile("Spara ställningstagandet")).click()
    expect(page).to_have_url(re.compile(rf"body={referral.body_id}&section={section.key}&unhandled=1#comment-"))
    expect(page.get_by_text("Inga synpunkter matchar filtret.")).to_be_visible()
    expect(page.get_by_label("Remissinstans")).to_have_value(str(referral.body_id))
    checked_page(page, "handling view, nothing matches the filter")
    page.goto(f"/rounds/{round_.id}/handling?body=abc&section=finns-inte")
    expect(page.get_by_text("Den valda remissinstansen har inga synpunkter")).to_be_visible()
    checked_page(page, "handling view, a filter naming nothing")
