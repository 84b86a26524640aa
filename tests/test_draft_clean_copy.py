"""A draft uploaded with tracked changes, reviewers' comments or personal metadata: the officer is told,
keeps the original, and every body — by mail, on its referral page and on the public web — gets the
clean copy the app made."""
import functools
import html
import io
import re
from datetime import date

import docx
import pytest
from docx.oxml import parse_xml
from sqlalchemy import select

from remiss import drafts, rounds
from remiss.clean_copy import inspect_docx
from remiss.docx_files import DOCX_TYPE
from remiss.models import OutboxMessage, RoundState

from . import builders

NOW = builders.BUILT_AT
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
COMMENT = "Ska vi verkligen skriva så här?"


@functools.cache  # python-docx stamps the zip with the time: made once, the bytes compare
def reviewed_draft() -> bytes:
    """A draft as it comes back from a colleague: a tracked insertion, a reviewer's comment, names."""
    document = docx.Document()
    document.add_paragraph("Inledning", style="Heading 1")
    paragraph = document.add_paragraph("Kommunen ska ")
    paragraph._p.append(parse_xml(
        f'<w:ins xmlns:w="{W}" w:id="1" w:author="Per Granskare" w:date="2021-01-20T10:00:00Z">'
        '<w:r><w:t xml:space="preserve">gärna </w:t></w:r></w:ins>'))
    paragraph.add_run("samarbeta internationellt.")
    commented = document.add_paragraph("Alla nämnder deltar.")
    document.add_comment(commented.runs, text=COMMENT, author="Per Granskare", initials="PG")
    document.core_properties.author = "Anna Berg"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@pytest.fixture
def draft(session, officer, strategy):
    draft = drafts.import_docx(session, officer, NOW, strategy, filename="utkast.docx", data=reviewed_draft())
    session.commit()
    return draft


def page_text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.text)).split())


def test_the_clean_copy_is_made_and_the_original_kept(draft):
    assert draft.file.data == reviewed_draft()
    assert draft.clean_file is not None and draft.outgoing_file is draft.clean_file
    assert draft.clean_file.filename == "utkast.docx" and draft.clean_file.content_type == DOCX_TYPE
    assert inspect_docx(draft.clean_file.data).clean
    assert "1 spårad ändring" in draft.cleaned and "1 kommentar" in draft.cleaned
    # The accepted text is what the sections hold, with the comment nowhere.
    assert draft.sections[0].text == "Kommunen ska gärna samarbeta internationellt.\n\nAlla nämnder deltar."
    assert COMMENT.encode() not in draft.clean_file.data


def test_a_draft_with_nothing_to_remove_goes_out_as_uploaded(session, officer, strategy):
    document = docx.Document()
    document.add_paragraph("Inledning", style="Heading 1")
    document.core_properties.author = ""
    out = io.BytesIO()
    document.save(out)

    draft = drafts.import_docx(session, officer, NOW, strategy, filename="ren.docx", data=out.getvalue())

    assert draft.clean_file is None and draft.cleaned == ""
    assert draft.outgoing_file is draft.file


def test_the_officer_is_told_at_upload_and_can_download_both(session, client, officer, strategy):
    client.sign_in(officer.email)
    response = client.post(f"/strategies/{strategy.id}/drafts/new",
                           data={"file": (io.BytesIO(reviewed_draft()), "utkast.docx")},
                           content_type="multipart/form-data", follow_redirects=True)

    text = page_text(response)
    assert "Remissinstanserna får en rensad kopia; originalet sparas åt dig." in text
    assert "Det här skickas ut" in text  # the outline page says which file goes out
    draft = drafts.latest_draft(session, strategy)
    base = f"/strategies/{strategy.id}/drafts/{draft.id}/file"
    assert client.get(base).data == reviewed_draft()
    assert client.get(base + "?copy=clean").data == draft.clean_file.data


def test_the_invitation_the_referral_page_and_the_public_get_the_clean_copy(session, client, officer, strategy,
                                                                              draft):
    body = builders.create_body(session)
    secretary = builders.create_secretary(session, body, email="sek@kalmar.example")
    round_ = builders.create_round(session, strategy, [body], deadline=date(2021, 3, 26), state=RoundState.DRAFT)
    rounds.launch_round(session, officer, NOW, round_)
    session.commit()

    invitations = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "invitation")).all()
    assert invitations and all(m.attachment_ids == [draft.clean_file_id] for m in invitations)

    client.sign_in(secretary.email)
    assert client.get(f"/referrals/{round_.referrals[0].id}/draft").data == draft.clean_file.data
    client.get("/sign-out")
    assert client.get(f"/public/files/{draft.clean_file_id}").status_code == 200
    assert client.get(f"/public/files/{draft.file_id}").status_code == 404  # the original is never public
