"""Word as municipalities write it, in real Chromium and tried as a new user would: the officer uploads a
draft whose headings are only bold lines, fixes a level on the outline page and sends it out; the
secretary downloads the svarsmall, a script fills it as Word would, and the secretary imports it and
submits. axe-core checks the outline, import and review pages."""
import io
import re
from datetime import datetime, timezone

import docx
import pytest
from playwright.sync_api import expect

from remiss.demo import DOMAIN, load_demo

from . import word_tools
from .axe import assert_no_axe_violations

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
TITLE = "Strategi för digital delaktighet"


@pytest.fixture
def demo(session, frozen_clock):
    frozen_clock.set(datetime(2021, 1, 27, 9, 0, tzinfo=timezone.utc))
    load_demo(session, frozen_clock.now, PASSWORD)
    session.commit()


def bold_heading_draft(path) -> None:
    """Headings typed in bold, numbered by hand, one of them a level too high: as many drafts are written."""
    document = docx.Document()
    for text, bold in (("1 Inledning", True), ("Alla invånare ska kunna använda kommunens e-tjänster.", False),
                       ("2 Mål", True), ("Kommunen ska vara ledande i digital delaktighet.", False),
                       ("Mål för skolan", True), ("Alla elever får en egen dator.", False),
                       ("3 Uppföljning", True), ("Målen följs upp varje år.", False)):
        document.add_paragraph().add_run(text).bold = bold
    document.save(path)


def sign_in(page, email: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("E-postadress").fill(email)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Välkommen")


def sign_out(page) -> None:
    page.locator("header").get_by_role("button", name="Logga ut").click()
    expect(page).to_have_url(re.compile(r"/sign-in$"))


def test_a_bold_heading_draft_goes_out_and_a_filled_svarsmall_comes_back(page, demo, tmp_path):
    draft = tmp_path / "digital-delaktighet.docx"
    bold_heading_draft(draft)
    sign_in(page, f"strateg@{DOMAIN}")
    page.get_by_role("link", name="Nytt ärende").click()
    page.get_by_label("Titel").fill(TITLE)
    page.get_by_label("Diarienummer").fill("KS 2021/0200")
    page.get_by_role("button", name="Spara").click()
    page.get_by_label("Word-fil (.docx)").set_input_files(str(draft))
    page.get_by_role("button", name="Spara versionen").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Rubriker i version 1")
    row = page.get_by_role("row", name=re.compile("Mål för skolan"))
    expect(row).to_contain_text("fet rad")
    assert_no_axe_violations(page, "outline page of a bold-heading draft")
    row.get_by_role("combobox").select_option(label="Nivå 2")  # a sub-goal of 2, not a chapter of its own
    page.get_by_role("button", name="Bekräfta rubrikerna").click()
    contents = page.get_by_role("navigation", name="Innehåll")
    expect(contents.get_by_role("link", name="2.1 Mål för skolan")).to_be_visible()
    expect(contents.get_by_role("link", name="3 Uppföljning")).to_be_visible()

    page.get_by_role("link", name="Tillbaka till ärendet").click()
    page.get_by_role("link", name="Ny remissomgång").click()
    page.get_by_label("Sista svarsdag").fill("2021-03-26")
    page.get_by_role("checkbox", name="Socialnämnden", exact=True).check()
    page.get_by_label("Märkning av svaren").fill("Remissvar Digital delaktighet")
    page.get_by_label("Missiv").fill("Kommunstyrelsen önskar nämndernas synpunkter på förslaget.")
    page.get_by_role("button", name="Spara och granska").click()
    page.get_by_role("button", name="Skicka remissen").click()
    expect(page.get_by_role("status")).to_contain_text("Remissen är utskickad till 1 remissinstans")
    sign_out(page)

    sign_in(page, f"sekreterare.sn@{DOMAIN}")
    page.get_by_role("link", name=TITLE).click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Hämta svarsmall (Word)").click()
    template = download.value
    assert template.suggested_filename == "svarsmall-KS-2021-0200-Socialnamnden.docx"
    keys = template_keys(template.path().read_bytes())
    filled = tmp_path / "svar.docx"
    filled.write_bytes(word_tools.fill(template.path().read_bytes(), {
        "remiss:field:stance": ["Tillstyrker med synpunkter"],
        "remiss:field:summary": ["Socialnämnden ställer sig bakom strategin."],
        "remiss:field:case_reference": ["SN 2021/0042"],
        "remiss:field:decision_date": ["2021-03-18"],
        f"remiss:section:{keys['Mål för skolan']}": ["Även vuxna i daglig verksamhet behöver datorer."],
        "remiss:general": ["Tack för möjligheten att yttra oss."]}))

    page.locator("a[href$='/reply']").first.click()
    page.locator("a[href$='/reply/import']").click()
    assert_no_axe_violations(page, "import page")
    page.locator("#file").set_input_files(str(filled))
    page.locator("main form button[type=submit]").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Granska synpunkterna från Word")
    expect(page.get_by_text("svarsmallens fält").first).to_be_visible()
    assert_no_axe_violations(page, "import review of a filled svarsmall")
    page.locator("main form button[type=submit]").click()

    expect(page.get_by_label("2.1 Mål för skolan")).to_have_value("Även vuxna i daglig verksamhet behöver datorer.")
    expect(page.locator("#general_comments")).to_have_value("Tack för möjligheten att yttra oss.")
    expect(page.locator("#case_reference")).to_have_value("SN 2021/0042")
    expect(page.locator("input[name=stance][value=approves_with_comments]")).to_be_checked()
    page.locator("button[value=submit]").click()
    page.locator("main form button[type=submit]").click()
    expect(page.get_by_role("status")).to_contain_text("Svaret är inskickat (version 1)")


def template_keys(data: bytes) -> dict[str, str]:
    """Heading → section key, read from the svarsmall's own tags (the test knows no database ids)."""
    document = docx.Document(io.BytesIO(data))
    keys, heading = {}, None
    for element in document.element.body.iter(word_tools.w("p"), word_tools.w("sdt")):
        if element.tag == word_tools.w("p") and element.getparent() is document.element.body:
            text = "".join(t.text or "" for t in element.iter(word_tools.w("t")))
            heading = re.sub(r"^[\d.]+\s+", "", text.strip())
        elif element.tag == word_tools.w("sdt"):
            tag = element.find(f"{word_tools.w('sdtPr')}/{word_tools.w('tag')}")
            value = tag.get(word_tools.w("val")) if tag is not None else ""
            if value.startswith("remiss:section:"):
                keys[heading] = value.removeprefix("remiss:section:")
    return keys
