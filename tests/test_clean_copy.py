"""The clean copy mailed to the bodies: tracked changes accepted, comments gone, personal metadata cleared,
everything else untouched; and what inspect_docx reports before that."""
import io
import itertools
import os
import shutil
import subprocess
import uuid
import zipfile
from pathlib import Path

import docx
import pytest
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import parse_xml
from lxml import etree

from remiss.clean_copy import Findings, clean_copy, inspect_docx, make_clean_copy
from remiss.docx_files import parse_docx

from .conftest import missing

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
WML = "application/vnd.openxmlformats-officedocument.wordprocessingml."
FIXTURE = Path(__file__).parent.parent / "remiss" / "demo" / "kalmar-strategy-draft.docx"
REVIEWER = "Cecilia Lund"
# The draft's body as a reader sees it once every change is accepted (the footnote is checked apart).
ACCEPTED_BODY = [
    "Kalmar ska gärna samarbeta internationellt.",
    "En helt ny mening.",
    "Detta står kvar.",
    "Slutet. Flyttad mening.",
    "Första halvan och andra halvan.",
    "Fetstil i texten.",
    "Ett centrerat stycke.",
    "Kommenterad text.",
]
REMOVED_WORDS = ["mycket", "UTKAST", "gammal"]
COMMENT_PARTS = ["word/comments.xml", "word/commentsExtended.xml", "word/people.xml"]

_ids = itertools.count(100)


# ------------------------------------------------------------------ building drafts

def _revision(tag: str, inner: str = "", **extra: str) -> str:
    attrs = "".join(f' w:{k}="{v}"' for k, v in {"id": next(_ids), **extra}.items())
    return f'<w:{tag}{attrs} w:author="{REVIEWER}" w:initials="CL" w:date="2021-01-20T10:00:00Z">{inner}</w:{tag}>'


def _xml(fragment: str):
    """One element from a WordprocessingML fragment written without its namespace declaration."""
    return parse_xml(f'<w:wrapper xmlns:w="{W}">{fragment}</w:wrapper>')[0]


def _r(text: str, tag: str = "t") -> str:
    return f'<w:r><w:{tag} xml:space="preserve">{text}</w:{tag}></w:r>'


def _p(*inner: str, ppr: str = "") -> str:
    return "<w:p>" + (f"<w:pPr>{ppr}</w:pPr>" if ppr else "") + "".join(inner) + "</w:p>"


def _ins(text: str) -> str:
    return _revision("ins", _r(text))


def _del(text: str) -> str:
    return _revision("del", _r(text, "delText"))


def _body() -> list[str]:
    return [
        _p(_r("Kalmar ska "), _ins("gärna "), _r("samarbeta "), _del("mycket "), _r("internationellt.")),
        _p(_ins("En helt ny mening."), ppr=f"<w:rPr>{_revision('ins')}</w:rPr>"),
        _p(_r("Detta står kvar."), _revision("moveFromRangeStart", id="1", name="move1"),
           _revision("moveFrom", _r(" Flyttad mening.")), '<w:moveFromRangeEnd w:id="1"/>'),
        _p(_r("Slutet."), _revision("moveToRangeStart", id="2", name="move1"),
           _revision("moveTo", _r(" Flyttad mening.")), '<w:moveToRangeEnd w:id="2"/>'),
        _p(_r("Första halvan"), ppr=f"<w:rPr>{_revision('del')}</w:rPr>"),
        _p(_r(" och andra halvan.")),
        _p(f"<w:r><w:rPr><w:b/>{_revision('rPrChange', '<w:rPr/>')}</w:rPr><w:t>Fetstil</w:t></w:r>",
           _r(" i texten.")),
        _p(_r("Ett centrerat stycke."), ppr=f'<w:jc w:val="center"/>{_revision("pPrChange", "<w:pPr/>")}'),
    ]


def _add_part(document, name: str, content_type: str, reltype: str, xml: str) -> None:
    part = Part(PackURI(name), content_type, xml.encode(), document.part.package)
    document.part.relate_to(part, reltype)


def _footnotes() -> str:
    separators = ('<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
                  '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/>'
                  '</w:r></w:p></w:footnote>')
    note = _p(_r("Källa: "), _ins("ny "), _del("gammal "), _r("rapport."))
    return f'<w:footnotes xmlns:w="{W}">{separators}<w:footnote w:id="1">{note}</w:footnote></w:footnotes>'


def _tracked_draft() -> bytes:
    """A python-docx document carrying every kind of markup the clean copy removes."""
    document = docx.Document()
    body = document.element.body
    for xml in _body():
        body.insert(len(body) - 1, _xml(xml))
    commented = document.add_paragraph("Kommenterad text.")
    document.add_comment(commented.runs, text="Stryk detta?", author="Per Granskare", initials="PG")
    _add_footnote(document)
    _add_comment_companions(document)
    header = document.sections[0].header.paragraphs[0]._p
    header.getparent().replace(header, _xml(_p(_r("Remissversion"), _del(" UTKAST"))))
    proof_state = document.settings.element.find(f"{{{W}}}proofState")
    proof_state.addnext(_xml('<w:documentProtection w:edit="trackedChanges" w:enforcement="1"/>'))
    proof_state.addnext(_xml("<w:trackRevisions/>"))
    document.core_properties.author, document.core_properties.last_modified_by = "Anna Berg", "Bertil Ek"
    document.core_properties.title = "Strategi för internationellt arbete"
    return _with_company(_saved(document), "Kalmar kommun")


def _add_footnote(document) -> None:
    noted = document.add_paragraph("Se noten.")
    noted._p.append(_xml('<w:r><w:rPr><w:vertAlign w:val="superscript"/></w:rPr>'
                         '<w:footnoteReference w:id="1"/></w:r>'))
    _add_part(document, "/word/footnotes.xml", WML + "footnotes+xml",
              "http://schemas.openxmlformats.org/officeDocument/2006/relationships/footnotes", _footnotes())


def _add_comment_companions(document) -> None:
    """The parts Word writes beside comments.xml: its list of people and the comments' extra state."""
    w15 = "http://schemas.microsoft.com/office/word/2012/wordml"
    _add_part(document, "/word/people.xml", WML + "people+xml",
              "http://schemas.microsoft.com/office/2011/relationships/people",
              f'<w15:people xmlns:w15="{w15}"><w15:person w15:author="Per Granskare"/></w15:people>')
    _add_part(document, "/word/commentsExtended.xml", WML + "commentsExtended+xml",
              "http://schemas.microsoft.com/office/2011/relationships/commentsExtended",
              f'<w15:commentsEx xmlns:w15="{w15}"/>')


def _saved(document) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _with_company(data: bytes, company: str) -> bytes:
    return _replace_part(data, "docProps/app.xml",
                         lambda xml: xml.replace(b"<Company/>", f"<Company>{company}</Company>".encode()))


def _replace_part(data: bytes, name: str, change) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            blob = source.read(info)
            target.writestr(info, change(blob) if info.filename == name else blob)
    return out.getvalue()


def _with_entries(data: bytes, entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO(data)
    with zipfile.ZipFile(out, "a") as archive:
        for name, blob in entries.items():
            archive.writestr(name, blob)
    return out.getvalue()


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _text_of(xml: bytes) -> str:
    root = etree.fromstring(xml)
    return "".join(root.itertext())


@pytest.fixture(scope="module")
def draft() -> bytes:
    return _tracked_draft()


@pytest.fixture(scope="module")
def clean(draft) -> bytes:
    return make_clean_copy(draft)


# ------------------------------------------------------------------ inspecting

def test_inspect_counts_each_kind_of_markup_in_body_header_and_footnotes(draft):
    findings = inspect_docx(draft)

    # word + paragraph + footnote; word + paragraph mark + header + footnote; one move; rPr + pPr changes
    assert (findings.insertions, findings.deletions, findings.moves) == (3, 4, 1)
    assert (findings.formatting_changes, findings.comments) == (2, 1)
    assert findings.personal == ("författare: Anna Berg", "senast sparad av: Bertil Ek", "företag: Kalmar kommun",
                                 f"granskare i ändringarna: {REVIEWER}",
                                 "kommentarer av: Per Granskare")
    assert findings.tracking and not findings.clean
    assert findings.summary == ("10 spårade ändringar, 1 kommentar, författarens namn, namnet på den som sparade "
                                "senast, företagets namn, granskarnas namn, kommentatorernas namn, spåra ändringar "
                                "är påslaget")


def test_a_clean_findings_says_so():
    assert Findings().clean
    assert Findings().summary == "Inga spårade ändringar, kommentarer eller personliga uppgifter"
    assert Findings(deletions=2).summary == "2 spårade ändringar"


# ------------------------------------------------------------------ the clean copy

def test_the_clean_copy_has_no_revision_or_comment_markup(clean):
    parts = _parts(clean)
    for name in ("word/document.xml", "word/header1.xml", "word/footnotes.xml"):
        xml = parts[name].decode()
        for tag in ("ins", "del", "delText", "moveFrom", "moveTo", "moveFromRangeStart", "moveToRangeEnd",
                    "rPrChange", "pPrChange", "commentRangeStart", "commentRangeEnd", "commentReference"):
            assert f"<w:{tag} " not in xml and f"<w:{tag}>" not in xml and f"<w:{tag}/>" not in xml, (name, tag)
        assert "w:author" not in xml and "Cecilia" not in xml
    settings = parts["word/settings.xml"].decode()
    assert "trackRevisions" not in settings and "documentProtection" not in settings


def test_the_clean_copy_accepts_the_text_once(clean):
    parts = _parts(clean)
    document = docx.Document(io.BytesIO(clean))
    paragraphs = [p.text for p in document.paragraphs]

    assert paragraphs == ACCEPTED_BODY + ["Se noten."]
    assert document.paragraphs[5].runs[0].bold  # the formatting change kept its new formatting
    assert document.paragraphs[6].alignment == 1  # centred
    assert _text_of(parts["word/header1.xml"]) == "Remissversion"
    assert "Källa: ny rapport." in _text_of(parts["word/footnotes.xml"])
    for word in REMOVED_WORDS:
        assert all(word.encode() not in parts[name] for name in ("word/document.xml", "word/header1.xml",
                                                                 "word/footnotes.xml"))


def test_the_comment_parts_are_gone_with_their_relationships_and_content_types(draft, clean):
    before, after = _parts(draft), _parts(clean)

    assert all(name in before for name in COMMENT_PARTS)
    assert not any(name in after for name in COMMENT_PARTS)
    assert set(before) - set(after) == set(COMMENT_PARTS)
    rels, types = after["word/_rels/document.xml.rels"].decode(), after["[Content_Types].xml"].decode()
    assert "comments" not in rels and "people" not in rels
    assert "comments" not in types and "people" not in types
    assert "footnotes.xml" in rels and "header1.xml" in rels  # the relationships that stay, stay


def test_a_picture_only_a_comment_shows_goes_with_it(draft):
    rels = ('<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Target="media/kommentar.png" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image"/></Relationships>')
    data = _with_entries(draft, {"word/_rels/comments.xml.rels": rels.encode(), "word/media/kommentar.png": b"png"})

    after = _parts(make_clean_copy(data))

    assert "word/media/kommentar.png" not in after and "word/_rels/comments.xml.rels" not in after
    assert "customXml/item1.xml" in after  # reached from the document, not from a comment


def test_personal_metadata_is_cleared_and_the_rest_kept(clean):
    document = docx.Document(io.BytesIO(clean))
    app = _parts(clean)["docProps/app.xml"].decode()

    assert (document.core_properties.author, document.core_properties.last_modified_by) == ("", "")
    assert document.core_properties.title == "Strategi för internationellt arbete"
    assert "Kalmar kommun" not in app and "<Application>" in app


def test_parts_with_nothing_to_clean_are_copied_byte_for_byte(draft, clean):
    before, after = _parts(draft), _parts(clean)
    touched = {"word/document.xml", "word/header1.xml", "word/footnotes.xml", "word/settings.xml",
               "docProps/core.xml", "docProps/app.xml", "word/_rels/document.xml.rels", "[Content_Types].xml"}

    assert list(after) == [name for name in before if name not in COMMENT_PARTS]  # same order too
    assert {name for name in after if after[name] != before[name]} == touched


def test_the_clean_copy_inspects_clean(clean):
    findings = inspect_docx(clean)
    assert findings.clean, findings
    assert findings == Findings()


def test_a_clean_draft_stays_equal_part_for_part():
    document = docx.Document()
    document.add_heading("Strategi", 1)
    document.add_paragraph("Inga ändringar här.")
    document.core_properties.author = ""
    data = _saved(document)

    assert inspect_docx(data).clean
    assert _parts(make_clean_copy(data)) == _parts(data)


def test_a_wholly_deleted_paragraph_leaves_the_next_one_as_it_was():
    document = docx.Document()
    document.core_properties.author = ""
    document.add_paragraph("Behålls.")
    doomed = document.add_paragraph()
    doomed._p.append(_xml(_del("Tas bort helt.")))
    doomed._p.get_or_add_pPr().append(_xml(f'<w:rPr>{_revision("del")}</w:rPr>'))
    document.add_heading("Nästa rubrik", 1)
    data = _saved(document)

    findings = inspect_docx(data)
    document = docx.Document(io.BytesIO(make_clean_copy(data)))

    assert (findings.deletions, findings.tracked_changes) == (1, 1)
    assert [(p.style.name, p.text) for p in document.paragraphs] == [("Normal", "Behålls."),
                                                                     ("Heading 1", "Nästa rubrik")]


def test_deleted_table_rows_go_and_inserted_rows_stay():
    document = docx.Document()
    document.core_properties.author = ""
    table = document.add_table(rows=3, cols=1)
    for row, (mark, text) in zip(table.rows, [("", "Kvar"), ("del", "Struken"), ("ins", "Ny")]):
        if mark:
            row._tr.get_or_add_trPr().append(_xml(_revision(mark)))
        row.cells[0].paragraphs[0]._p.append(_xml({"": _r, "del": _del, "ins": _ins}[mark](text)))
    data = _saved(document)

    findings = inspect_docx(data)
    cleaned = docx.Document(io.BytesIO(make_clean_copy(data)))

    assert (findings.insertions, findings.deletions) == (2, 2)  # each row mark and the text in its cell
    assert [row.cells[0].text for row in cleaned.tables[0].rows] == ["Kvar", "Ny"]


def test_formatting_changes_in_styles_are_removed_too():
    document = docx.Document()
    document.core_properties.author = ""
    normal = document.styles["Normal"].element
    normal.append(_xml(f'<w:rPr><w:i/>{_revision("rPrChange", "<w:rPr/>")}</w:rPr>'))
    data = _saved(document)

    findings = inspect_docx(data)
    styles = _parts(make_clean_copy(data))["word/styles.xml"].decode()

    assert findings.formatting_changes == 1 and findings.personal == (f"granskare i ändringarna: {REVIEWER}",)
    assert "rPrChange" not in styles and "<w:i/>" in styles


@pytest.mark.parametrize("data", [b"", b"not a zip at all", b"PK\x03\x04broken"])
def test_an_unreadable_file_is_a_value_error(data):
    with pytest.raises(ValueError):
        inspect_docx(data)
    with pytest.raises(ValueError):
        make_clean_copy(data)


def test_a_docx_with_broken_xml_is_a_value_error(draft):
    broken = _replace_part(draft, "word/document.xml", lambda xml: xml[: len(xml) // 2])
    without_types = _replace_part(draft, "[Content_Types].xml", lambda xml: b"<Types/>")
    for data in (broken, without_types):
        with pytest.raises(ValueError):
            make_clean_copy(data)
        with pytest.raises(ValueError):
            inspect_docx(data)


def test_the_demo_draft_keeps_its_sections():
    original = FIXTURE.read_bytes()
    cleaned = make_clean_copy(original)

    assert parse_docx(cleaned) == parse_docx(original)
    assert len(parse_docx(cleaned).sections) == 21
    assert inspect_docx(original).personal == ("författare: Anders Almqvist",)
    assert inspect_docx(cleaned).clean
    before, after = _parts(original), _parts(cleaned)
    assert {name for name in before if before[name] != after.get(name)} == {"docProps/core.xml"}


# ------------------------------------------------------------------ other readers

def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def test_libreoffice_reads_the_accepted_text(draft, clean, tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        missing("the LibreOffice check needs soffice (apt-get install libreoffice-writer-nogui)")
    (tmp_path / "ren.docx").write_bytes(clean)
    (tmp_path / "utkast.docx").write_bytes(draft)
    # A profile of its own: two conversions sharing one would wait on each other's lock or fail.
    profile = Path("/tmp") / f"remiss-lo-{uuid.uuid4().hex}"
    try:
        # "Text (encoded):UTF8" rather than plain "Text", whose charset follows the machine's locale.
        result = subprocess.run(
            [soffice, "--headless", "--norestore", f"-env:UserInstallation={profile.as_uri()}",
             "--convert-to", "txt:Text (encoded):UTF8", "--outdir", str(tmp_path),
             str(tmp_path / "ren.docx"), str(tmp_path / "utkast.docx")],
            capture_output=True, text=True, timeout=300, env={**os.environ, "HOME": str(tmp_path)})
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert result.returncode == 0 and (tmp_path / "ren.txt").exists(), result.stdout + result.stderr

    # LibreOffice writes a footnote's number where it stands and leaves its text out.
    assert _lines((tmp_path / "ren.txt").read_text(encoding="utf-8-sig")) == ACCEPTED_BODY + ["Se noten.1"]
    # LibreOffice shows revisions as they stand, so the same check on the draft itself would fail.
    assert "Kalmar ska gärna samarbeta mycket internationellt." in \
        _lines((tmp_path / "utkast.txt").read_text(encoding="utf-8-sig"))


def test_pandoc_reads_the_accepted_text_and_accepts_the_draft_alike(draft, clean, tmp_path):
    pandoc = shutil.which("pandoc")
    if pandoc is None:
        missing("the pandoc check needs pandoc (apt-get install pandoc)")

    def plain(data: bytes, mode: str) -> list[str]:
        source = tmp_path / f"{mode}.docx"
        source.write_bytes(data)
        result = subprocess.run([pandoc, "-f", "docx", "-t", "plain", "--wrap=none", f"--track-changes={mode}",
                                 str(source)], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return _lines(result.stdout)

    # "all" shows any revision or comment left behind as text; "accept" is pandoc's own acceptance.
    cleaned = plain(clean, "all")
    assert cleaned == ACCEPTED_BODY + ["Se noten.[1]", "[1] Källa: ny rapport."]
    assert plain(draft, "accept") == cleaned


def test_inspecting_and_cleaning_at_once_gives_what_each_gives_alone():
    data = _tracked_draft()

    findings, copy = clean_copy(data)

    assert findings == inspect_docx(data) and copy == make_clean_copy(data)
    assert clean_copy(copy) == (Findings(), None)  # nothing left to clean: no second copy is made


def test_a_table_whose_rows_are_in_a_repeating_content_control_is_kept():
    document = docx.Document()
    document.add_paragraph("Ny")._p.append(_xml(_ins(" text")))  # one change, so a copy is made
    row = document.add_table(rows=1, cols=1).rows[0]._tr
    sdt = _xml("<w:sdt><w:sdtPr/><w:sdtContent/></w:sdt>")
    row.addprevious(sdt)
    sdt[1].append(row)  # the row now stands inside the content control, as a repeating section's rows do
    row.find(f".//{{{W}}}tc").append(_xml(_p(_r("Rad i upprepande kontroll"))))

    clean = make_clean_copy(_saved(document))

    assert b"Rad i upprepande kontroll" in _parts(clean)["word/document.xml"]
