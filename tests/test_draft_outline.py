"""The outline of an uploaded draft: the officer sees which paragraphs became headings and how each was
found, corrects headings and levels before the version goes out, and the correction is kept and logged."""
import html
import io
import re

import docx
import pytest
from sqlalchemy import select

from remiss import drafts
from remiss.errors import WorkflowError
from remiss.models import AuditEvent, Draft

from . import builders

NOW = builders.BUILT_AT


def bold_heading_draft() -> bytes:
    """A draft as many are written: no heading styles at all, headings typed in bold with numbers."""
    document = docx.Document()
    for text, bold in (("1 Inledning", True), ("Kommunen ska arbeta internationellt.", False),
                       ("2 Mål", True), ("Målen gäller hela kommunkoncernen.", False),
                       ("2.1 Delmål för nämnderna", True), ("Varje nämnd följer upp sina delmål.", False),
                       ("Viktigt att notera", True), ("Uppföljning sker årligen.", False)):
        document.add_paragraph().add_run(text).bold = bold
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@pytest.fixture
def draft(session, officer, strategy):
    draft = drafts.import_docx(session, officer, NOW, strategy, filename="fet.docx", data=bold_heading_draft())
    session.commit()
    return draft


def headings(draft) -> list[tuple[int, str, str, str]]:
    return [(s.level, s.number, s.heading, s.found_by) for s in draft.sections]


def paragraph_of(draft, heading: str) -> int:
    return next(line.paragraph for line in drafts.outline(draft).outline if line.text.endswith(heading))


def page_text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.text)).split())


def test_bold_numbered_lines_become_headings_with_their_own_numbers(draft):
    assert headings(draft) == [(1, "1", "Inledning", "bold"), (1, "2", "Mål", "bold"),
                               (2, "2.1", "Delmål för nämnderna", "bold"), (1, "3", "Viktigt att notera", "bold")]


def test_the_officer_demotes_a_heading_and_its_text_joins_the_section_above(session, officer, draft):
    drafts.correct_outline(session, officer, NOW, draft, {paragraph_of(draft, "Viktigt att notera"): 0})

    assert [s.heading for s in draft.sections] == ["Inledning", "Mål", "Delmål för nämnderna"]
    assert draft.sections[-1].text == ("Varje nämnd följer upp sina delmål.\n\nViktigt att notera\n\n"
                                       "Uppföljning sker årligen.")
    assert draft.outline_confirmed_at == NOW and draft.outline_confirmed_by_id == officer.id


def test_the_officer_promotes_a_line_and_changes_a_level(session, officer, draft):
    drafts.correct_outline(session, officer, NOW, draft, {
        paragraph_of(draft, "Uppföljning sker årligen."): 2, paragraph_of(draft, "Viktigt att notera"): 2})

    assert headings(draft)[-2:] == [(2, "2.2", "Viktigt att notera", "manual"),
                                    (2, "2.3", "Uppföljning sker årligen.", "manual")]


def test_only_what_differs_from_what_was_found_is_kept_and_the_correction_is_logged(session, officer, draft):
    found = {line.paragraph: line.level or 0 for line in drafts.outline(draft).outline}
    changed = paragraph_of(draft, "Viktigt att notera")

    drafts.correct_outline(session, officer, NOW, draft, {**found, changed: 2})
    session.commit()

    assert draft.outline_corrections == {str(changed): 2}
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "draft.outline_corrected")).one()
    assert event.detail["corrections"] == 1
    # Read again from the file with the correction, the outline says who decided.
    line = next(line for line in drafts.outline(draft).outline if line.paragraph == changed)
    assert (line.level, line.found_by) == (2, "manual")


def test_the_corrected_sections_keep_the_keys_of_the_previous_version(session, officer, strategy, draft):
    second = drafts.import_docx(session, officer, NOW, strategy, filename="v2.docx", data=bold_heading_draft())
    keys = {s.heading: s.key for s in draft.sections}

    drafts.correct_outline(session, officer, NOW, second, {paragraph_of(second, "Viktigt att notera"): 0})

    assert {s.heading: s.key for s in second.sections} == {h: k for h, k in keys.items()
                                                            if h != "Viktigt att notera"}


def test_the_outline_cannot_change_once_the_version_has_gone_out(session, officer, strategy, draft):
    body = builders.create_body(session)
    builders.create_round(session, strategy, [body])  # launched with the latest version
    session.commit()
    assert drafts.in_launched_round(session, draft)

    with pytest.raises(WorkflowError, match="redan skickats på remiss"):
        drafts.correct_outline(session, officer, NOW, draft, {paragraph_of(draft, "Mål"): 0})


def test_an_outline_without_any_heading_is_refused(session, officer, draft):
    with pytest.raises(WorkflowError, match="Minst ett stycke"):
        drafts.correct_outline(session, officer, NOW, draft,
                               {line.paragraph: 0 for line in drafts.outline(draft).outline})


def test_a_level_outside_the_outline_is_refused(session, officer, draft):
    with pytest.raises(WorkflowError, match="mellan 1 och 9"):
        drafts.correct_outline(session, officer, NOW, draft, {paragraph_of(draft, "Mål"): 12})


# ---------------------------------------------------------------- the page

def test_the_upload_leads_to_the_outline_page_that_says_how_each_heading_was_found(session, client, officer,
                                                                                    strategy):
    client.sign_in(officer.email)
    response = client.post(f"/strategies/{strategy.id}/drafts/new",
                           data={"file": (io.BytesIO(bold_heading_draft()), "fet.docx")},
                           content_type="multipart/form-data")
    assert response.status_code == 302 and response.headers["Location"].endswith("/outline")

    page = client.get(response.headers["Location"])
    text = page_text(page)
    assert page.status_code == 200
    assert "2.1 Delmål för nämnderna fet rad 2.1" in text
    assert "Målen gäller hela kommunkoncernen." in text  # a short line the officer could promote


def test_the_officer_confirms_a_corrected_outline_on_the_page(session, client, officer, draft, strategy):
    client.sign_in(officer.email)
    url = f"/strategies/{strategy.id}/drafts/{draft.id}/outline"
    form = {f"level_{line.paragraph}": str(line.level or 0) for line in drafts.outline(draft).outline}
    form[f"level_{paragraph_of(draft, 'Viktigt att notera')}"] = "0"

    response = client.post(url, data=form)

    assert response.status_code == 302
    session.expire_all()
    assert [s.heading for s in session.get(Draft, draft.id).sections] == ["Inledning", "Mål",
                                                                          "Delmål för nämnderna"]
    assert "Rubrikerna är bekräftade: 3 avsnitt." in page_text(client.get(response.headers["Location"]))


def test_a_posted_level_that_is_no_choice_is_shown_on_the_form_and_nothing_changes(session, client, officer,
                                                                                 draft, strategy):
    client.sign_in(officer.email)
    line = drafts.outline(draft).outline[0]

    response = client.post(f"/strategies/{strategy.id}/drafts/{draft.id}/outline",
                           data={f"level_{line.paragraph}": "12"})

    assert response.status_code == 422
    assert "Något behöver rättas" in page_text(response)
    session.expire_all()
    assert len(session.get(Draft, draft.id).sections) == 4


def test_a_secretary_cannot_see_or_correct_the_outline(session, client, draft, strategy):
    body = builders.create_body(session)
    secretary = builders.create_secretary(session, body, email="sek@kalmar.example")
    session.commit()
    client.sign_in(secretary.email)

    assert client.get(f"/strategies/{strategy.id}/drafts/{draft.id}/outline").status_code == 404
    assert client.post(f"/strategies/{strategy.id}/drafts/{draft.id}/outline", data={}).status_code in (403, 404)


def test_a_launched_versions_outline_page_shows_the_levels_without_a_way_to_change_them(session, client, officer,
                                                                                      draft, strategy):
    builders.create_round(session, strategy, [builders.create_body(session)])
    session.commit()
    client.sign_in(officer.email)

    page = client.get(f"/strategies/{strategy.id}/drafts/{draft.id}/outline")

    assert "kan inte längre ändras" in page_text(page)
    assert "Bekräfta rubrikerna" not in page.text


def test_a_long_heading_made_text_stays_text_through_a_second_confirmation(session, officer, strategy):
    """A heading of more than twenty words the officer turned into text must not come back the next time
    the outline is confirmed: the line stays on the page, and earlier corrections stand."""
    long = " ".join(["ord"] * 25)
    document = docx.Document()
    for text, style in (("Inledning", "Heading 1"), (long, "Heading 1"), ("Text under.", None), ("Mål", "Heading 1")):
        document.add_paragraph(text, style=style)
    out = io.BytesIO()
    document.save(out)
    draft = drafts.import_docx(session, officer, NOW, strategy, filename="lang.docx", data=out.getvalue())
    index = next(line.paragraph for line in drafts.outline(draft).outline if line.text == long)

    drafts.correct_outline(session, officer, NOW, draft, {index: 0})
    again = {line.paragraph: line.level or 0 for line in drafts.outline(draft).outline}
    assert again[index] == 0  # still listed, as text
    drafts.correct_outline(session, officer, NOW, draft, {i: level for i, level in again.items() if i != index})

    assert [s.heading for s in draft.sections] == ["Inledning", "Mål"]


def test_a_secretary_cannot_correct_an_outline_through_the_workflow(session, draft):
    body = builders.create_body(session)
    secretary = builders.create_secretary(session, body, email="sek2@kalmar.example")

    with pytest.raises(WorkflowError, match="Bara en strateg"):
        drafts.correct_outline(session, secretary, NOW, draft, {0: 1})
