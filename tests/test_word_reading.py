"""Odd Word files a municipality (or an attacker) may upload: each read without an error and without
losing text, in bounded time. Built by hand as the XML Word writes."""
import io
import time
import zipfile

import pytest

from remiss.docx_files import parse_docx
from remiss.word_reading import read_word

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
TYPES = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
         'content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/'
         'document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.'
         'main+xml"/></Types>')
NAMESPACES = (f'xmlns:w="{W}" xmlns:m="http://schemas.openxmlformats.org/officeDocument/2006/math" '
              'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
              'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
              'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
              'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"')


def word(body: str, **parts: str) -> bytes:
    """A .docx of `body` (WordprocessingML inside w:body) and any other word/ parts given, no styles.xml."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", TYPES)
        archive.writestr("word/document.xml", f'<w:document {NAMESPACES}><w:body>{body}</w:body></w:document>')
        for name, xml in parts.items():
            archive.writestr(f"word/{name}.xml", xml)
    return out.getvalue()


def p(text: str, ppr: str = "") -> str:
    return f'<w:p><w:pPr>{ppr}</w:pPr><w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>'


def texts(data: bytes) -> list[str]:
    return [block.text for block in read_word(data).blocks]


def test_a_file_without_styles_is_read():
    assert texts(word(p("Hej"))) == ["Hej"]
    assert parse_docx(word(p("Hej"))).sections[0].text == "Hej"


@pytest.mark.parametrize("start", ["x", "-5", "10000000000"])
def test_a_list_starting_anywhere_is_read_at_once(start):
    numbering = (f'<w:numbering xmlns:w="{W}"><w:abstractNum w:abstractNumId="1"><w:lvl w:ilvl="0">'
                 f'<w:start w:val="{start}"/><w:numFmt w:val="lowerRoman"/><w:lvlText w:val="%1."/></w:lvl>'
                 '</w:abstractNum><w:num w:numId="1"><w:abstractNumId w:val="1"/><w:lvlOverride w:ilvl="0">'
                 f'<w:startOverride w:val="{start}"/></w:lvlOverride></w:num></w:numbering>')
    item = p("Punkt", '<w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr>')
    began = time.process_time()

    blocks = read_word(word(item * 50, numbering=numbering)).blocks

    assert time.process_time() - began < 5, "a label is bounded by Word's own limit on start values"
    assert all(b.text == "Punkt" and len(b.number) < 60 for b in blocks)  # 32,767 in roman is 41 letters


def test_a_footnote_that_refers_to_itself_is_read_once():
    notes = (f'<w:footnotes xmlns:w="{W}"><w:footnote w:id="1"><w:p><w:r><w:t>Källa</w:t></w:r>'
             '<w:r><w:footnoteReference w:id="1"/></w:r></w:p></w:footnote></w:footnotes>')
    body = '<w:p><w:r><w:t>Text</w:t></w:r><w:r><w:footnoteReference w:id="1"/></w:r></w:p>'

    (block,) = read_word(word(body, footnotes=notes)).blocks

    assert block.text == "Text[1]" and block.notes[0].startswith("[1] Källa")


def test_a_deleted_paragraph_mark_joins_only_a_following_paragraph():
    deleted = '<w:rPr><w:del w:id="1" w:author="A" w:date="2021-01-01T00:00:00Z"/></w:rPr>'
    table = '<w:tbl><w:tr><w:tc>' + p("c1") + '</w:tc><w:tc>' + p("c2") + '</w:tc></w:tr></w:tbl>'

    assert texts(word(p("Före", deleted) + table + p("Efter"))) == ["Före", "c1 | c2", "Efter"]
    assert texts(word(p("Sist", deleted))) == ["Sist"]  # the last paragraph is not lost
    assert texts(word(p("Ett ", deleted) + p("stycke"))) == ["Ett stycke"]


def test_every_text_box_of_a_drawing_is_read_once_and_an_equation_is_text():
    box = ('<w:txbxContent>' + p("{}") + '</w:txbxContent>')
    drawing = ('<w:p><w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing>'
               f'<wps:txbx>{box.format("Ruta ett")}</wps:txbx><wps:txbx>{box.format("Ruta två")}</wps:txbx>'
               '</w:drawing></mc:Choice><mc:Fallback><w:pict>'
               f'{box.format("Ruta ett")}{box.format("Ruta två")}</w:pict></mc:Fallback></mc:AlternateContent>'
               '</w:r></w:p>')
    equation = '<w:p><w:r><w:t xml:space="preserve">minska med </w:t></w:r><m:oMath><m:r><m:t>50 %</m:t></m:r></m:oMath></w:p>'

    blocks = texts(word(drawing + equation))

    assert blocks == ["Ruta ett Ruta två", "minska med 50 %"]


def test_a_field_inside_a_fields_instruction_shows_only_the_outer_result():
    def char(kind):
        return f'<w:r><w:fldChar w:fldCharType="{kind}"/></w:r>'

    def code(text):
        return f'<w:r><w:instrText xml:space="preserve">{text}</w:instrText></w:r>'

    field = (char("begin") + code(" IF ") + char("begin") + code(" DOCPROPERTY x ") + char("separate")
             + '<w:r><w:t>ja</w:t></w:r>' + char("end") + code(' = "ja" "Resultat" ') + char("separate")
             + '<w:r><w:t>Resultat</w:t></w:r>' + char("end"))

    assert texts(word(f"<w:p>{field}</w:p>")) == ["Resultat"]
