"""The svarsmall on the referral page: made for the body and the version it was sent, downloadable only by
those who may see the referral, and keyed by section so a renamed heading in a later version does not
move a comment."""
from datetime import date

import pytest

from remiss import drafts
from remiss.reply_template import read_reply_template, write_reply_template

from . import builders

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

    _name, data = reply_template(round_.referrals[0])
    filled = fill_section(data, section.key, "Vänortsarbetet bör ses över.")
    revised = drafts.import_text(session, draft.strategy.officer, NOW, draft.strategy, text="\n\n".join(
        f"# {'Vänorter och partnerskap' if s.heading == 'Vänorter' else s.heading}\n{s.text}"
        for s in draft.sections))

    renamed = next(s for s in revised.sections if s.key == section.key)
    assert renamed.heading == "Vänorter och partnerskap"
    assert read_reply_template(filled).comments == {section.key: "Vänortsarbetet bör ses över."}


def fill_section(data: bytes, key: str, text: str) -> bytes:
    """Type `text` into the comment area tagged with `key`, as Word would (placeholder gone)."""
    import io

    import docx
    from docx.oxml.ns import qn

    document = docx.Document(io.BytesIO(data))
    for sdt in document.element.body.iter(qn("w:sdt")):
        tag = sdt.find(f"{qn('w:sdtPr')}/{qn('w:tag')}")
        if tag is None or tag.get(qn("w:val")) != f"remiss:section:{key}":
            continue
        placeholder = sdt.find(f"{qn('w:sdtPr')}/{qn('w:showingPlcHdr')}")
        if placeholder is not None:
            placeholder.getparent().remove(placeholder)
        texts = list(sdt.iter(qn("w:t")))
        texts[0].text = text
        for extra in texts[1:]:
            extra.text = ""
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_write_and_read_are_inverse_for_an_empty_template():
    from remiss.reply_template import TemplateFacts, TemplateSection

    facts = TemplateFacts(body_name="Socialnämnden", strategy_title="Strategi", strategy_case_reference="KS 1",
                          reply_label="Remissvar", deadline=date(2021, 3, 26), referral_id=7, draft_version=2,
                          sections=[TemplateSection("inledning", "1", "Inledning", 1)])

    assert read_reply_template(write_reply_template(facts)).referral_id == 7
