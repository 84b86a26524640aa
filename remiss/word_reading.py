"""A Word file read the way a person reads it on screen: every paragraph's text with tracked changes
accepted, and what Word itself knows of it (heading style, outline level, automatic number, bold, size).

Drafts and replies are both read through `read_word`; what counts as a heading is decided from these
facts in `remiss.outline`. Pure: bytes in, data out; nothing here touches the database or the request.
The XML is read with lxml directly (python-docx's object model skips content controls, tracked
insertions and field results, and is several times slower on a long draft).
"""
import io
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field

from lxml import etree

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W = f"{{{W_NS}}}"
WP_DOCPR = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}docPr"
MC_CHOICE = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Choice"
MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
MC_ALTERNATE = "{http://schemas.openxmlformats.org/markup-compatibility/2006}AlternateContent"
M_TEXT = "{http://schemas.openxmlformats.org/officeDocument/2006/math}t"
VML_SHAPE = "{urn:schemas-microsoft-com:vml}shape"
VML_IMAGEDATA = "{urn:schemas-microsoft-com:vml}imagedata"
DC_TITLE = "{http://purl.org/dc/elements/1.1/}title"
OFFICE_TITLE = "{urn:schemas-microsoft-com:office:office}title"

# Style names as Word and LibreOffice write them in English, Swedish and a few neighbours.
HEADING_NAME = re.compile(r"^(?:heading|rubrik|överskrift|overskrift|otsikko|überschrift)\s*([1-9])$", re.I)
TITLE_NAMES = {"title", "rubrik", "titel", "dokumenttitel"}
# Swedish compounds ("Innehållsförteckningsrubrik") have no word boundary after "innehåll".
TOC_NAME = re.compile(r"^(?:toc|contents|index|table of contents)\b|^innehåll", re.I)
# Private-use characters are symbol-font bullets (Wingdings, Symbol): shown as a plain bullet.
PRIVATE_USE = re.compile("[\ue000-\uf8ff]")
BODY_LEVEL = 9  # outlineLvl 9 is Word's "body text": explicitly not a heading
SKIP = {f"{W}{tag}" for tag in ("del", "moveFrom", "pPr", "rPr", "sdtPr", "sdtEndPr", "commentRangeStart",
                                "commentRangeEnd", "proofErr", "bookmarkStart", "bookmarkEnd",
                                "moveFromRangeStart", "moveFromRangeEnd", "moveToRangeStart", "moveToRangeEnd",
                                "permStart", "permEnd", "customXmlPr")}


@dataclass
class Block:
    """One paragraph, or one table row (cells joined by " | "), in reading order."""

    index: int
    text: str
    in_table: bool = False
    style_name: str = ""
    style_level: int | None = None  # from a heading style's name (0 = the title style)
    outline_level: int | None = None  # 1–9 from w:outlineLvl (on the paragraph, or its style)
    outline_on_paragraph: bool = False
    toc: bool = False  # a table-of-contents entry or its heading
    bold: bool = False  # every visible character bold
    size: float | None = None  # the largest font size in the paragraph, in points
    number: str = ""  # Word's automatic number or bullet for this paragraph, as Word shows it
    bullet: bool = False
    notes: list[str] = field(default_factory=list)  # footnotes and endnotes referenced here, "[1] text"


@dataclass
class WordDocument:
    title: str
    blocks: list[Block]

    @property
    def body_size(self) -> float | None:
        """The font size most of the text is set in."""
        sizes: Counter = Counter()
        for block in self.blocks:
            if block.size and not block.in_table:
                sizes[block.size] += len(block.text)
        return sizes.most_common(1)[0][0] if sizes else None


def read_word(data: bytes) -> WordDocument:
    """Every paragraph and table row of a .docx's body, with tracked changes accepted.

    Raises ValueError when the package or its XML cannot be read.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            parts = {name: _xml(archive.read(name)) for name in (
                "word/document.xml", "word/styles.xml", "word/numbering.xml", "word/footnotes.xml",
                "word/endnotes.xml", "docProps/core.xml") if name in names}
    except (zipfile.BadZipFile, KeyError, etree.XMLSyntaxError, OSError) as error:
        raise ValueError(f"not a readable .docx: {error}") from error
    if "word/document.xml" not in parts:
        raise ValueError("not a .docx: no word/document.xml")
    reader = _Reader(_Styles(parts.get("word/styles.xml")), _Numbering(parts.get("word/numbering.xml")),
                     _notes(parts.get("word/footnotes.xml"), "footnote"), _notes(parts.get("word/endnotes.xml"),
                                                                                  "endnote"))
    body = parts["word/document.xml"].find(f"{W}body")
    if body is not None:
        reader.read_blocks(body)
    return WordDocument(_core_title(parts.get("docProps/core.xml")), reader.blocks)


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)


def _xml(data: bytes):
    return etree.fromstring(data, _PARSER)


def _core_title(core) -> str:
    element = core.find(DC_TITLE) if core is not None else None
    return " ".join((element.text or "").split()) if element is not None else ""


def _val(element, tag: str) -> str | None:
    child = element.find(f"{W}{tag}") if element is not None else None
    return child.get(f"{W}val") if child is not None else None


def _on(element, tag: str) -> bool | None:
    """A toggle property (w:b): None when not set here, else whether it is on."""
    child = element.find(f"{W}{tag}") if element is not None else None
    if child is None:
        return None
    return child.get(f"{W}val", "true").lower() not in ("0", "false", "off", "none")


def _notes(root, kind: str) -> dict[str, object]:
    """id → the note element; separators (Word's own lines above the notes) are left out."""
    if root is None:
        return {}
    return {note.get(f"{W}id"): note for note in root.iter(f"{W}{kind}")
            if note.get(f"{W}type") in (None, "normal")}


# ------------------------------------------------------------------ styles

@dataclass
class _Style:
    name: str
    based_on: str | None
    outline: int | None
    num: tuple[str, int] | None  # (numId, ilvl)
    bold: bool | None
    size: float | None
    kind: str


class _Styles:
    """Paragraph and character styles, each question answered through the based-on chain once."""

    def __init__(self, root):
        self.styles: dict[str, _Style] = {}
        self.default_paragraph = ""
        self.default_size: float | None = None
        self._cache: dict[tuple[str, str], object] = {}
        if root is None:
            return
        defaults = root.find(f"{W}docDefaults/{W}rPrDefault/{W}rPr")
        self.default_size = _half_points(_val(defaults, "sz"))
        for style in root.iter(f"{W}style"):
            style_id = style.get(f"{W}styleId") or ""
            ppr, rpr = style.find(f"{W}pPr"), style.find(f"{W}rPr")
            self.styles[style_id] = _Style(
                name=(_val(style, "name") or style_id).strip(), based_on=_val(style, "basedOn"),
                outline=_int(_val(ppr, "outlineLvl")), num=_num_pr(ppr), bold=_on(rpr, "b"),
                size=_half_points(_val(rpr, "sz")), kind=style.get(f"{W}type") or "paragraph")
            if style.get(f"{W}default") in ("1", "true") and self.styles[style_id].kind == "paragraph":
                self.default_paragraph = style_id

    def chain(self, style_id: str):
        seen = set()
        while style_id and style_id in self.styles and style_id not in seen:
            seen.add(style_id)
            yield self.styles[style_id]
            style_id = self.styles[style_id].based_on or ""

    def first(self, style_id: str, attribute: str):
        key = (style_id, attribute)
        if key not in self._cache:
            self._cache[key] = next((getattr(s, attribute) for s in self.chain(style_id)
                                     if getattr(s, attribute) is not None), None)
        return self._cache[key]

    def heading(self, style_id: str) -> tuple[str, int | None, int | None, bool]:
        """(name, level by name, outline level, toc) — the nearest style in the chain that says."""
        key = (style_id, "heading")
        if key not in self._cache:
            self._cache[key] = self._heading(style_id)
        return self._cache[key]  # type: ignore[return-value]

    def _heading(self, style_id: str) -> tuple[str, int | None, int | None, bool]:
        name = self.styles[style_id].name if style_id in self.styles else ""
        for style in self.chain(style_id):
            if TOC_NAME.match(style.name):
                return name, None, None, True
            if style.outline is not None:
                level = style.outline + 1 if style.outline < BODY_LEVEL else None
                by_name = HEADING_NAME.match(style.name)
                return name, int(by_name.group(1)) if by_name else None, level, False
            by_name = HEADING_NAME.match(style.name)
            if by_name:
                return name, int(by_name.group(1)), None, False
            if style.name.lower() in TITLE_NAMES:
                return name, 0, None, False
        return name, None, None, False


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _half_points(value: str | None) -> float | None:
    number = _int(value)
    return number / 2 if number else None


def _num_pr(ppr) -> tuple[str, int | None] | None:
    """(numId, ilvl) of a paragraph or style; ilvl None when not given (a style's list level then
    comes from the level that names the style)."""
    num = ppr.find(f"{W}numPr") if ppr is not None else None
    if num is None:
        return None
    return (_val(num, "numId") or "0", _int(_val(num, "ilvl")))


# ------------------------------------------------------------------ automatic numbering

ROMAN = ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"), (40, "xl"),
         (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"))


MAX_START = 32767  # Word's own limit; a file claiming more would make labels of any length


def _start(value: str | None) -> int:
    number = _int(value)
    return 1 if number is None else min(max(number, 0), MAX_START)


def _roman(n: int) -> str:
    out = ""
    for value, letters in ROMAN:
        while n >= value:
            out, n = out + letters, n - value
    return out


def _letters(n: int) -> str:
    return chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1) if n > 0 else ""


def _format(n: int, fmt: str) -> str:
    formats = {"decimal": str, "decimalZero": lambda k: f"{k:02d}", "lowerLetter": _letters,
               "upperLetter": lambda k: _letters(k).upper(), "lowerRoman": _roman,
               "upperRoman": lambda k: _roman(k).upper(), "none": lambda k: ""}
    return formats.get(fmt, str)(n)


@dataclass
class _Level:
    start: int = 1
    fmt: str = "decimal"
    text: str = "%1."
    restart: int | None = None
    legal: bool = False
    style: str = ""  # the paragraph style this level belongs to, if any


class _Numbering:
    """Word's list numbering: counters per abstract list, rendered from each level's lvlText."""

    def __init__(self, root):
        self.abstract: dict[str, dict[int, _Level]] = {}
        self.nums: dict[str, tuple[str, dict[int, int]]] = {}
        self.counters: dict[str, dict[int, int]] = {}
        self.started: set[str] = set()
        if root is None:
            return
        links = {}
        for abstract in root.iter(f"{W}abstractNum"):
            levels = {_int(lvl.get(f"{W}ilvl")) or 0: _Level(
                start=_start(_val(lvl, "start")),
                fmt=_val(lvl, "numFmt") or "decimal", text=_val(lvl, "lvlText") or "",
                restart=_int(_val(lvl, "lvlRestart")), legal=_on(lvl, "isLgl") or False,
                style=_val(lvl, "pStyle") or "")
                for lvl in abstract.findall(f"{W}lvl")}
            abstract_id = abstract.get(f"{W}abstractNumId") or ""
            self.abstract[abstract_id] = levels
            if _val(abstract, "numStyleLink"):
                links[abstract_id] = _val(abstract, "numStyleLink")
        style_links = {_val(a, "styleLink"): a.get(f"{W}abstractNumId") for a in root.iter(f"{W}abstractNum")
                       if _val(a, "styleLink")}
        for abstract_id, link in links.items():  # a list that only points at a numbering style's list
            if style_links.get(link):
                self.abstract[abstract_id] = self.abstract.get(style_links[link], {})
        for num in root.iter(f"{W}num"):
            overrides = {_int(o.get(f"{W}ilvl")) or 0: _start(_val(o, "startOverride"))
                         for o in num.findall(f"{W}lvlOverride") if _val(o, "startOverride") is not None}
            self.nums[num.get(f"{W}numId") or ""] = (_val(num, "abstractNumId") or "", overrides)

    def level_of_style(self, num_id: str, style_id: str) -> int:
        levels = self.abstract.get(self.nums.get(num_id, ("", {}))[0], {})
        return next((ilvl for ilvl, level in levels.items() if level.style == style_id), 0)

    def label(self, num_id: str, ilvl: int) -> tuple[str, bool]:
        """The next label of list num_id at level ilvl, as Word shows it, and whether it is a bullet."""
        if num_id == "0" or num_id not in self.nums:
            return "", False
        abstract_id, overrides = self.nums[num_id]
        levels = self.abstract.get(abstract_id, {})
        level = levels.get(ilvl)
        if level is None:
            return "", False
        counters = self.counters.setdefault(abstract_id, {})
        if num_id not in self.started:  # a list instance with a start override begins again
            self.started.add(num_id)
            for lvl, start in overrides.items():
                counters[lvl] = start - 1
        counters[ilvl] = counters.get(ilvl, level.start - 1) + 1
        for deeper in [k for k in counters if k > ilvl]:
            restart = levels.get(deeper, _Level()).restart
            if restart is None or restart > ilvl:
                del counters[deeper]
        if level.fmt == "bullet":
            return PRIVATE_USE.sub("•", level.text) or "•", True

        def render(match) -> str:
            k = int(match.group(1)) - 1
            lvl = levels.get(k, _Level())
            value = counters.get(k, lvl.start)
            return str(value) if level.legal else _format(value, lvl.fmt)

        return re.sub(r"%([1-9])", render, level.text).strip(), False


# ------------------------------------------------------------------ text

class _Reader:
    def __init__(self, styles: _Styles, numbering: _Numbering, footnotes: dict, endnotes: dict):
        self.styles, self.numbering = styles, numbering
        self.footnotes, self.endnotes = footnotes, endnotes
        self.note_numbers: dict[tuple[str, str], str] = {}
        self.blocks: list[Block] = []
        self.fields: list[list] = []  # open complex fields: [instruction, showing result]
        self.pending = ""  # the text of a paragraph whose mark was deleted: it joins the next one
        self.expanding: set[tuple[str, str]] = set()

    # Body: paragraphs, tables and the containers around them.
    def read_blocks(self, element, in_table: bool = False) -> None:
        for child in element:
            tag = child.tag
            if tag == f"{W}p":
                self._paragraph(child, in_table)
            elif tag == f"{W}tbl":
                self._table(child)
            elif tag == f"{W}sdt":
                content = child.find(f"{W}sdtContent")
                if content is not None:
                    self.read_blocks(content, in_table)
            elif tag in (f"{W}customXml", f"{W}ins", f"{W}moveTo", f"{W}smartTag"):
                self.read_blocks(child, in_table)
            elif tag == MC_ALTERNATE:
                self.read_blocks(_alternative(child), in_table)

    def _table(self, table) -> None:
        for row in table.iter(f"{W}tr"):
            if row.getparent() is not None and _owning_table(row) is not table:
                continue  # a nested table's rows are read with their cell
            if row.find(f"{W}trPr/{W}del") is not None:
                continue
            cells: list[str] = []
            notes: list[str] = []
            for cell in _row_cells(row):
                before = len(self.blocks)
                self.read_blocks(cell, in_table=True)
                text = " ".join(" ".join(b.text for b in self.blocks[before:] if b.text).split())
                notes += [n for b in self.blocks[before:] for n in b.notes]
                del self.blocks[before:]
                if text:  # a merged cell is one w:tc, so equal neighbours are two cells
                    cells.append(text)
            if cells:
                self.blocks.append(Block(len(self.blocks), " | ".join(cells), in_table=True, notes=notes))

    def _paragraph(self, p, in_table: bool) -> None:
        ppr = p.find(f"{W}pPr")
        style_id = _val(ppr, "pStyle") or self.styles.default_paragraph
        name, style_level, outline, toc = self.styles.heading(style_id)
        own_outline = _int(_val(ppr, "outlineLvl"))
        if own_outline is not None:
            outline = own_outline + 1 if own_outline < BODY_LEVEL else None
        if self.fields and any(f[0].lstrip().upper().startswith("TOC") for f in self.fields):
            toc = True  # inside a table of contents field's result, whatever the style
        runs = _Runs(self, style_id)
        runs.walk(p)
        text = self.pending + runs.text()
        if ppr is not None and ppr.find(f"{W}rPr/{W}del") is not None and _next_block(p) == f"{W}p":
            self.pending = text  # the paragraph mark was deleted: this paragraph runs on into the next
            return
        self.pending = ""
        number, bullet = "", False
        num = _num_pr(ppr) or self.styles.first(style_id, "num")
        if num is not None and text.strip():
            num_id, ilvl = num
            if ilvl is None:
                ilvl = self.numbering.level_of_style(num_id, style_id)
            number, bullet = self.numbering.label(num_id, ilvl)
        self.blocks.append(Block(
            len(self.blocks), " ".join(text.split()) if not in_table else text, in_table=in_table,
            style_name=name, style_level=style_level, outline_level=outline,
            outline_on_paragraph=own_outline is not None, toc=toc, bold=runs.all_bold(), size=runs.largest(),
            number=number, bullet=bullet, notes=runs.notes))

    def note(self, kind: str, note_id: str) -> str:
        """The number a footnote or endnote shows, given in the order they are referenced."""
        key = (kind, note_id)
        if key not in self.note_numbers:
            count = sum(1 for k, _ in self.note_numbers if k == kind) + 1
            self.note_numbers[key] = str(count) if kind == "footnote" else _roman(count)
        return self.note_numbers[key]

    def note_text(self, kind: str, note_id: str) -> str:
        note = (self.footnotes if kind == "footnote" else self.endnotes).get(note_id)
        if note is None or (kind, note_id) in self.expanding:  # a note that refers to itself, at any depth
            return ""
        self.expanding.add((kind, note_id))
        texts = []
        for p in note.iter(f"{W}p"):
            runs = _Runs(self, "")
            runs.walk(p)
            texts.append(" ".join(runs.text().split()))
        self.expanding.discard((kind, note_id))
        return " ".join(t for t in texts if t)


def _in_fallback(element, top) -> bool:
    parent = element.getparent()
    while parent is not None and parent is not top:
        if parent.tag == MC_FALLBACK:
            return True
        parent = parent.getparent()
    return False


def _next_block(paragraph) -> str:
    """The tag of the next paragraph-level element in the same container ("" at its end): a deleted
    paragraph mark joins only a following paragraph, as Word does when the change is accepted."""
    sibling = paragraph.getnext()
    while sibling is not None and (not isinstance(sibling.tag, str) or sibling.tag in SKIP):
        sibling = sibling.getnext()
    return sibling.tag if sibling is not None else ""


def _alternative(element):
    """Of mc:AlternateContent, the first choice (what Word shows), else the fallback."""
    choice = element.find(MC_CHOICE)
    return choice if choice is not None else (element.find(MC_FALLBACK) if element.find(MC_FALLBACK)
                                              is not None else [])


def _owning_table(element):
    parent = element.getparent()
    while parent is not None and parent.tag != f"{W}tbl":
        parent = parent.getparent()
    return parent


def _row_cells(row):
    for child in row:
        if child.tag == f"{W}tc":
            yield child
        elif child.tag in (f"{W}sdt", f"{W}customXml"):
            yield from child.iter(f"{W}tc")


class _Runs:
    """The visible text of one paragraph and its formatting, walking runs in document order."""

    def __init__(self, reader: _Reader, style_id: str):
        self.reader, self.style_id = reader, style_id
        self.parts: list[str] = []
        self.bold_chars = self.plain_chars = 0
        self.sizes: list[float] = []
        self.notes: list[str] = []
        self.style_bold = bool(reader.styles.first(style_id, "bold")) if style_id else False
        self.style_size = (reader.styles.first(style_id, "size") if style_id else None) \
            or reader.styles.default_size

    def text(self) -> str:
        return "".join(self.parts)

    def all_bold(self) -> bool:
        return self.bold_chars > 0 and self.plain_chars == 0

    def largest(self) -> float | None:
        return max(self.sizes) if self.sizes else self.style_size

    def walk(self, element) -> None:
        for child in element:
            tag = child.tag
            if tag in SKIP or not isinstance(tag, str):
                continue
            if tag == f"{W}r":
                self._run(child)
            elif tag == f"{W}fldSimple":
                self.walk(child)  # its runs are the field's result
            elif tag == MC_ALTERNATE:
                self.walk(_alternative(child))
            elif tag == M_TEXT:  # an equation's text ("50 %"), as Word shows it in the line
                self._add(child.text or "", None)
            elif tag != f"{W}p":
                self.walk(child)  # ins, moveTo, hyperlink, sdt/sdtContent, smartTag, customXml, …

    def _run(self, run) -> None:
        fields = self.reader.fields
        rpr = run.find(f"{W}rPr")
        for child in run:
            tag = child.tag
            if tag == f"{W}fldChar":
                kind = child.get(f"{W}fldCharType")
                if kind == "begin":
                    fields.append(["", False])
                elif kind == "separate" and fields:
                    fields[-1][1] = True
                elif kind == "end" and fields:
                    fields.pop()
            elif tag == f"{W}instrText":
                if fields and not fields[-1][1]:
                    fields[-1][0] += child.text or ""
            elif fields and not all(showing for _, showing in fields):
                continue  # inside a field's instruction (of this field or one around it): nothing is shown
            elif tag == f"{W}t":
                self._add(child.text or "", rpr)
            elif tag in (f"{W}tab", f"{W}ptab"):
                self.parts.append("\t")
            elif tag in (f"{W}br", f"{W}cr"):
                self.parts.append("\n")
            elif tag == f"{W}noBreakHyphen":
                self._add("-", rpr)
            elif tag in (f"{W}footnoteReference", f"{W}endnoteReference"):
                self._note(tag[len(W):-len("Reference")], child.get(f"{W}id") or "")
            elif tag in (f"{W}drawing", f"{W}pict", MC_ALTERNATE):
                self._picture(child)

    def _add(self, text: str, rpr) -> None:
        if not text:
            return
        self.parts.append(text)
        bold = _on(rpr, "b")
        if bold is None:
            char_style = _val(rpr, "rStyle")
            bold = self.reader.styles.first(char_style, "bold") if char_style else None
        visible = len(text.strip())
        if bold if bold is not None else self.style_bold:
            self.bold_chars += visible
        else:
            self.plain_chars += visible
        size = _half_points(_val(rpr, "sz")) or self.style_size
        if size and visible:
            self.sizes.append(size)

    def _note(self, kind: str, note_id: str) -> None:
        number = self.reader.note(kind, note_id)
        self.parts.append(f"[{number}]")
        text = self.reader.note_text(kind, note_id)
        if text:
            self.notes.append(f"[{number}] {text}")

    def _picture(self, element) -> None:
        """An image as "[Bild: its alt text]"; a text box's paragraphs as text."""
        if element.tag == MC_ALTERNATE:
            element = _alternative(element)  # Word's choice; the fallback repeats it for older readers
        boxes = [box for box in element.iter(f"{W}txbxContent") if not _in_fallback(box, element)]
        if boxes:
            for box in boxes:
                for p in box.iter(f"{W}p"):
                    self.walk(p)
                    self.parts.append(" ")
            return
        described = next((d for d in element.iter(WP_DOCPR)), None)
        alt = ""
        if described is not None:
            alt = described.get("descr") or described.get("title") or ""
        else:
            shape = next((s for s in element.iter(VML_SHAPE)), None)
            data = next((s for s in element.iter(VML_IMAGEDATA)), None)
            alt = (shape.get("alt", "") if shape is not None else "") or \
                  (data.get(OFFICE_TITLE, "") if data is not None else "")
        if described is not None or element.find(f".//{VML_IMAGEDATA}") is not None:
            alt = " ".join(alt.split())
            self.parts.append(f" [Bild: {alt}] " if alt else " [Bild] ")
