"""Drafts from Word: an officer uploads a .docx (or pastes text), the headings become sections with
stable keys across versions, versions can be compared, read and downloaded, and a bad upload is
refused with a clear Swedish message and nothing stored.

Test files are built here with python-docx; bad files are built by hand, and kept small. A zip
bomb must be refused from the zip's headers, before anything is inflated: one test's bomb has
headers that lie about data it does not have, so only a header check can name it a bomb.
"""
import html
import io
import re
import struct
import zipfile
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import docx
import pytest
from docx.enum.style import WD_STYLE_TYPE
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from remiss import dispositions, drafts, responses
from remiss.docx_files import DOCX_TYPE
from remiss.errors import WorkflowError
from remiss.models import AuditEvent, Draft, Section, StoredFile
from remiss.responses import ReplyDraft, ReplyFields

from . import builders
from .conftest import outside_test_context

KALMAR = Path(__file__).resolve().parent.parent / "remiss" / "demo" / "kalmar-strategy-draft.docx"
SHARED_KALMAR = Path(__file__).resolve().parent.parent.parent / "shared" / "fixtures" / "kalmar-strategy-draft.docx"
NOW = builders.BUILT_AT
MB = 1024 * 1024
ZONE = ZoneInfo("Europe/Stockholm")

# The Kalmar draft's headings in order, with level and number (the title is the draft's title).
KALMAR_SECTIONS = [
    (1, "1", "Inledning"),
    (1, "2", "Nuläge"),
    (2, "2.1", "Externfinansiering och internationella projekt"),
    (1, "3", "Internationella nätverk"),
    (1, "4", "Vänorter"),
    (1, "5", "Sammantaget"),
    (1, "6", "Syfte och mål"),
    (1, "7", "Fokusområden för internationellt arbete i Kalmar"),
    (2, "7.1", "Verksamhetsutveckling och extern finansiering"),
    (2, "7.2", "Samverkan och strategiska partnerskap"),
    (2, "7.3", "Profilering och marknadsföring"),
    (1, "8", "Principer för genomförande"),
    (1, "9", "Ansvar och organisation"),
    (2, "9.1", "Kommunfullmäktige"),
    (2, "9.2", "Ansvar på politisk nivå"),
    (3, "9.2.1", "Kommunstyrelsen"),
    (3, "9.2.2", "Nämnder och bolagsstyrelser i kommunkoncernen"),
    (2, "9.3", "Ansvar på tjänstepersonnivå"),
    (3, "9.3.1", "Förvaltningar/ kommunala bolag"),
    (2, "9.4", "Samordning av internationellt arbete"),
    (2, "9.5", "Uppföljning"),
]
KALMAR_TITLE = "Strategi för internationellt arbete och externfinansierade projekt i Kalmar kommun"

NOT_WORD = "Filen är inte ett Word-dokument (.docx)"
CORRUPT = "Filen är skadad och kan inte läsas"
BOMB = "Filen packas upp till orimligt mycket data och tas inte emot."
MACROS = "Filen innehåller makron (.docm)"
EMPTY = "Filen är tom."


# ---------------------------------------------------------------- files

def kalmar_bytes() -> bytes:
    return KALMAR.read_bytes()


def word_file(*blocks, title: str | None = None) -> bytes:
    """A .docx from (style name, text) blocks; a style the template lacks is added, based on nothing."""
    document = docx.Document()
    if title is not None:
        document.core_properties.title = title
    names = {style.name for style in document.styles}
    for style, text in blocks:
        if style not in names:
            document.styles.add_style(style, WD_STYLE_TYPE.PARAGRAPH)
            names.add(style)
        document.add_paragraph(text, style=style)
    return docx_bytes(document)


def docx_bytes(document) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def rezip(data: bytes, *, add=(), replace=None, drop=()) -> bytes:
    """A copy of the zip `data` with entries added, replaced (name -> function of bytes) or dropped."""
    replace = replace or {}
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            if entry.filename in drop:
                continue
            content = source.read(entry.filename)
            target.writestr(entry.filename, replace.get(entry.filename, lambda b: b)(content))
        for name, content in add:
            target.writestr(name, content)
    return out.getvalue()


def zip_of(*entries, compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, content in entries:
            archive.writestr(name, content)
    return out.getvalue()


def minimal_docx_entries():
    """The parts of a tiny valid .docx, to build odd archives around."""
    with zipfile.ZipFile(io.BytesIO(word_file(("Heading 1", "Inledning")))) as archive:
        return [(e.filename, archive.read(e.filename)) for e in archive.infolist()]


def declare_uncompressed_sizes(data: bytes, sizes: dict[str, int]) -> bytes:
    """Make the zip's central directory claim each named entry inflates to the given size, without
    changing the data: only a check that reads the headers (not the data) can tell this from a corrupt file."""
    patched, position, found = bytearray(data), 0, set()
    while (position := patched.find(b"PK\x01\x02", position)) != -1:
        name_length = struct.unpack_from("<H", patched, position + 28)[0]
        name = patched[position + 46:position + 46 + name_length].decode()
        if name in sizes:
            struct.pack_into("<I", patched, position + 24, sizes[name])
            found.add(name)
        position += 4
    assert found == set(sizes), "entries missing from the archive"
    return bytes(patched)


def zip_bomb() -> bytes:
    """A real bomb, small on disk: 40 MB of zeros deflates to about 40 kB (ratio ~1000), written in
    chunks so the test itself never holds 40 MB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in minimal_docx_entries():
            archive.writestr(name, content)
        with archive.open("word/media/image1.png", "w", force_zip64=True) as entry:
            chunk = bytes(MB)
            for _ in range(40):
                entry.write(chunk)
    return out.getvalue()


def lying_bomb() -> bytes:
    """Headers that claim ~4 GB for a few bytes of data: refused from the headers alone."""
    archive = zip_of(*minimal_docx_entries(), ("word/media/image1.png", b"\0" * 1000))
    return declare_uncompressed_sizes(archive, {"word/media/image1.png": 0xFFFF_FFF0})


def too_much_in_total() -> bytes:
    """250 entries each claiming 900 kB: none large enough for the ratio check, 225 MB together."""
    images = {f"word/media/image{n}.png": 900 * 1024 for n in range(250)}
    archive = zip_of(*minimal_docx_entries(), *((name, b"\0" * 100) for name in images))
    return declare_uncompressed_sizes(archive, images)


def truncated_kalmar() -> bytes:
    data = kalmar_bytes()
    return data[: len(data) // 2]


def damaged_kalmar(where: float = 0.5) -> bytes:
    """The directory is intact but some of word/document.xml's compressed bytes are overwritten."""
    data = bytearray(kalmar_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        entry = archive.getinfo("word/document.xml")
    name_length, extra_length = struct.unpack_from("<HH", data, entry.header_offset + 26)
    start = entry.header_offset + 30 + name_length + extra_length + int(entry.compress_size * where)
    data[start:start + 64] = b"\xff" * 64
    return bytes(data)


def with_vba_project() -> bytes:
    return rezip(kalmar_bytes(), add=[("word/vbaProject.bin", b"\xd0\xcf\x11\xe0 macro")])


def macro_content_type() -> bytes:
    main = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    macro = b"application/vnd.ms-word.document.macroEnabled.main+xml"
    return rezip(kalmar_bytes(), replace={"[Content_Types].xml": lambda b: b.replace(main, macro)})


# Every way an upload is refused: (what the officer chose, file name, bytes, the message they see).
BAD_UPLOADS = [
    pytest.param("tom.docx", lambda: b"", EMPTY, id="empty file"),
    pytest.param("strategi.docx", lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
                 NOT_WORD, id="PDF renamed to .docx"),
    pytest.param("strategi.docx", lambda: "Internationell strategi\n\nInledning\nText.\n".encode(), NOT_WORD,
                 id="plain text renamed to .docx"),
    pytest.param("strategi.docx", lambda: zip_of(("hej.txt", b"hej")), NOT_WORD, id="a zip that is not Word"),
    pytest.param("strategi.docx", lambda: rezip(kalmar_bytes(), drop={"[Content_Types].xml"}), NOT_WORD,
                 id="a package without content types"),
    pytest.param("strategi.docx", truncated_kalmar, CORRUPT, id="truncated download"),
    pytest.param("strategi.docx", damaged_kalmar, CORRUPT, id="damaged bytes inside (bad checksum)"),
    pytest.param("strategi.docx", lambda: damaged_kalmar(where=0), CORRUPT,
                 id="damaged start of the compressed data (inflating fails)"),
    pytest.param("strategi.docx", zip_bomb, BOMB, id="zip bomb"),
    pytest.param("strategi.docx", lying_bomb, BOMB, id="zip bomb by its headers"),
    pytest.param("strategi.docx", too_much_in_total, BOMB, id="too much uncompressed in total"),
    pytest.param("strategi.docm", kalmar_bytes, MACROS, id="macro-enabled .docm by name"),
    pytest.param("strategi.docx", with_vba_project, MACROS, id=".docm renamed to .docx"),
    pytest.param("strategi.docx", macro_content_type, MACROS, id="macro-enabled content type"),
]


# ---------------------------------------------------------------- the database

def count(session, model) -> int:
    found = session.scalar(select(func.count()).select_from(model))
    session.commit()  # end the read, so the next request's writes are not waiting on this test
    return found


def nothing_stored(session) -> bool:
    return count(session, StoredFile) == 0 and count(session, Draft) == 0 and count(session, Section) == 0


def sections_of(draft) -> list[tuple[int, str, str]]:
    return [(s.level, s.number, s.heading) for s in draft.sections]


def keys_by_heading(draft) -> dict[str, str]:
    return {s.heading: s.key for s in draft.sections}


@pytest.fixture
def signed_in(client, officer, strategy):
    client.sign_in(officer.email)
    return client


def upload(client, strategy_id: int, data: bytes, filename: str = "strategi.docx", **fields):
    """The officer picks a file on the new-version form and saves."""
    url = f"/strategies/{strategy_id}/drafts/new"
    if len(data) < 400 * 1024:
        return client.post(url, data={"file": (io.BytesIO(data), filename), **fields},
                           content_type="multipart/form-data")
    return post_multipart(client, url, {**fields, "file": FileStorage(io.BytesIO(data), filename=filename)})


def post_multipart(client, url: str, fields: dict):
    """A multipart form post encoded in memory. Werkzeug's test client spools a large multipart body
    to a temporary file it never closes (a ResourceWarning, an error in this suite)."""
    boundary, body = encode_multipart({"csrf_token": client.csrf_token(), **fields})
    return outside_test_context(client.http.post, url, input_stream=io.BytesIO(body),
                                content_type=f'multipart/form-data; boundary="{boundary}"')


def latest(session, strategy_id: int) -> Draft:
    session.expire_all()
    return session.scalars(select(Draft).where(Draft.strategy_id == strategy_id).order_by(Draft.version.desc())).first()


def page_text(response) -> str:
    """The page as a reader sees it: tags dropped, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.text)).split())


# ---------------------------------------------------------------- headings into sections

def test_the_demo_copy_of_the_kalmar_draft_is_the_shared_fixture():
    if not SHARED_KALMAR.exists():
        pytest.skip(f"no ../shared beside this checkout ({SHARED_KALMAR}); the demo copy is used as it is")
    assert SHARED_KALMAR.read_bytes() == kalmar_bytes()


def test_the_kalmar_draft_becomes_its_21_headed_sections_in_order(session, officer, strategy):
    draft = drafts.import_docx(session, officer, NOW, strategy, filename="kalmar-strategy-draft.docx",
                               data=kalmar_bytes())

    assert sections_of(draft) == KALMAR_SECTIONS
    assert draft.title == KALMAR_TITLE  # the Title-styled paragraph names the draft, it is no section
    assert draft.version == 1


def test_a_subheading_sits_one_level_below_its_heading(session, officer, strategy):
    draft = drafts.import_docx(session, officer, NOW, strategy, filename="k.docx", data=kalmar_bytes())
    headings = [s.heading for s in draft.sections]
    focus = headings.index("Fokusområden för internationellt arbete i Kalmar")
    below = draft.sections[focus + 1]

    assert below.heading == "Verksamhetsutveckling och extern finansiering"
    assert (below.level, below.number) == (2, "7.1")
    assert draft.sections[focus].level == 1


def test_each_section_keeps_the_text_under_its_heading(session, officer, strategy):
    draft = drafts.import_docx(session, officer, NOW, strategy, filename="k.docx", data=kalmar_bytes())
    by_heading = {s.heading: s for s in draft.sections}

    assert by_heading["Vänorter"].text.startswith("Kommunen har samarbetsavtal/vänortsavtal med nio städer")
    assert by_heading["Nuläge"].text == ""  # a heading followed directly by its subheading
    # Bulleted lists belong to the section above them.
    assert "Ha kunskap om och avsätta resurser" in by_heading["Verksamhetsutveckling och extern finansiering"].text
    assert "Kommunen har samarbetsavtal" not in by_heading["Internationella nätverk"].text


def test_swedish_heading_styles_count_like_the_english_ones(session, officer, strategy):
    data = word_file(("Rubrik", "Strategi för kultur"),
                     ("Rubrik 1", "Bakgrund"), ("Normal", "Varför en strategi."),
                     ("Rubrik 2", "Tidigare arbete"), ("Normal", "Det som har gjorts."),
                     ("Rubrik 3", "Kulturrådet"), ("Normal", "Rådets roll."),
                     ("Heading 1", "Mål"), ("Normal", "Målen."))

    draft = drafts.import_docx(session, officer, NOW, strategy, filename="kultur.docx", data=data)

    assert draft.title == "Strategi för kultur"
    assert sections_of(draft) == [(1, "1", "Bakgrund"), (2, "1.1", "Tidigare arbete"), (3, "1.1.1", "Kulturrådet"),
                                  (1, "2", "Mål")]
    assert draft.sections[2].text == "Rådets roll."


def test_a_custom_style_based_on_a_heading_is_a_heading_of_that_level(session, officer, strategy):
    document = docx.Document()
    own = document.styles.add_style("Kommunens rubrik", WD_STYLE_TYPE.PARAGRAPH)
    own.base_style = document.styles["Heading 2"]
    document.add_paragraph("Inledning", style="Heading 1")
    document.add_paragraph("Egen stil", style="Kommunens rubrik")
    document.add_paragraph("Text under den egna stilen.")

    draft = drafts.import_docx(session, officer, NOW, strategy, filename="egen.docx", data=docx_bytes(document))

    assert sections_of(draft) == [(1, "1", "Inledning"), (2, "1.1", "Egen stil")]
    assert draft.sections[1].text == "Text under den egna stilen."


def test_text_before_the_first_heading_becomes_an_introduction(session, officer, strategy):
    data = word_file(("Normal", "Dnr KS 2020/0946"), ("Normal", "Remissversion."),
                     ("Heading 1", "Syfte"), ("Normal", "Syftet."))

    draft = drafts.import_docx(session, officer, NOW, strategy, filename="utkast.docx", data=data)

    assert sections_of(draft) == [(1, "1", "Inledande text"), (1, "2", "Syfte")]
    assert draft.sections[0].text == "Dnr KS 2020/0946\n\nRemissversion."


def test_a_document_without_headings_is_one_section_called_hela_dokumentet(session, officer, strategy):
    data = word_file(("Normal", "Första stycket."), ("Normal", "Andra stycket."), title="Utkast utan rubriker")

    draft = drafts.import_docx(session, officer, NOW, strategy, filename="platt.docx", data=data)

    assert sections_of(draft) == [(1, "1", "Hela dokumentet")]
    assert draft.sections[0].text == "Första stycket.\n\nAndra stycket."
    assert draft.title == "Utkast utan rubriker"  # from the document's properties when it has no Title


def test_a_heading_that_skips_a_level_is_numbered_as_the_next_level_down(session, officer, strategy):
    data = word_file(("Heading 1", "Ansvar"), ("Heading 3", "Nämnderna"), ("Heading 2", "Bolagen"))

    draft = drafts.import_docx(session, officer, NOW, strategy, filename="hopp.docx", data=data)

    assert [s.number for s in draft.sections] == ["1", "1.1", "1.2"]


def test_pasted_text_with_hash_headings_becomes_sections(session, officer, strategy):
    text = ("Remissversion januari 2021.\n\n# Inledning\nBakgrund i två\nrader.\n\n## Omvärld\nEU och staten.\n\n"
            "### Regionen\nRegion Kalmar län.\n\n# Mål\nMålen.")

    draft = drafts.import_text(session, officer, NOW, strategy, text=text, title="Internationell strategi, utkast")

    assert sections_of(draft) == [(1, "1", "Inledande text"), (1, "2", "Inledning"), (2, "2.1", "Omvärld"),
                                  (3, "2.1.1", "Regionen"), (1, "3", "Mål")]
    assert draft.sections[1].text == "Bakgrund i två rader."
    assert draft.title == "Internationell strategi, utkast"
    assert draft.source_text == text and draft.file is None


def test_pasted_text_without_headings_is_one_section(session, officer, strategy):
    draft = drafts.import_text(session, officer, NOW, strategy, text="Bara text.\n\nOch ett stycke till.")

    assert sections_of(draft) == [(1, "1", "Hela dokumentet")]
    assert draft.title == strategy.title  # no title given, none in the text: the strategy's


# ---------------------------------------------------------------- versions and stable keys

def test_each_new_version_is_numbered_after_the_last(session, officer, strategy):
    first = drafts.import_docx(session, officer, NOW, strategy, filename="v1.docx", data=kalmar_bytes())
    second = drafts.import_text(session, officer, NOW, strategy, text="# Inledning\nNy text.")
    third = drafts.import_docx(session, officer, NOW, strategy, filename="v3.docx", data=kalmar_bytes())
    other = drafts.import_text(session, officer, NOW, builders.create_strategy(session, officer=officer),
                               text="# Annat")

    assert [first.version, second.version, third.version] == [1, 2, 3]
    assert other.version == 1  # numbered per strategy
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "draft.added",
                                                      AuditEvent.strategy_id == strategy.id)).all()
    assert sorted(e.after for e in events) == ["version 1", "version 2", "version 3"]


def test_the_same_document_again_keeps_every_key(session, officer, strategy):
    first = drafts.import_docx(session, officer, NOW, strategy, filename="v1.docx", data=kalmar_bytes())
    second = drafts.import_docx(session, officer, NOW, strategy, filename="v2.docx", data=kalmar_bytes())

    assert [s.key for s in second.sections] == [s.key for s in first.sections]
    assert len({s.key for s in first.sections}) == 21  # unique within a version


def revised_kalmar() -> bytes:
    """Version 2 of the Kalmar draft as an officer would edit it in Word: 'Vänorter' renamed,
    'Sammantaget' removed, a new section on climate, 'Uppföljning' rewritten, and 'Internationella
    nätverk' moved down to just before 'Ansvar och organisation'."""
    document = docx.Document(io.BytesIO(kalmar_bytes()))

    def is_heading(p):
        return p.style.name.startswith("Heading")

    def section(heading):
        """The heading's paragraph and those under it, up to the next heading."""
        paragraphs = document.paragraphs
        start = next(i for i, p in enumerate(paragraphs) if is_heading(p) and p.text == heading)
        end = next((i for i in range(start + 1, len(paragraphs)) if is_heading(paragraphs[i])), len(paragraphs))
        return paragraphs[start:end]

    section("Vänorter")[0].text = "Vänorter och partnerskap"
    for p in section("Sammantaget"):
        p._p.getparent().remove(p._p)
    for p in section("Uppföljning")[1:]:
        p.text = "Strategin följs upp varje år i årsredovisningen och revideras när en ny programperiod börjar."
    end_of_goals = section("Syfte och mål")[-1]._p
    end_of_goals.addnext(document.add_paragraph("Kalmar ska söka medel för klimatomställning varje period.")._p)
    end_of_goals.addnext(document.add_paragraph("Klimat och hållbarhet", style="Heading 1")._p)
    before = section("Ansvar och organisation")[0]._p
    for p in section("Internationella nätverk"):
        before.addprevious(p._p)
    return docx_bytes(document)


REVISED_HEADINGS = [
    "Inledning", "Nuläge", "Externfinansiering och internationella projekt", "Vänorter och partnerskap",
    "Syfte och mål", "Klimat och hållbarhet", "Fokusområden för internationellt arbete i Kalmar",
    "Verksamhetsutveckling och extern finansiering", "Samverkan och strategiska partnerskap",
    "Profilering och marknadsföring", "Principer för genomförande", "Internationella nätverk",
    "Ansvar och organisation", "Kommunfullmäktige", "Ansvar på politisk nivå", "Kommunstyrelsen",
    "Nämnder och bolagsstyrelser i kommunkoncernen", "Ansvar på tjänstepersonnivå",
    "Förvaltningar/ kommunala bolag", "Samordning av internationellt arbete", "Uppföljning",
]


def test_a_revised_upload_keeps_the_keys_of_kept_renamed_and_moved_sections(session, officer, strategy):
    first = drafts.import_docx(session, officer, NOW, strategy, filename="v1.docx", data=kalmar_bytes())
    second = drafts.import_docx(session, officer, NOW, strategy, filename="v2.docx", data=revised_kalmar())
    old, new = keys_by_heading(first), keys_by_heading(second)

    assert [s.heading for s in second.sections] == REVISED_HEADINGS
    assert new["Vänorter och partnerskap"] == old["Vänorter"]  # renamed
    assert new["Internationella nätverk"] == old["Internationella nätverk"]  # moved
    assert new["Uppföljning"] == old["Uppföljning"]  # rewritten text, same heading
    for heading in set(old) & set(new):
        assert new[heading] == old[heading], heading
    assert new["Klimat och hållbarhet"] not in old.values()  # added: a key of its own
    assert old["Sammantaget"] not in new.values()  # removed: its key is not reused


def test_a_renamed_heading_with_rewritten_text_is_matched_by_its_heading(session, officer, strategy):
    first = drafts.import_text(session, officer, NOW, strategy,
                               text="# Syfte och mål\nKalmar ska växa.\n\n# Ansvar\nKommunstyrelsen.")
    second = drafts.import_text(session, officer, NOW, strategy,
                                text="# Syfte och målsättningar\nHelt ny text om vad vi vill.\n\n# Ansvar\nKS.")

    assert second.sections[0].key == first.sections[0].key


def test_a_rewritten_heading_over_the_same_text_is_the_same_section(session, officer, strategy):
    body = "Kommunen har samarbetsavtal med nio städer i lika många länder och arbetar aktivt med fyra av dem."
    first = drafts.import_text(session, officer, NOW, strategy, text=f"# Vänorter\n{body}")
    second = drafts.import_text(session, officer, NOW, strategy, text=f"# Städer vi samarbetar med\n{body}")

    assert second.sections[0].key == first.sections[0].key


def test_an_unrelated_new_heading_does_not_take_a_removed_sections_key(session, officer, strategy):
    first = drafts.import_text(session, officer, NOW, strategy, text="# Inledning\nA.\n\n# Sammantaget\nB.")
    second = drafts.import_text(session, officer, NOW, strategy, text="# Inledning\nA.\n\n# Klimat\nHelt annat.")

    assert second.sections[0].key == first.sections[0].key
    assert second.sections[1].key != first.sections[1].key


def test_assign_keys_gives_headings_that_repeat_keys_of_their_own():
    parsed = drafts.parse_text("# Bakgrund\nA.\n\n# Mål\nB.\n\n# Bakgrund\nC.")

    keys = drafts.assign_keys([], parsed)

    assert len(set(keys)) == 3
    assert keys[0] == "bakgrund" and keys[2].startswith("bakgrund")


def test_assign_keys_continues_the_previous_versions_sections(session, officer, strategy):
    previous = drafts.import_text(session, officer, NOW, strategy, text="# Mål\nX.\n\n# Ansvar\nY.")

    keys = drafts.assign_keys(previous.sections, drafts.parse_text("# Ansvar\nY.\n\n# Nytt\nZ.\n\n# Mål\nX."))

    assert keys[0] == previous.sections[1].key and keys[2] == previous.sections[0].key
    assert keys[1] not in {s.key for s in previous.sections}


# ---------------------------------------------------------------- comparing versions

def test_compare_lists_sections_added_removed_renamed_and_changed(session, officer, strategy):
    first = drafts.import_docx(session, officer, NOW, strategy, filename="v1.docx", data=kalmar_bytes())
    second = drafts.import_docx(session, officer, NOW, strategy, filename="v2.docx", data=revised_kalmar())

    changes = drafts.compare_drafts(first, second)
    kinds = {}
    for change in changes:
        kinds.setdefault(change.kind, []).append((change.new or change.old).heading)

    assert kinds["added"] == ["Klimat och hållbarhet"]
    assert kinds["removed"] == ["Sammantaget"]
    assert kinds["renamed"] == ["Vänorter och partnerskap"]
    assert kinds["changed"] == ["Uppföljning"]
    assert "Internationella nätverk" in kinds["unchanged"]  # moved, its text the same
    renamed = next(c for c in changes if c.kind == "renamed")
    assert renamed.old.heading == "Vänorter" and not renamed.text_changed
    assert len(changes) == 22  # every section of both versions, once


def test_compare_puts_a_removed_section_where_it_stood(session, officer, strategy):
    first = drafts.import_text(session, officer, NOW, strategy, text="# A\n1.\n\n# B\n2.\n\n# C\n3.")
    second = drafts.import_text(session, officer, NOW, strategy, text="# A\n1.\n\n# C\n3.")

    changes = drafts.compare_drafts(first, second)

    assert [(c.kind, (c.new or c.old).heading) for c in changes] == [
        ("unchanged", "A"), ("removed", "B"), ("unchanged", "C")]


# ---------------------------------------------------------------- the pages, as an officer uses them

def test_officer_uploads_the_kalmar_draft_and_reads_it(session, signed_in, officer, strategy):
    response = upload(signed_in, strategy.id, kalmar_bytes(), "kalmar-strategy-draft.docx")

    draft = latest(session, strategy.id)
    assert response.status_code == 302
    # The headings found are shown first, for the officer to confirm.
    assert response.headers["Location"].endswith(f"/strategies/{strategy.id}/drafts/{draft.id}/outline")
    assert sections_of(draft) == KALMAR_SECTIONS
    assert draft.created_by_id == officer.id

    page = signed_in.get(f"/strategies/{strategy.id}/drafts/{draft.id}")
    assert page.status_code == 200
    for section in draft.sections:
        assert f'id="avsnitt-{section.key}"' in page.text
        assert f'href="#avsnitt-{section.key}"' in page.text  # the table of contents links to it
    text = page_text(page)
    assert "7.1 Verksamhetsutveckling och extern finansiering" in text
    assert "Kommunen har samarbetsavtal/vänortsavtal med nio städer" in text
    assert KALMAR_TITLE in text


def test_the_saved_version_is_announced_with_its_number_and_sections(session, signed_in, strategy):
    upload(signed_in, strategy.id, kalmar_bytes())

    draft = latest(session, strategy.id)
    page = signed_in.get(f"/strategies/{strategy.id}/drafts/{draft.id}")
    assert "Version 1 är sparad med 21 avsnitt." in page_text(page)


def test_the_original_file_is_kept_and_downloadable_byte_for_byte(session, signed_in, strategy):
    original = kalmar_bytes()
    upload(signed_in, strategy.id, original, "Internationell strategi – remissversion.docx")
    draft = latest(session, strategy.id)

    response = signed_in.get(f"/strategies/{strategy.id}/drafts/{draft.id}/file")

    assert response.status_code == 200
    assert response.data == original
    assert response.mimetype == DOCX_TYPE
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "Internationell%20strategi%20%E2%80%93%20remissversion.docx" in response.headers["Content-Disposition"]
    assert draft.file.size == len(original)
    shown = signed_in.get(f"/strategies/{strategy.id}/drafts/{draft.id}")
    assert f"/strategies/{strategy.id}/drafts/{draft.id}/file" in shown.text


def test_a_pasted_version_has_no_file_to_download(session, signed_in, strategy):
    response = signed_in.post(f"/strategies/{strategy.id}/drafts/new", {"text": "# Inledning\nText."})
    draft = latest(session, strategy.id)

    assert response.status_code == 302
    assert sections_of(draft) == [(1, "1", "Inledning")]
    assert signed_in.get(f"/strategies/{strategy.id}/drafts/{draft.id}/file").status_code == 404


def test_officer_pastes_text_with_headings_and_a_title(session, signed_in, strategy):
    signed_in.post(f"/strategies/{strategy.id}/drafts/new",
                   {"text": "Förord.\r\n\r\n# Mål & medel <2030>\r\nMålen.\r\n## Delmål\r\nDelmålen.",
                    "title": "Utkast 2"})

    draft = latest(session, strategy.id)
    assert draft.title == "Utkast 2"
    assert sections_of(draft) == [(1, "1", "Inledande text"), (1, "2", "Mål & medel <2030>"), (2, "2.1", "Delmål")]
    page = signed_in.get(f"/strategies/{strategy.id}/drafts/{draft.id}")
    assert all(f'id="avsnitt-{s.key}"' in page.text for s in draft.sections)
    assert "2 Mål &amp; medel &lt;2030&gt;" in page.text and "<2030>" not in page.text  # text, never markup


def test_a_long_pasted_text_within_the_forms_limit_is_saved(session, signed_in, strategy):
    """The form takes 500 000 characters; with å, ä and ö that is more than 500 kB of form data,
    which the browser sends as multipart (the form also takes a file)."""
    text = "# Inledning\n" + "Kalmar är en stad vid sundet; där möts åar och öar. " * 9500
    assert len(text) < 500_000 < len(text.encode())

    response = post_multipart(signed_in, f"/strategies/{strategy.id}/drafts/new", {"text": text})

    assert response.status_code == 302, page_text(response)[:300]
    assert len(latest(session, strategy.id).sections[0].text) > 480_000


def test_saving_neither_file_nor_text_asks_for_one(session, signed_in, strategy):
    response = signed_in.post(f"/strategies/{strategy.id}/drafts/new", {"text": "  "})

    assert response.status_code == 422
    assert "Välj en Word-fil eller klistra in texten." in page_text(response)
    assert nothing_stored(session)


def test_officer_uploads_a_second_version_and_it_is_version_two(session, signed_in, strategy):
    upload(signed_in, strategy.id, kalmar_bytes(), "v1.docx")
    form = signed_in.get(f"/strategies/{strategy.id}/drafts/new")
    assert "Den nya versionen får nummer 2." in page_text(form)

    upload(signed_in, strategy.id, revised_kalmar(), "v2.docx")

    assert [d.version for d in session.scalars(select(Draft).order_by(Draft.version))] == [1, 2]
    # Each version keeps its own original, and the clean copy that goes out (the Kalmar file names its author).
    assert count(session, StoredFile) == 4
    overview = page_text(signed_in.get(f"/strategies/{strategy.id}"))
    assert "Ladda ner v1.docx" in overview and "Ladda ner v2.docx" in overview


def change_rows(response) -> list[tuple[str, str]]:
    """(kind, what the row says) for every row of the comparison table."""
    rows = re.findall(r'<tr class="change change--(\w+)">(.*?)</tr>', response.text, re.S)
    return [(kind, " ".join(html.unescape(re.sub(r"<[^>]+>", " ", row)).split())) for kind, row in rows]


def test_officer_compares_two_versions_and_sees_what_changed(session, signed_in, strategy):
    upload(signed_in, strategy.id, kalmar_bytes(), "v1.docx")
    upload(signed_in, strategy.id, revised_kalmar(), "v2.docx")

    response = signed_in.get(f"/strategies/{strategy.id}/compare")

    assert response.status_code == 200
    assert "Version 1 jämförd med version 2" in page_text(response)
    rows = change_rows(response)
    assert ("added", "5 Klimat och hållbarhet nytt avsnitt") in rows
    assert ("removed", "5 Sammantaget borttaget") in rows
    assert ('renamed', '3 Vänorter och partnerskap ny rubrik (förut "Vänorter")') in rows
    assert ("changed", "9.5 Uppföljning texten ändrad") in rows
    assert ("unchanged", "8 Internationella nätverk oförändrat") in rows
    assert len(rows) == 22


def test_officer_chooses_which_versions_to_compare(session, signed_in, strategy):
    upload(signed_in, strategy.id, kalmar_bytes(), "v1.docx")
    upload(signed_in, strategy.id, revised_kalmar(), "v2.docx")
    upload(signed_in, strategy.id, kalmar_bytes(), "v3.docx")
    v1, v2, v3 = session.scalars(select(Draft).order_by(Draft.version)).all()

    latest_two = change_rows(signed_in.get(f"/strategies/{strategy.id}/compare"))
    first_to_last = change_rows(signed_in.get(f"/strategies/{strategy.id}/compare?from={v1.id}&to={v3.id}"))

    assert ("added", "5 Sammantaget nytt avsnitt") in latest_two  # version 2 → 3 by default
    assert ("removed", "5 Klimat och hållbarhet borttaget") in latest_two
    assert {kind for kind, _ in first_to_last} == {"unchanged"}  # versions 1 and 3 are the same file
    assert "Version 1 jämförd med version 3" in page_text(
        signed_in.get(f"/strategies/{strategy.id}/compare?from={v1.id}&to={v3.id}"))
    assert signed_in.get(f"/strategies/{strategy.id}/compare?from={v1.id}&to=999999").status_code == 404


def test_comparing_needs_two_versions(session, signed_in, strategy):
    upload(signed_in, strategy.id, kalmar_bytes())

    assert signed_in.get(f"/strategies/{strategy.id}/compare").status_code == 404


# ---------------------------------------------------------------- refused uploads

@pytest.mark.parametrize(("filename", "make", "message"), BAD_UPLOADS)
def test_the_workflow_refuses_a_bad_file_and_stores_nothing(session, officer, strategy, filename, make, message):
    with pytest.raises(WorkflowError) as refused:
        drafts.import_docx(session, officer, NOW, strategy, filename=filename, data=make())

    assert message in str(refused.value.message)
    assert refused.value.field == "file"
    session.rollback()
    assert nothing_stored(session)


@pytest.mark.parametrize(("filename", "make", "message"), BAD_UPLOADS)
def test_officer_uploading_a_bad_file_sees_why_and_nothing_is_stored(session, signed_in, strategy, filename, make,
                                                                     message):
    response = upload(signed_in, strategy.id, make(), filename)

    assert response.status_code == 422
    assert message in page_text(response)
    assert 'id="file-error"' in response.text  # the message sits at the file field
    assert nothing_stored(session)
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "draft.added")) == 0


def test_a_bad_upload_leaves_the_earlier_versions_alone(session, signed_in, strategy):
    upload(signed_in, strategy.id, kalmar_bytes(), "v1.docx")

    response = upload(signed_in, strategy.id, truncated_kalmar(), "v2.docx")

    assert response.status_code == 422
    assert [d.version for d in session.scalars(select(Draft))] == [1]
    assert count(session, StoredFile) == 2  # version 1's original and its clean copy
    assert "Den nya versionen får nummer 2." in page_text(response)


def test_the_bomb_check_reads_only_the_headers(session, officer, strategy, monkeypatch):
    """Inflating anything of the bomb would fail loudly here."""
    def no_inflating(*args, **kwargs):
        raise AssertionError("the archive was inflated before its headers were checked")

    bomb = zip_bomb()
    monkeypatch.setattr(zipfile.ZipFile, "open", no_inflating)

    with pytest.raises(WorkflowError) as refused:
        drafts.import_docx(session, officer, NOW, strategy, filename="bomb.docx", data=bomb)

    assert BOMB in str(refused.value.message)


# ---------------------------------------------------------------- size limits

def test_the_upload_limit_is_twenty_megabytes_by_default(app):
    assert app.config["MAX_UPLOAD_SIZE"] == 20 * MB
    assert app.config["MAX_CONTENT_LENGTH"] > app.config["MAX_UPLOAD_SIZE"]  # room for the form around the file


@pytest.mark.parametrize("app", [{"MAX_UPLOAD_SIZE": 1 * MB, "MAX_CONTENT_LENGTH": 2 * MB}], indirect=True)
def test_the_workflow_refuses_a_file_over_the_upload_limit(session, officer, strategy):
    too_big = kalmar_bytes() + bytes(MB)

    with pytest.raises(WorkflowError) as refused:
        drafts.import_docx(session, officer, NOW, strategy, filename="stor.docx", data=too_big)

    assert str(refused.value.message) == "Filen är större än 1 MB."
    session.rollback()
    assert nothing_stored(session)
    # Just under the limit is fine.
    assert drafts.import_docx(session, officer, NOW, strategy, filename="ok.docx", data=kalmar_bytes()).version == 1


@pytest.mark.parametrize("app", [{"MAX_UPLOAD_SIZE": 1 * MB, "MAX_CONTENT_LENGTH": 2 * MB}], indirect=True)
def test_officer_uploading_a_file_over_the_limit_is_told_the_limit(session, signed_in, strategy):
    response = upload(signed_in, strategy.id, kalmar_bytes() + bytes(MB + MB // 2), "stor.docx")

    assert response.status_code == 422
    assert "Filen är större än 1 MB." in page_text(response)
    assert nothing_stored(session)


@pytest.mark.parametrize("app", [{"MAX_UPLOAD_SIZE": 1 * MB, "MAX_CONTENT_LENGTH": 2 * MB}], indirect=True)
def test_a_request_over_the_body_limit_gets_the_swedish_413_page(session, signed_in, strategy):
    response = upload(signed_in, strategy.id, bytes(3 * MB), "jättestor.docx")

    assert response.status_code == 413
    text = page_text(response)
    assert "Filen är för stor" in text
    assert "Filen är större än 1 MB. Välj en mindre fil och försök igen." in text  # the upload limit, not the request limit
    assert nothing_stored(session)


class CountingStream(io.RawIOBase):
    """A request body of `size` bytes that is never held in memory, and counts what the server reads."""

    def __init__(self, size: int):
        self.size, self.position, self.read_so_far = size, 0, 0

    def readable(self):
        return True

    def seekable(self):
        return True  # the test client measures the body by seeking to its end

    def seek(self, offset, whence=io.SEEK_SET):
        self.position = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence] + offset
        return self.position

    def tell(self):
        return self.position

    def readinto(self, buffer):
        n = max(0, min(len(buffer), self.size - self.position))
        buffer[:n] = bytes(n)
        self.position += n
        self.read_so_far += n
        return n


@pytest.mark.parametrize("app", [{"MAX_UPLOAD_SIZE": 1 * MB, "MAX_CONTENT_LENGTH": 2 * MB}], indirect=True)
def test_the_server_refuses_an_oversized_body_before_reading_it(session, signed_in, strategy):
    body = CountingStream(500 * MB)

    response = outside_test_context(
        signed_in.http.post, f"/strategies/{strategy.id}/drafts/new", input_stream=body,
        content_type="multipart/form-data; boundary=x", headers={"Content-Length": str(body.size)})

    assert response.status_code == 413
    assert "Filen är för stor" in page_text(response)
    assert body.read_so_far <= 2 * MB  # refused from the declared length, not after 500 MB
    assert nothing_stored(session)


# ---------------------------------------------------------------- who may

def test_the_stored_file_name_drops_the_path_a_browser_may_send(session, officer, strategy):
    draft = drafts.import_docx(session, officer, NOW, strategy, filename="C:\\Users\\sara\\Strategi v1.docx",
                               data=kalmar_bytes())

    assert draft.file.filename == "Strategi v1.docx"
    assert draft.file.content_type == DOCX_TYPE and draft.file.uploaded_by_id == officer.id


def test_a_secretary_downloads_only_the_version_sent_to_them(session, client, officer, strategy):
    body = builders.create_body(session, name="Socialnämnden")
    secretary = builders.create_secretary(session, body)
    sent = drafts.import_docx(session, officer, NOW, strategy, filename="remissversion.docx", data=kalmar_bytes())
    round_ = builders.create_round(session, strategy, [body])
    unsent = drafts.import_docx(session, officer, NOW, strategy, filename="arbetsversion.docx",
                                data=revised_kalmar())
    session.commit()
    client.sign_in(secretary.email)

    from_referral = client.get(f"/referrals/{round_.referrals[0].id}/draft")

    # The copy that went out: the Kalmar file's author is not mailed to every body.
    assert from_referral.status_code == 200 and from_referral.data == sent.clean_file.data
    assert sections_of(drafts.outline(sent)) == KALMAR_SECTIONS
    # The officer's pages for the strategy's versions, unsent work included, are not theirs.
    for draft in (sent, unsent):
        assert client.get(f"/strategies/{strategy.id}/drafts/{draft.id}/file").status_code == 404
        assert client.get(f"/strategies/{strategy.id}/drafts/{draft.id}").status_code == 404
    assert client.get(f"/strategies/{strategy.id}/compare").status_code == 404


def test_a_secretary_cannot_upload_a_draft(session, client, strategy):
    body = builders.create_body(session)
    secretary = builders.create_secretary(session, body)
    session.commit()
    client.sign_in(secretary.email)

    response = upload(client, strategy.id, kalmar_bytes())

    assert response.status_code == 404
    assert nothing_stored(session)



# ---------------------------------------------------------------- the next version, with the referral's comments

V1 = ("# Inledning\nBakgrunden.\n\n# Syfte och mål\nMålen.\n\n# Ansvar\nVem gör vad.\n\n"
      "# Uppföljning\nÅrlig uppföljning.")
# After the round: the aims are rewritten, the responsibilities kept as they were, the follow-up
# dropped and a section on the climate added.
V2 = ("# Inledning\nBakgrunden.\n\n# Syfte och mål\nMålen, mätbara till 2030.\n\n# Ansvar\nVem gör vad.\n\n"
      "# Klimat\nNytt om klimatet.")


def reply_to(session, referral, secretary, comments: dict[str, str], general: str = "", *, submit: bool = True):
    """The secretary saves a reply with comments under the named headings, and submits it unless told."""
    sections = {s.heading: s for s in referral.round.draft.sections}
    draft = ReplyDraft(fields=ReplyFields(stance="approves_with_comments"),
                       comments={sections[h].id: text for h, text in comments.items()}, general_comments=general)
    existing = responses.response_of(session, referral)
    saved = responses.save_reply(session, secretary, NOW, referral,
                                 version=existing.lock_version if existing else None, draft=draft)
    if submit:
        responses.submit_reply(session, secretary, NOW, referral, version=saved.lock_version)


def send_version_one(session, officer, strategy, bodies: list[str]):
    """Version 1 out on referral to the named bodies, each with a secretary; (draft, round, referral and
    secretary by body name)."""
    found = {name: builders.create_body(session, name=name) for name in bodies}
    secretaries = {name: builders.create_secretary(session, body) for name, body in found.items()}
    first = drafts.import_text(session, officer, NOW, strategy, text=V1)
    round_ = builders.create_round(session, strategy, list(found.values()))
    referrals = {name: next(r for r in round_.referrals if r.body_id == body.id) for name, body in found.items()}
    return first, round_, referrals, secretaries


@pytest.fixture
def referred(session, officer, strategy):
    """Version 1 went out; the social board and the culture board commented, the officer handled two of the
    comments, the social board's secretary went on editing a working copy; then came version 2."""
    first, round_, referrals, secretaries = send_version_one(
        session, officer, strategy, ["Socialnämnden", "Kultur- och fritidsnämnden"])
    social, culture = referrals["Socialnämnden"], referrals["Kultur- och fritidsnämnden"]
    reply_to(session, social, secretaries["Socialnämnden"],
             {"Syfte och mål": "Målen behöver gå att mäta.", "Ansvar": "Ansvaret behöver förtydligas."},
             general="Tack för möjligheten.")
    reply_to(session, culture, secretaries["Kultur- och fritidsnämnden"],
             {"Syfte och mål": "Kulturen saknas i målen.", "Uppföljning": "Följ upp varje halvår."})
    reply_to(session, social, secretaries["Socialnämnden"],
             {"Inledning": "Osänt utkast om inledningen.", "Ansvar": "Osänd ändring om ansvaret."}, submit=False)
    keys = {s.heading: s.key for s in first.sections}
    dispositions.set_disposition(session, officer, NOW, social, keys["Syfte och mål"], "considered",
                                 "Mätbara mål läggs till.")
    dispositions.set_disposition(session, officer, NOW, culture, keys["Uppföljning"], "not_considered",
                                 "En gång om året räcker.")
    second = drafts.import_text(session, officer, NOW, strategy, text=V2)
    session.commit()
    return SimpleNamespace(first=first, second=second, round=round_, social=social, culture=culture, keys=keys,
                           sara=secretaries["Socialnämnden"])


def comments_under(response, key: str) -> str:
    """What the page says about one section's comments, as a reader sees it."""
    found = re.search(rf'<section class="compare-section" id="synpunkter-{key}".*?</section>', response.text, re.S)
    assert found, f"no comments shown for {key}"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(0))).split())


def test_each_change_carries_the_comments_on_its_section(session, officer, referred):
    comparison = drafts.compare_with_comments(session, referred.first, referred.second, NOW, ZONE)

    shown = [(row.change.kind, (row.change.new or row.change.old).heading,
              [(c.body_name, c.text, c.disposition.decision if c.disposition else None) for c in row.comments])
             for row in comparison.rows]
    assert shown == [
        ("unchanged", "Inledning", []),  # the working copy's comment is not a reply
        ("changed", "Syfte och mål", [("Kultur- och fritidsnämnden", "Kulturen saknas i målen.", None),
                                      ("Socialnämnden", "Målen behöver gå att mäta.", "considered")]),
        ("unchanged", "Ansvar", [("Socialnämnden", "Ansvaret behöver förtydligas.", None)]),
        ("removed", "Uppföljning", [("Kultur- och fritidsnämnden", "Följ upp varje halvår.", "not_considered")]),
        ("added", "Klimat", []),
    ]
    assert [r.key for r in comparison.commented_changed] == [referred.keys["Syfte och mål"],
                                                             referred.keys["Uppföljning"]]
    assert [r.key for r in comparison.commented_unchanged] == [referred.keys["Ansvar"]]
    assert comparison.rounds == [referred.round]


def test_officer_sees_which_commented_sections_changed_in_the_next_version(session, signed_in, referred):
    response = signed_in.get(f"/strategies/{referred.first.strategy_id}/compare")

    assert response.status_code == 200
    text = page_text(response)
    assert "2 av 3 kommenterade avsnitt har ändrats i version 2." in text
    assert change_rows(response) == [
        ("unchanged", "1 Inledning oförändrat inga"),
        ("changed", "2 Syfte och mål texten ändrad 2 synpunkter"),
        ("unchanged", "3 Ansvar oförändrat 1 synpunkt"),
        ("removed", "4 Uppföljning borttaget 1 synpunkt"),
        ("added", "4 Klimat nytt avsnitt inga"),
    ]
    aims = comments_under(response, referred.keys["Syfte och mål"])
    assert aims.startswith("2 Syfte och mål Ändring i version 2: texten ändrad")
    assert ("Kultur- och fritidsnämnden (tillstyrker med synpunkter) Kulturen saknas i målen. "
            "Inget ställningstagande ännu. Ta ställning") in aims
    assert ("Socialnämnden (tillstyrker med synpunkter) Målen behöver gå att mäta. "
            "Ställningstagande: Beaktas Mätbara mål läggs till.") in aims
    responsibilities = comments_under(response, referred.keys["Ansvar"])
    assert "oförändrat" in responsibilities and "Ansvaret behöver förtydligas." in responsibilities
    assert "Socialnämnden" in responsibilities and "Kultur" not in responsibilities
    follow_up = comments_under(response, referred.keys["Uppföljning"])
    assert follow_up.startswith("4 Uppföljning Ändring i version 2: borttaget")
    assert "Följ upp varje halvår. Ställningstagande: Beaktas ej En gång om året räcker." in follow_up
    # Grouped by whether the section changed: the unchanged one comes under its own heading.
    changed_part, unchanged_part = response.text.split('id="grupp-unchanged"')
    assert f'id="synpunkter-{referred.keys["Ansvar"]}"' in unchanged_part
    assert f'id="synpunkter-{referred.keys["Uppföljning"]}"' in changed_part
    assert "Kommenterade avsnitt som har ändrats (2)" in text
    assert "Kommenterade avsnitt som inte har ändrats (1)" in text
    # An unhandled comment leads to where it is handled.
    assert (f'/rounds/{referred.round.id}/handling#comment-{referred.culture.id}-{referred.keys["Syfte och mål"]}'
            in response.text)
    # Only what was submitted counts: neither the working copy nor the general comments under a section.
    assert "Osänt utkast" not in text and "Osänd ändring" not in text and "Tack för möjligheten." not in text


def test_the_strategy_page_leads_from_the_round_to_the_next_version(session, signed_in, referred):
    strategy_id = referred.first.strategy_id

    page = signed_in.get(f"/strategies/{strategy_id}")

    found = re.search(r'<a href="([^"]*/compare\?[^"]*)">([^<]*)</a>', page.text)
    assert found and html.unescape(found.group(2)) == "Jämför version 2 med synpunkterna från remissen av version 1"
    link = html.unescape(found.group(1))
    assert f"from={referred.first.id}" in link and f"to={referred.second.id}" in link
    compared = signed_in.get(link)
    assert "Version 1 jämförd med version 2" in page_text(compared)
    assert "2 av 3 kommenterade avsnitt har ändrats i version 2." in page_text(compared)


def test_the_strategy_page_offers_no_such_link_before_there_is_a_newer_version(session, signed_in, officer,
                                                                               strategy):
    send_version_one(session, officer, strategy, ["Socialnämnden"])
    session.commit()

    page = signed_in.get(f"/strategies/{strategy.id}")

    assert page.status_code == 200
    assert "synpunkterna från remissen" not in page_text(page)


def test_a_version_never_sent_out_is_compared_without_comments(session, signed_in, referred):
    third = drafts.import_text(session, referred.first.strategy.officer, NOW, referred.first.strategy,
                               text=V2 + "\n\n# Bilagor\nInga.")
    session.commit()

    response = signed_in.get(f"/strategies/{referred.first.strategy_id}/compare"
                             f"?from={referred.second.id}&to={third.id}")

    assert response.status_code == 200
    assert "kommenterade avsnitt" not in page_text(response) and "compare-section" not in response.text
    assert ("added", "5 Bilagor nytt avsnitt") in change_rows(response)


def test_a_secretary_cannot_see_the_comparison_with_comments(session, client, referred):
    client.sign_in(referred.sara.email)

    assert client.get(f"/strategies/{referred.first.strategy_id}/compare").status_code == 404
    assert client.get(f"/strategies/{referred.first.strategy_id}/compare"
                      f"?from={referred.first.id}&to={referred.second.id}").status_code == 404


HOSTILE = '<script>alert("synpunkt")</script><img src=x onerror=alert(1)>'
LONG_WORD = "Kommunfullmäktigeledamotsersättningsregler" * 120  # 5,040 characters, no space to break at


def hostile_referral(session, officer, strategy):
    first, round_, referrals, secretaries = send_version_one(session, officer, strategy, ["Socialnämnden"])
    reply_to(session, referrals["Socialnämnden"], secretaries["Socialnämnden"],
             {"Ansvar": f"{HOSTILE}\n{LONG_WORD}"})
    dispositions.set_disposition(session, officer, NOW, referrals["Socialnämnden"],
                                 next(s.key for s in first.sections if s.heading == "Ansvar"), "noted",
                                 f"Motivering {HOSTILE}")
    second = drafts.import_text(session, officer, NOW, strategy, text=V2)
    session.commit()
    return first, second


def test_hostile_comment_text_is_shown_as_text_and_wraps(session, signed_in, officer, strategy):
    first, _second = hostile_referral(session, officer, strategy)
    assert len(LONG_WORD) > 5000

    response = signed_in.get(f"/strategies/{strategy.id}/compare")

    assert response.status_code == 200
    assert "<script>" not in response.text and "<img" not in response.text
    assert response.text.count("&lt;script&gt;alert(&#34;synpunkt&#34;)&lt;/script&gt;") == 2  # comment and reason
    key = next(s.key for s in first.sections if s.heading == "Ansvar")
    assert f"Motivering {HOSTILE}" in comments_under(response, key)
    # The long word sits in a block that breaks anywhere (remiss.css .prewrap), not in the table.
    assert re.search(rf'<div class="prewrap[^"]*">[^<]*{LONG_WORD}</div>', response.text)


def test_the_comparison_runs_the_same_number_of_queries_for_one_comment_and_for_many(
        session, officer, count_queries):
    few = builders.create_strategy(session, officer=officer)
    first_few, _round, referrals, secretaries = send_version_one(session, officer, few, ["Nämnd A"])
    reply_to(session, referrals["Nämnd A"], secretaries["Nämnd A"], {"Ansvar": "En synpunkt."})
    second_few = drafts.import_text(session, officer, NOW, few, text=V2)

    many = builders.create_strategy(session, officer=officer)
    names = [f"Nämnd {n}" for n in range(1, 9)]
    first_many, _round, referrals, secretaries = send_version_one(session, officer, many, names)
    for name in names:
        reply_to(session, referrals[name], secretaries[name],
                 {heading: f"{name} om {heading}." for heading in ("Inledning", "Syfte och mål", "Ansvar",
                                                                  "Uppföljning")})
        dispositions.set_disposition(session, officer, NOW, referrals[name], first_many.sections[2].key, "noted")
    second_many = drafts.import_text(session, officer, NOW, many, text=V2)
    session.commit()
    ids = [(first_few.id, second_few.id), (first_many.id, second_many.id)]

    counts, comments, handled = [], [], []
    for old_id, new_id in ids:
        session.expire_all()
        old, new = session.get(Draft, old_id), session.get(Draft, new_id)
        with count_queries() as counted:  # what the page reads included
            comparison = drafts.compare_with_comments(session, old, new, NOW, ZONE)
            comments.append(sum(len(row.comments) for row in comparison.rows))
            handled.append([c.disposition.decision for row in comparison.rows for c in row.comments
                            if c.disposition])
        counts.append(counted.count)

    assert comments == [1, 32] and handled == [[], ["noted"] * 8]
    assert counts[0] == counts[1] <= 6


@pytest.mark.browser
def test_the_comparison_with_comments_passes_axe_and_fits_320_pixels(page, session, officer, strategy):
    from .axe import assert_no_axe_violations

    hostile_referral(session, officer, strategy)
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto("/sign-in")
    page.get_by_label("E-postadress").fill(officer.email)
    page.get_by_label("Lösenord").fill(builders.PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(re.compile(r"/$"))

    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"/strategies/{strategy.id}/compare")
    page.wait_for_load_state("load")

    assert page.get_by_role("heading", level=2, name="Kommenterade avsnitt som har ändrats (0)").is_visible()
    assert page.get_by_role("heading", level=3, name="3 Ansvar").is_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 320  # the 5,000-character word wraps
    assert dialogs == []  # the comment's markup stayed text
    assert_no_axe_violations(page, "comparison with comments")
