"""The svarsmall on the referral page: made for the body and the version it was sent, downloadable only by
those who may see the referral, and keyed by section so a renamed heading in a later version does not
move a comment."""
import html
import io
import re
from datetime import date

import docx
import pytest
from sqlalchemy import select

from remiss import drafts
from remiss.models import Response
from remiss.reply_template import read_reply_template, write_reply_template

from . import builders, word_tools

NOW = builders.BUILT_AT


@pytest.fixture
def sent(session):
    officer = builders.create_officer(session, email="strateg@kalmar.example")
    strategy = builders.create_strategy(session, officer=officer, title="Internationell strategi",
                                        case_reference="KS 2020/0946")
    draft = builders.create_docx_draft(session, strategy)
    social = builders.create_body(session, name="Socialnämnden")
    culture = builders.create_body(session, name="Kultur- och fritidsnämnden")
    round_ = builders.create_round(session, strategy, [social, culture], deadline=date(2021, 3, 26))
    secretary = builders.create_secretary(session, social, email="sekreterare.sn@kalmar.example")
    session.commit()
    return round_, draft, secretary


def test_the_secretary_downloads_the_svarsmall_of_their_referral(session, client, sent):
    round_, draft, secretary = sent
    referral = next(r for r in round_.referrals if r.body.name == "Socialnämnden")
    client.sign_in(secretary.email)

    page = client.get(f"/referrals/{referral.id}")
    assert f'href="/referrals/{referral.id}/svarsmall"' in page.text and "Hämta svarsmall (Word)" in page.text
    response = client.get(f"/referrals/{referral.id}/svarsmall")

    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "svarsmall-KS-2020-0946-Socialnamnden.docx" in response.headers["Content-Disposition"]
    template = read_reply_template(response.data)
    assert (template.referral_id, template.draft_version) == (referral.id, draft.version)
    properties = docx.Document(io.BytesIO(response.data)).core_properties
    assert properties.created.year != 2013 and properties.author == "Socialnämnden"  # nothing of python-docx's
    # Untouched, every field and comment area reads as empty: nothing is invented.
    assert not any(template.fields.values()) and template.comments == {} and template.general_comments == ""


def test_another_bodys_svarsmall_is_not_found(session, client, sent):
    round_, _draft, secretary = sent
    theirs = next(r for r in round_.referrals if r.body.name != "Socialnämnden")
    client.sign_in(secretary.email)

    assert client.get(f"/referrals/{theirs.id}/svarsmall").status_code == 404


def test_the_svarsmall_needs_a_signed_in_user(client, sent):
    round_, _draft, _secretary = sent

    response = client.get(f"/referrals/{round_.referrals[0].id}/svarsmall")

    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_a_comment_in_the_svarsmall_follows_its_section_key_after_the_heading_is_renamed(session, sent):
    """Keys, not headings, decide: the template of version 1 read against version 2, where the heading
    "Vänorter" has become "Vänorter och partnerskap"."""
    round_, draft, _secretary = sent
    section = next(s for s in draft.sections if s.heading == "Vänorter")
    from remiss.invitations import reply_template

    _name, data = reply_template(round_.referrals[0], NOW)
    filled = word_tools.fill(data, {f"remiss:section:{section.key}": ["Vänortsarbetet bör ses över."]})
    revised = drafts.import_text(session, draft.strategy.officer, NOW, draft.strategy, text="\n\n".join(
        f"# {'Vänorter och partnerskap' if s.heading == 'Vänorter' else s.heading}\n{s.text}"
        for s in draft.sections))

    renamed = next(s for s in revised.sections if s.key == section.key)
    assert renamed.heading == "Vänorter och partnerskap"
    assert read_reply_template(filled).comments == {section.key: "Vänortsarbetet bör ses över."}


def test_write_and_read_are_inverse_for_an_empty_template():
    from remiss.reply_template import TemplateFacts, TemplateSection

    facts = TemplateFacts(body_name="Socialnämnden", strategy_title="Strategi", strategy_case_reference="KS 1",
                          reply_label="Remissvar", deadline=date(2021, 3, 26), referral_id=7, draft_version=2,
                          sections=[TemplateSection("inledning", "1", "Inledning", 1)])

    assert read_reply_template(write_reply_template(facts)).referral_id == 7


# ---------------------------------------------------------------- the round trip through the import page

FILLED = {
    "stance": "Tillstyrker med synpunkter",
    "summary": ["Nämnden ställer sig bakom strategin.", "Resurserna behöver dock preciseras."],
    "proposed_decision": ["Socialnämnden överlämnar yttrandet som sitt svar på remissen."],
    "case_reference": "SN 2021/0123",
    "deciding_body": "Socialnämnden",
    "decision_date": "2021-03-18",
    "decision_paragraph": "27",
    "signatory_name": "Eva Ordförande",
    "signatory_title": "Ordförande",
    "contact": "Sara Sekreterare, sara@kalmar.example",
}


def filled_template(data: bytes, comments: dict[str, list[str]], general: list[str]) -> bytes:
    values = {f"remiss:field:{name}": value if isinstance(value, list) else [value]
              for name, value in FILLED.items()}
    values.update({f"remiss:section:{key}": paragraphs for key, paragraphs in comments.items()})
    values["remiss:general"] = general
    return word_tools.fill(data, values)


def import_and_review(client, referral_id: int, data: bytes):
    """Upload on the import page, then accept every comment where the review put it."""
    review = client.post(f"/referrals/{referral_id}/reply/import", content_type="multipart/form-data",
                         data={"file": (io.BytesIO(data), "svar.docx")})
    assert review.status_code == 200, re.findall(r"error-message[^>]*>(.*?)</p>", review.text, re.S)
    form = dict(hidden_and_selected(review.text))
    return review, client.post(f"/referrals/{referral_id}/reply/import/review", data=form,
                               content_type="multipart/form-data")


def hidden_and_selected(page: str):
    """The review form as the browser would post it untouched."""
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page):
        yield name, html.unescape(value)
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option[^>]*selected[^>]*value="([^"]*)"|<option[^>]*value="([^"]*)"[^>]*selected',
                           options)
        yield name, next(v for v in chosen.groups() if v is not None)


@pytest.mark.parametrize("route", ["python-docx", "libreoffice"])
def test_a_filled_svarsmall_imports_every_field_and_comment_where_it_was_written(session, client, sent, route,
                                                                                  tmp_path):
    round_, draft, secretary = sent
    referral = next(r for r in round_.referrals if r.body.name == "Socialnämnden")
    twinning = next(s for s in draft.sections if s.heading == "Vänorter")
    follow_up = next(s for s in draft.sections if s.number == "9.5")
    client.sign_in(secretary.email)
    template = client.get(f"/referrals/{referral.id}/svarsmall").data
    data = filled_template(template, {twinning.key: ["Vänortsarbetet bör ses över.", "Två orter räcker."],
                                      follow_up.key: ["Uppföljningen bör ske årligen."]},
                           ["Tack för möjligheten att yttra oss."])
    if route == "libreoffice":  # opened and saved again in LibreOffice, which drops every content-control tag
        path = tmp_path / "svar.docx"
        path.write_bytes(data)
        data = word_tools.convert(path, "docx", tmp_path).read_bytes()

    review, filled = import_and_review(client, referral.id, data)

    assert "svarsmallens fält" in review.text and "Kontrollera att det är rätt dokument" not in review.text
    assert filled.status_code == 200, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", filled.text))[:3000]
    form = dict(hidden_and_selected(filled.text)) | textareas(filled.text)
    assert form[f"comment_{twinning.id}"] == "Vänortsarbetet bör ses över.\n\nTvå orter räcker."
    assert form[f"comment_{follow_up.id}"] == "Uppföljningen bör ske årligen."
    assert form["general_comments"] == "Tack för möjligheten att yttra oss."
    assert form["summary"] == "Nämnden ställer sig bakom strategin.\n\nResurserna behöver dock preciseras."
    assert form["proposed_decision"] == FILLED["proposed_decision"][0]
    for name in ("case_reference", "deciding_body", "decision_paragraph", "signatory_name", "signatory_title"):
        assert form[name] == FILLED[name], name
    assert form["contact"] == FILLED["contact"]
    assert form["decision_date"] == "2021-03-18"
    assert re.search(r'<input[^>]*checked[^>]*value="approves_with_comments"|value="approves_with_comments"[^>]*'
                     r'checked', filled.text)
    assert session.scalars(select(Response)).all() == []  # nothing is saved before the secretary saves


def textareas(page: str) -> dict[str, str]:
    return {name: html.unescape(value).replace("\r\n", "\n").removeprefix("\n")
            for name, value in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S)}


def test_another_bodys_svarsmall_asks_for_confirmation(session, client, sent):
    round_, _draft, secretary = sent
    ours = next(r for r in round_.referrals if r.body.name == "Socialnämnden")
    theirs = next(r for r in round_.referrals if r.body.name != "Socialnämnden")
    from remiss.invitations import reply_template

    _name, data = reply_template(theirs, NOW)
    client.sign_in(secretary.email)

    review = client.post(f"/referrals/{ours.id}/reply/import", content_type="multipart/form-data",
                         data={"file": (io.BytesIO(data), "svar.docx")})

    assert "Dokumentet ser ut att vara ett svar från Kultur- och fritidsnämnden, inte från Socialnämnden." in \
        html.unescape(review.text)


def test_last_rounds_svarsmall_lands_on_the_renamed_heading_in_the_next_round(session, client, sent):
    """The body filled the svarsmall of version 1; the officer has since renamed "Vänorter" and sent
    version 2 in a new round. The key decides, and the same body in the same case needs no confirmation."""
    round_, draft, secretary = sent
    first = next(r for r in round_.referrals if r.body.name == "Socialnämnden")
    twinning = next(s for s in draft.sections if s.heading == "Vänorter")
    client.sign_in(secretary.email)
    data = filled_template(client.get(f"/referrals/{first.id}/svarsmall").data,
                           {twinning.key: ["Vänortsarbetet bör ses över."]}, [])
    revised = drafts.import_text(session, draft.strategy.officer, NOW, draft.strategy, text="\n\n".join(
        f"# {'Vänorter och partnerskap' if s.heading == 'Vänorter' else s.heading}\n{s.text or 'Text.'}"
        for s in draft.sections))
    second_round = builders.create_round(session, draft.strategy, [first.body], deadline=date(2021, 6, 18))
    assert second_round.draft_id == revised.id
    session.commit()
    renamed = next(s for s in revised.sections if s.key == twinning.key)

    review, filled = import_and_review(client, second_round.referrals[0].id, data)

    assert "Kontrollera att det är rätt dokument" not in review.text
    assert renamed.heading == "Vänorter och partnerskap"
    assert textareas(filled.text)[f"comment_{renamed.id}"] == "Vänortsarbetet bör ses över."
