"""The svarsmall: a .docx made for one referral (one body, one draft version), which the body's
secretary fills in Word or LibreOffice and uploads back, and which reads back without loss.

Pure: plain data in, bytes out, and back. Nothing here touches the database or the request.

How the template is marked, and why twice:

- Every field and every section's comments is a content control (`w:sdt`) tagged
  `remiss:field:<name>`, `remiss:section:<key>` or `remiss:general`; a small locked control tagged
  `remiss:template:referral=<id>:draft-version=<n>` names the template. Word keeps all of it.
- LibreOffice 7.4 keeps none of the tags: a .docx re-save drops `w:tag` (the controls stay, with
  their alias), and a round through .odt turns the rich-text controls into input fields (FILLIN).
  It does keep bookmarks and custom document properties. So every label and heading the template
  writes also carries a hidden bookmark (`_remiss_…`), and text with no tag around it belongs to
  the last bookmarked label above it. Word allows bookmark names of 40 letters, digits and _ only,
  so a section's bookmark is numbered (`_remiss_s3`) and the custom property `remiss-section-3`
  holds its key; `remiss-referral` and `remiss-draft-version` name the template.
"""
import io
import itertools
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from babel.dates import format_date
from lxml import etree

from .compilation import STANCES
from .models.responses import Stance
from .reply_documents import (
    GENERAL as GENERAL_REASON,
    PROPERTY_LIMIT,
    TEMPLATE as TEMPLATE_REASON,
    UNPLACED,
    PlacedComment,
    ReplyImport,
    check_reply_upload,
    document_properties,
    read_reply_docx,
    swedish_a4,
    xml_line,
    xml_text,
)
from .reply_documents import facts as fact_lines

LOCALE = "sv_SE"
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
CUSTOM_NS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
VT_NS = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"
CUSTOM_FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"  # the one format id Word gives user-defined properties

TAG = "remiss:"
MARK = "_remiss_"  # a leading underscore hides the bookmark in Word's dialog
GENERAL = "general"
TEMPLATE = "template"  # the small control naming the referral and version: no text to read
ALIAS_LIMIT = 64
FIELD_STYLE = "Svarsfält"
PLACEHOLDER_STYLE = "Placeholder Text"  # Word's built-in name: Word drops it from text typed over it
TEMPLATE_TAG = re.compile(r"remiss:template:referral=(\d+):draft-version=(\d+)")
TEMPLATE_MARK = re.compile(r"_remiss_id_(\d+)_(\d+)")
SECTION_MARK = re.compile(r"_remiss_s(\d+)")


@dataclass(frozen=True)
class _Field:
    name: str
    label: str
    placeholder: str
    kind: str  # "dropdown", "rich" (paragraphs), "line" (one line), "lines" (line breaks allowed)


FIELDS = (
    _Field("stance", "Ställningstagande", "Välj ställningstagande", "dropdown"),
    _Field("summary", "Sammanfattning", "Skriv en kort sammanfattning av yttrandet.", "rich"),
    _Field("proposed_decision", "Förslag till beslut", "Skriv förslaget till beslut.", "rich"),
    _Field("case_reference", "Ert diarienummer", "Skriv nämndens eller bolagets diarienummer.", "line"),
    _Field("deciding_body", "Beslutande organ", "Skriv vilket organ som fattar beslutet.", "line"),
    _Field("decision_date", "Beslutsdatum", "ÅÅÅÅ-MM-DD", "line"),
    _Field("decision_paragraph", "Paragraf (§)", "Skriv paragrafens nummer.", "line"),
    _Field("signatory_name", "Undertecknare, namn", "Skriv namnet på den som undertecknar.", "line"),
    _Field("signatory_title", "Undertecknare, titel", "Skriv titeln, till exempel ordförande.", "line"),
    _Field("contact", "Kontaktperson", "Skriv namn, e-postadress och telefonnummer.", "lines"),
)
FIELD_GROUPS = (
    ("Ställningstagande och yttrande", ("stance", "summary", "proposed_decision")),
    ("Beslut och underskrift", ("case_reference", "deciding_body", "decision_date", "decision_paragraph",
                                "signatory_name", "signatory_title", "contact")),
)
SECTION_PLACEHOLDER = "Skriv era synpunkter på avsnittet här."
GENERAL_PLACEHOLDER = "Skriv övriga synpunkter här."
INSTRUCTIONS = (
    "Skriv i de grå fälten. Ändra inte rubrikerna och ta inte bort fälten: svaret läses in efter dem "
    "när filen laddas upp.",
    "Välj ställningstagande i listan, eller skriv ett av orden: " + ", ".join(STANCES.values()) + ".",
    "Under varje avsnitt kan ni skriva flera stycken. Lämna fältet som det är där ni inte har några "
    "synpunkter.",
    "Spara filen som Word-dokument (.docx) och ladda upp den på remissens sida.",
)


@dataclass
class TemplateSection:
    """One heading of the draft, in draft order; `key` is what a comment is filed under."""

    key: str
    number: str
    heading: str
    level: int


@dataclass
class TemplateFacts:
    """What the svarsmall of one referral says about itself."""

    body_name: str
    strategy_title: str
    strategy_case_reference: str
    reply_label: str
    deadline: date
    referral_id: int
    draft_version: int
    sections: list[TemplateSection] = field(default_factory=list)
    made_at: datetime | None = None  # aware; the document's created and modified date
    municipality: str = ""


@dataclass
class TemplateReply:
    """A filled svarsmall as read back. `fields` has every field name ("" when left empty);
    `comments` has only the sections something was written under (section key → text)."""

    referral_id: int | None
    draft_version: int | None
    fields: dict[str, str]
    comments: dict[str, str]
    general_comments: str


def _w(name: str) -> str:
    return f"{{{W_NS}}}{name}"


def _field_target(name: str) -> str:
    return f"field:{name}"


def _section_target(key: str) -> str:
    return f"section:{key}"


# ------------------------------------------------------------------ writing

def write_reply_template(facts: TemplateFacts) -> bytes:
    """The svarsmall of one referral as .docx bytes: facts, instructions, one tagged content control
    per field, per draft section (under its own heading) and for general comments."""
    import docx

    document = docx.Document()
    swedish_a4(document)
    _add_styles(document)
    _core_properties(document, facts)
    writer = _Writer(document)
    document.add_paragraph(xml_line(f"Remissvar: {facts.strategy_title}"), style="Title")
    _facts_block(document, writer, facts)
    for text in INSTRUCTIONS:
        document.add_paragraph().add_run(text).italic = True
    by_name = {f.name: f for f in FIELDS}
    for heading, names in FIELD_GROUPS:
        writer.heading(heading, 1)
        for name in names:
            writer.field(by_name[name])
    if facts.sections:
        writer.heading("Synpunkter per avsnitt", 1)
        document.add_paragraph("Skriv synpunkterna under det avsnitt i utkastet som de gäller.")
    keys = [writer.section(index, section) for index, section in enumerate(facts.sections, start=1)]
    writer.heading("Övriga synpunkter", 1, MARK + GENERAL)
    writer.block(GENERAL, "Övriga synpunkter", GENERAL_PLACEHOLDER)
    _add_custom_properties(document, _identity_properties(facts, keys))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


class _Writer:
    """Adds marked headings, labels and content controls to a python-docx document, and hands out
    the ids Word wants unique within one document (bookmarks, controls)."""

    def __init__(self, document):
        self.document = document
        self.ids = itertools.count(1)
        self.boundaries = itertools.count(1)

    def heading(self, text: str, level: int, mark: str | None = None):
        """A heading that also ends the text of the part above it when the tags are gone."""
        paragraph = self.document.add_heading(xml_line(text), level)
        self.mark(paragraph, mark or f"{MARK}b{next(self.boundaries)}")

    def field(self, spec: _Field) -> None:
        label = self.document.add_paragraph()
        label.add_run(spec.label).bold = True
        label.paragraph_format.keep_with_next = True
        self.mark(label, f"{MARK}f_{spec.name}")
        if spec.kind == "rich":
            self.block(_field_target(spec.name), spec.label, spec.placeholder)
        else:  # a one-line control (a list or plain text) alone in its grey paragraph
            paragraph = self.document.add_paragraph(style=FIELD_STYLE)
            self.inline(paragraph, TAG + _field_target(spec.name), spec.label, spec.placeholder, spec.kind)

    def section(self, index: int, section: TemplateSection) -> str:
        title = xml_line(f"{section.number} {section.heading}")
        # Level + 1: every section heading sits under "Synpunkter per avsnitt".
        self.heading(title, min(max(section.level, 1) + 1, 9), f"{MARK}s{index}")
        key = xml_line(section.key)
        self.block(_section_target(key), f"Synpunkter: {title}", SECTION_PLACEHOLDER)
        return key

    def mark(self, paragraph, name: str) -> None:
        """A bookmark around the paragraph's text: LibreOffice keeps it where it drops the tags."""
        p, mark_id = paragraph._p, str(next(self.ids))
        start = _element("w:bookmarkStart", id=mark_id, name=name)
        if p.pPr is not None:
            p.pPr.addnext(start)
        else:
            p.insert(0, start)
        p.append(_element("w:bookmarkEnd", id=mark_id))

    def block(self, target: str, alias: str, placeholder: str) -> None:
        """A rich-text control around whole paragraphs: Enter inside it makes another one."""
        paragraph = self.document.add_paragraph(style=FIELD_STYLE)
        paragraph.add_run(placeholder, style=PLACEHOLDER_STYLE)
        sdt, content = self.control(TAG + target, alias, "rich", showing_placeholder=True)
        paragraph._p.addprevious(sdt)
        content.append(paragraph._p)

    def inline(self, paragraph, tag: str, alias: str, text: str, kind: str, *, placeholder: bool = True,
               lock: str = "sdtLocked") -> None:
        """A control around one run at the end of the paragraph."""
        run = paragraph.add_run(text, style=PLACEHOLDER_STYLE if placeholder else None)
        sdt, content = self.control(tag, alias, kind, showing_placeholder=placeholder, lock=lock)
        run._r.addprevious(sdt)
        content.append(run._r)

    def control(self, tag: str, alias: str, kind: str, *, showing_placeholder: bool,
                lock: str = "sdtLocked"):
        """An empty `w:sdt` and its `w:sdtContent`; sdtPr children in the schema's order."""
        sdt = _element("w:sdt")
        properties = _child(sdt, "w:sdtPr")
        _child(properties, "w:alias", val=xml_line(alias)[:ALIAS_LIMIT])
        _child(properties, "w:tag", val=tag)
        _child(properties, "w:id", val=str(next(self.ids)))
        _child(properties, "w:lock", val=lock)  # the control cannot be deleted by mistake, its text can
        if showing_placeholder:
            _child(properties, "w:showingPlcHdr")
        if kind == "dropdown":
            choices = _child(properties, "w:dropDownList")
            for label in STANCES.values():
                _child(choices, "w:listItem", displayText=label, value=label)
        elif kind in ("line", "lines"):
            _child(properties, "w:text", **({"multiLine": "1"} if kind == "lines" else {}))
        return sdt, _child(sdt, "w:sdtContent")


def _element(element_name: str, **attributes):
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    return OxmlElement(element_name, {qn(f"w:{k}"): v for k, v in attributes.items()})


def _child(parent, element_name: str, **attributes):
    element = _element(element_name, **attributes)
    parent.append(element)
    return element


def _facts_block(document, writer: _Writer, facts: TemplateFacts) -> None:
    deadline = format_date(facts.deadline, "EEEE d MMMM y", locale=LOCALE)
    fact_lines(document, [("Remissinstans", facts.body_name), ("Ärende", facts.strategy_title),
                          ("Diarienummer", facts.strategy_case_reference), ("Märkning", facts.reply_label),
                          ("Sista svarsdag", deadline)])
    paragraph = document.add_paragraph()
    paragraph.add_run("Svarsmall: ").bold = True
    tag = f"{TAG}{TEMPLATE}:referral={facts.referral_id}:draft-version={facts.draft_version}"
    text = f"remiss nr {facts.referral_id}, utkastets version {facts.draft_version}"
    writer.inline(paragraph, tag, "Svarsmall", text, "line", placeholder=False, lock="sdtContentLocked")
    writer.mark(paragraph, f"{MARK}id_{facts.referral_id}_{facts.draft_version}")


def _add_styles(document) -> None:
    """The grey field paragraphs (Enter keeps the style) and Word's placeholder character style."""
    from docx.enum.style import WD_STYLE_TYPE
    from docx.shared import Pt, RGBColor

    style = document.styles.add_style(FIELD_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = document.styles["Normal"]
    style.next_paragraph_style = style
    # Shading first: python-docx inserts the spacing after it, as the schema orders them.
    style.element.get_or_add_pPr().append(_element("w:shd", val="clear", color="auto", fill="EDEDED"))
    style.paragraph_format.space_after = Pt(6)
    placeholder = document.styles.add_style(PLACEHOLDER_STYLE, WD_STYLE_TYPE.CHARACTER)
    placeholder.font.color.rgb = RGBColor(0x59, 0x59, 0x59)  # 6:1 on the grey, unlike Word's 808080


def _core_properties(document, facts: TemplateFacts) -> None:
    """Properties of the template's own, nothing of python-docx's (its created date, its application)."""
    if facts.made_at is not None:
        document_properties(document, title=f"Remissvar: {facts.strategy_title}",
                            subject=f"Svarsmall för {facts.body_name}", author=facts.body_name,
                            company=facts.municipality, at=facts.made_at, keywords=facts.reply_label)
    properties = document.core_properties
    properties.title = xml_line(f"Remissvar: {facts.strategy_title}")[:PROPERTY_LIMIT]
    properties.subject = xml_line(f"Svarsmall för {facts.body_name}")[:PROPERTY_LIMIT]
    properties.author = xml_line(facts.body_name)[:PROPERTY_LIMIT]
    properties.last_modified_by = properties.author
    properties.keywords = xml_line(facts.reply_label)[:PROPERTY_LIMIT]
    properties.comments = f"remiss-referral={facts.referral_id}; remiss-draft-version={facts.draft_version}"
    properties.language = "sv-SE"


def _identity_properties(facts: TemplateFacts, keys: list[str]) -> dict[str, str]:
    values = {"remiss-referral": str(facts.referral_id), "remiss-draft-version": str(facts.draft_version)}
    values.update({f"remiss-section-{n}": key for n, key in enumerate(keys, start=1)})
    return values


def _add_custom_properties(document, values: dict[str, str]) -> None:
    """docProps/custom.xml: Word and LibreOffice keep it through every save (python-docx has no API)."""
    from docx.opc.constants import CONTENT_TYPE, RELATIONSHIP_TYPE
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part

    root = etree.Element(f"{{{CUSTOM_NS}}}Properties", nsmap={None: CUSTOM_NS, "vt": VT_NS})
    for pid, (name, value) in enumerate(values.items(), start=2):  # pid 0 and 1 are reserved
        prop = etree.SubElement(root, f"{{{CUSTOM_NS}}}property", fmtid=CUSTOM_FMTID, pid=str(pid), name=name)
        etree.SubElement(prop, f"{{{VT_NS}}}lpwstr").text = value
    blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    package = document.part.package
    part = Part(PackURI("/docProps/custom.xml"), CONTENT_TYPE.OFC_CUSTOM_PROPERTIES, blob, package)
    package.relate_to(part, RELATIONSHIP_TYPE.CUSTOM_PROPERTIES)


# ------------------------------------------------------------------ reading

def read_reply_template(data: bytes) -> TemplateReply | None:
    """Read a filled svarsmall back; None when the file is no svarsmall (no remiss tag or bookmark).

    Comments are filed by the section key the template was written with, whatever its heading says
    now. Run check_docx on an upload first: this only opens it, and a file python-docx cannot open
    is no svarsmall either.
    """
    document = _open(data)
    if document is None:
        return None
    properties = _read_custom_properties(document)
    texts = _texts_by_target(document.element.body, properties)
    if texts is None:
        return None
    referral_id, draft_version = _identity(document.element.body, properties)
    fields = {f.name: _value(texts.get(_field_target(f.name), []), f.placeholder) for f in FIELDS}
    fields["stance"] = stance_label(fields["stance"]) or fields["stance"]
    comments = {target.removeprefix("section:"): _value(paragraphs, SECTION_PLACEHOLDER)
                for target, paragraphs in texts.items() if target.startswith("section:")}
    return TemplateReply(referral_id, draft_version, fields, {k: v for k, v in comments.items() if v},
                         _value(texts.get(GENERAL, []), GENERAL_PLACEHOLDER))


def _open(data: bytes):
    import docx

    try:
        return docx.Document(io.BytesIO(data))
    except Exception:  # python-docx raises many kinds for what is no Word document
        return None


def _texts_by_target(body, properties: dict[str, str]) -> dict[str, list[str]] | None:
    """Each target's paragraphs, in order. A paragraph belongs to the tagged control around or in it;
    failing that (tags gone), to the last bookmarked label above it. None when nothing is marked."""
    texts, current, marked, pending = {}, None, False, ""
    for paragraph in body.iter(_w("p")):
        if any(ancestor.tag == f"{{{MC_NS}}}Fallback" for ancestor in paragraph.iterancestors()):
            continue  # a text box's copy for older readers: Word's own copy was read already
        marks = _marks(paragraph)
        tagged = _enclosing_target(paragraph) or _inline_target(paragraph)
        marked = marked or bool(marks) or tagged is not None
        if marks:
            current = _mark_target(marks[0], properties)
        if _inside_placeholder(paragraph) or (marks and tagged is None):
            continue  # an untouched control's placeholder, or the label itself
        text = pending + _paragraph_text(paragraph)
        if _mark_deleted(paragraph):  # accepting the deletion joins it to the next paragraph
            pending = text
            continue
        pending, target = "", tagged or current
        if target and target != TEMPLATE and text.strip():
            texts.setdefault(target, []).append(text.strip())
    return texts if marked else None


def _value(paragraphs: list[str], placeholder: str) -> str:
    """The paragraphs joined, without the placeholder: an editor may drop its flag, and LibreOffice
    turns it into an input field its user can type beside instead of over."""
    kept = (p.replace(placeholder, "").strip() for p in paragraphs)
    return "\n\n".join(p for p in kept if p and _normal(p) != _normal(placeholder))


def _normal(text: str) -> str:
    return " ".join(text.split()).casefold()


def _tag_target(sdt) -> str | None:
    tag = sdt.find(f"{_w('sdtPr')}/{_w('tag')}")
    value = tag.get(_w("val"), "") if tag is not None else ""
    if not value.startswith(TAG):
        return None
    target = value.removeprefix(TAG)
    return TEMPLATE if target.startswith(f"{TEMPLATE}:") else target


def _enclosing_target(paragraph) -> str | None:
    for ancestor in paragraph.iterancestors(_w("sdt")):
        target = _tag_target(ancestor)
        if target:
            return target
    return None


def _inline_target(paragraph) -> str | None:
    return next((t for t in map(_tag_target, paragraph.iter(_w("sdt"))) if t), None)


def _inside_placeholder(paragraph) -> bool:
    return any(_shows_placeholder(sdt) for sdt in paragraph.iterancestors(_w("sdt")))


def _shows_placeholder(sdt) -> bool:
    return sdt.find(f"{_w('sdtPr')}/{_w('showingPlcHdr')}") is not None


def _marks(paragraph) -> list[str]:
    names = (b.get(_w("name"), "") for b in paragraph.iter(_w("bookmarkStart")))
    return [name for name in names if name.startswith(MARK)]


def _mark_target(name: str, properties: dict[str, str]) -> str | None:
    """What the text under a bookmarked label belongs to; None for a heading that only ends a part."""
    if name == MARK + GENERAL:
        return GENERAL
    if name.startswith(f"{MARK}f_") and name.removeprefix(f"{MARK}f_") in {f.name for f in FIELDS}:
        return _field_target(name.removeprefix(f"{MARK}f_"))
    section = SECTION_MARK.fullmatch(name)
    key = section and properties.get(f"remiss-section-{section.group(1)}")
    return _section_target(key) if key else None


def _mark_deleted(paragraph) -> bool:
    return paragraph.find(f"{_w('pPr')}/{_w('rPr')}/{_w('del')}") is not None


# Subtrees whose text is not the paragraph's text as it reads with tracked changes accepted:
# deletions, moved-away text, field instructions, control and paragraph properties, text boxes
# (read as paragraphs of their own) and the fallback copy of alternate content.
SKIPPED = {_w(name) for name in ("del", "moveFrom", "instrText", "delText", "delInstrText", "sdtPr", "pPr",
                                 "rPr", "txbxContent")} | {f"{{{MC_NS}}}Fallback"}
CHARACTERS = {_w("tab"): "\t", _w("br"): "\n", _w("cr"): "\n", _w("noBreakHyphen"): "-"}


def _paragraph_text(paragraph) -> str:
    """The paragraph's text: insertions, hyperlinks, field results and nested controls in; deleted
    text, field instructions and controls still showing their placeholder out."""
    out: list[str] = []
    _collect(paragraph, [], out)
    return "".join(out)


def _collect(element, fields: list[bool], out: list[str]) -> None:
    """`fields` holds, for each field the walk is inside, whether it has reached the field's result."""
    for child in element:
        tag = child.tag
        if not isinstance(tag, str) or tag in SKIPPED or (tag == _w("sdt") and _shows_placeholder(child)):
            continue
        shown = all(fields)
        if tag == _w("t") and shown:
            out.append(child.text or "")
        elif tag in CHARACTERS and shown:
            out.append(CHARACTERS[tag])
        elif tag == _w("fldChar"):
            _field_char(child.get(_w("fldCharType")), fields)
        else:
            _collect(child, fields, out)


def _field_char(kind: str | None, fields: list[bool]) -> None:
    if kind == "begin":
        fields.append(False)
    elif kind == "separate" and fields:
        fields[-1] = True
    elif kind == "end" and fields:
        fields.pop()


def _read_custom_properties(document) -> dict[str, str]:
    from docx.opc.constants import RELATIONSHIP_TYPE

    parts = [rel.target_part for rel in document.part.package.rels.values()
             if rel.reltype == RELATIONSHIP_TYPE.CUSTOM_PROPERTIES and not rel.is_external]
    if not parts:
        return {}
    try:
        root = etree.fromstring(parts[0].blob, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return {}
    return {prop.get("name", ""): "".join(prop.itertext()).strip()
            for prop in root.iter(f"{{{CUSTOM_NS}}}property")}


def _plain_number(text: str) -> bool:
    """ASCII digits only, and few: "²" passes isdigit() and then fails int()."""
    return text.isascii() and text.isdecimal() and len(text) <= 10


def _identity(body, properties: dict[str, str]) -> tuple[int | None, int | None]:
    """(referral id, draft version): from the tagged control, else the custom properties (kept by
    LibreOffice), else the bookmark of the same control."""
    for tag in body.iter(_w("tag")):
        found = TEMPLATE_TAG.fullmatch(tag.get(_w("val"), ""))
        if found:
            return int(found.group(1)), int(found.group(2))
    referral, version = properties.get("remiss-referral", ""), properties.get("remiss-draft-version", "")
    if _plain_number(referral):
        return int(referral), int(version) if _plain_number(version) else None
    for mark in body.iter(_w("bookmarkStart")):
        found = TEMPLATE_MARK.fullmatch(mark.get(_w("name"), ""))
        if found:
            return int(found.group(1)), int(found.group(2))
    return None, None


# ------------------------------------------------------------------ stance and date

def _stance_key(text: str) -> str:
    return _normal(text).strip(" .,:;!\"'”“")


def stance_label(text: str) -> str | None:
    """The Swedish stance label a text names (any case, spacing or trailing full stop), else None."""
    return next((label for label in STANCES.values() if _stance_key(label) == _stance_key(text or "")), None)


def stance_code(text: str) -> Stance | None:
    """The Stance a Swedish label (as read from the template) stands for, else None."""
    label = stance_label(text)
    return next((Stance(code) for code, known in STANCES.items() if known == label), None) if label else None


MONTHS = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "maj": 5, "may": 5, "jun": 6, "jul": 7, "aug": 8,
          "sep": 9, "okt": 10, "oct": 10, "nov": 11, "dec": 12}
DATE_PATTERNS = (  # (pattern, order of its groups); the first that gives a real date wins
    (re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)"), "ymd"),  # ISO, also "2021-03-20 00:00"
    (re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)"), "ymd"),  # 20210320
    (re.compile(r"(?<!\d)(\d{1,2})(?::[ae])?\.?\s*([a-zåäö]{3,})\.?\s+(\d{4})(?!\d)"), "dmy"),  # 20 mars 2021
    (re.compile(r"(?<!\d)(\d{1,2})[./](\d{1,2})(?:[./-]|\s+)(\d{4})(?!\d)"), "dmy"),  # 20/3 2021, 20.03.2021
)


def parse_decision_date(text: str) -> date | None:
    """A decision date as secretaries write it: "2021-03-20", "2021-03-20 00:00", "20 mars 2021",
    "den 20:e mars 2021", "20/3 2021", "20.03.2021"; None when no real date is found."""
    text = _normal(xml_text(text))
    for pattern, order in DATE_PATTERNS:
        for found in pattern.finditer(text):
            day = _date(dict(zip(order, found.groups())))
            if day:
                return day
    return None


def _date(parts: dict[str, str]) -> date | None:
    month = parts["m"] if parts["m"].isdigit() else MONTHS.get(parts["m"][:3])
    try:
        return date(int(parts["y"]), int(month), int(parts["d"])) if month else None
    except ValueError:  # 30 February, month 13
        return None


# ------------------------------------------------------------------ the import

def read_reply_file(data: bytes, sections, *, filename: str, max_size: int,
                    strategy_reference: str = "") -> ReplyImport:
    """A reply uploaded for import: a filled svarsmall is read by its fields and keys; any other Word
    reply by its wording (read_reply_docx). Raises WorkflowError for a PDF or a file check_docx refuses."""
    check_reply_upload(data, filename, max_size)
    template = read_reply_template(data)
    if template is None:
        return read_reply_docx(data, sections, filename=filename, max_size=max_size,
                               strategy_reference=strategy_reference)
    return as_reply_import(template, sections)


def as_reply_import(template: TemplateReply, sections) -> ReplyImport:
    """A filled svarsmall as an import: every field as written and each comment on the section its key
    names. A key the draft does not have (a template of another version) is kept, marked unplaced."""
    by_key = {s.key: s for s in sections}
    fields = template.fields
    stance = stance_code(fields["stance"])
    found = ReplyImport(
        summary=fields["summary"], proposed_decision=fields["proposed_decision"],
        case_reference=fields["case_reference"], deciding_body=fields["deciding_body"],
        signatory_name=fields["signatory_name"], signatory_title=fields["signatory_title"],
        stance=stance.value if stance else "", decision_date=fields["decision_date"],
        decision_paragraph=fields["decision_paragraph"], contact=fields["contact"],
        template_referral_id=template.referral_id)
    for key, text in template.comments.items():
        section = by_key.get(key)
        if section is None:
            found.placed.append(PlacedComment(text, None, UNPLACED, "avsnittet finns inte i den version som "
                                                                    "remitterades"))
        else:
            found.placed.append(PlacedComment(text, section.id, TEMPLATE_REASON))
    if template.general_comments:
        found.placed.append(PlacedComment(template.general_comments, None, GENERAL_REASON))
    found.comments = {p.section_id: p.text for p in found.placed if p.section_id is not None}
    found.general_comments = "\n\n".join(p.text for p in found.placed if p.section_id is None)
    return found
