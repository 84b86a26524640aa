"""The clean copy of a Word draft: what the bodies receive instead of the officer's working file.

Tracked changes are accepted, comments removed and personal metadata cleared; every other part of
the package is copied byte for byte. Pure: bytes in, bytes or data out. The caller has already vetted
the upload with docx_files.check_docx, so its size and inflation limits hold before any XML is parsed.
"""
import io
import posixpath
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass
from urllib.parse import unquote

from lxml import etree

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = {"w": W}
DC = "http://purl.org/dc/elements/1.1/"
CP = "http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
EP = "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
PR = "http://schemas.openxmlformats.org/package/2006/relationships"

WML = "application/vnd.openxmlformats-officedocument.wordprocessingml."
MAIN_TYPES = {WML + "document.main+xml", WML + "template.main+xml"}
# Parts holding text, where revisions and comment anchors live.
STORY_TYPES = MAIN_TYPES | {WML + t for t in (
    "document.glossary+xml", "header+xml", "footer+xml", "footnotes+xml", "endnotes+xml")}
# Parts holding definitions, which may carry property changes (rPrChange in a style, and so on).
DEFINITION_TYPES = {WML + "styles+xml", WML + "numbering+xml", "application/vnd.ms-word.stylesWithEffects+xml"}
SETTINGS_TYPE = WML + "settings+xml"
COMMENTS_TYPE = WML + "comments+xml"
PEOPLE_TYPE = WML + "people+xml"
COMMENT_TYPES = {COMMENTS_TYPE, PEOPLE_TYPE} | {WML + t for t in (
    "commentsExtended+xml", "commentsIds+xml", "commentsExtensible+xml")}
CORE_TYPE = "application/vnd.openxmlformats-package.core-properties+xml"
APP_TYPE = "application/vnd.openxmlformats-officedocument.extended-properties+xml"
CONTENT_TYPES = "[Content_Types].xml"


def _w(*names: str) -> tuple[str, ...]:
    return tuple(f"{{{W}}}{name}" for name in names)


# A w:ins / w:del / w:moveFrom / w:moveTo under one of these marks a paragraph mark or a table row;
# anywhere else it wraps the changed content.
MARK_PARENTS = set(_w("rPr", "trPr"))
PROPERTY_CHANGES = _w("rPrChange", "pPrChange", "sectPrChange", "tblPrChange", "tblPrExChange", "trPrChange",
                      "tcPrChange", "tblGridChange", "numberingChange")
RANGE_MARKS = _w("moveFromRangeStart", "moveFromRangeEnd", "moveToRangeStart", "moveToRangeEnd",
                 "customXmlInsRangeStart", "customXmlInsRangeEnd", "customXmlDelRangeStart",
                 "customXmlDelRangeEnd", "customXmlMoveFromRangeStart", "customXmlMoveFromRangeEnd",
                 "customXmlMoveToRangeStart", "customXmlMoveToRangeEnd")
COMMENT_MARKS = _w("commentRangeStart", "commentRangeEnd", "commentReference")
# Markers simply dropped: the content around them stays as it is.
DROPPED = PROPERTY_CHANGES + RANGE_MARKS + _w("commentRangeStart", "commentRangeEnd", "cellIns", "cellMerge")
CHANGE_TAGS = DROPPED + COMMENT_MARKS + _w("ins", "del", "moveFrom", "moveTo", "cellDel")
# What may stand between two paragraphs without stopping a deleted paragraph mark from joining them.
POSITION_MARKS = set(_w("bookmarkStart", "bookmarkEnd", "permStart", "permEnd", "proofErr"))

CORE_FIELDS = ((f"{{{DC}}}creator", "författare"), (f"{{{CP}}}lastModifiedBy", "senast sparad av"))
APP_FIELDS = ((f"{{{EP}}}Company", "företag"), (f"{{{EP}}}Manager", "chef"))
REVIEWERS = "granskare i ändringarna"
COMMENTERS = "kommentarer av"
# How the summary line names each kind of personal metadata.
PHRASES = {"författare": "författarens namn", "senast sparad av": "namnet på den som sparade senast",
           "företag": "företagets namn", "chef": "chefens namn", REVIEWERS: "granskarnas namn",
           COMMENTERS: "kommentatorernas namn"}
OFF = {"false", "0", "off"}


@dataclass(frozen=True)
class Findings:
    """What a clean copy would remove from a draft. `personal` holds Swedish labels such as
    "författare: Anna Berg"; `tracking` is set when Word would track the recipients' edits."""
    insertions: int = 0
    deletions: int = 0
    moves: int = 0
    formatting_changes: int = 0
    comments: int = 0
    personal: tuple[str, ...] = ()
    tracking: bool = False

    @property
    def tracked_changes(self) -> int:
        return self.insertions + self.deletions + self.moves + self.formatting_changes

    @property
    def clean(self) -> bool:
        return not (self.tracked_changes or self.comments or self.personal or self.tracking)

    @property
    def summary(self) -> str:
        """One Swedish line, e.g. "3 spårade ändringar, 2 kommentarer, författarens namn"."""
        items = []
        if self.tracked_changes:
            items.append(_counted(self.tracked_changes, "spårad ändring", "spårade ändringar"))
        if self.comments:
            items.append(_counted(self.comments, "kommentar", "kommentarer"))
        items += [PHRASES[label.partition(":")[0]] for label in self.personal]
        if self.tracking:
            items.append("spåra ändringar är påslaget")
        if not items:
            return "Inga spårade ändringar, kommentarer eller personliga uppgifter"
        line = ", ".join(items)
        return line[0].upper() + line[1:]


def _counted(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


# ------------------------------------------------------------------ the package

def _parse(blob: bytes) -> etree._Element:
    # A parser per call: lxml parsers are not safe to share between threads.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)
    try:
        return etree.fromstring(blob, parser)
    except etree.XMLSyntaxError as error:
        raise ValueError(f"unreadable XML in the .docx: {error}") from error


def _serialize(root: etree._Element) -> bytes:
    standalone = root.getroottree().docinfo.standalone
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=standalone)


class _Package:
    """The zip's entries and each part's content type, as [Content_Types].xml declares it."""

    def __init__(self, data: bytes):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                self.infos = archive.infolist()
                self.blobs = {info.filename: archive.read(info) for info in self.infos}
        except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, NotImplementedError,
                RuntimeError) as error:
            raise ValueError("not a readable .docx") from error
        if CONTENT_TYPES not in self.blobs:
            raise ValueError("not a .docx: no [Content_Types].xml")
        self.by_lower = {name.lower(): name for name in self.blobs}
        self._roots: dict[str, etree._Element] = {}
        self.types = self._content_types()
        if not MAIN_TYPES & set(self.types.values()):
            raise ValueError("not a .docx: no main document part")

    def root(self, name: str) -> etree._Element:
        """A part's XML, parsed once: inspecting and cleaning the same package read each part once."""
        if name not in self._roots:
            self._roots[name] = _parse(self.blobs[name])
        return self._roots[name]

    def _content_types(self) -> dict[str, str]:
        root = self.root(CONTENT_TYPES)
        defaults = {d.get("Extension", "").lower(): d.get("ContentType") for d in root.iter(f"{{{CT}}}Default")}
        overrides = {o.get("PartName", "").lstrip("/").lower(): o.get("ContentType")
                     for o in root.iter(f"{{{CT}}}Override")}
        return {name: overrides.get(name.lower()) or defaults.get(name.rpartition(".")[2].lower(), "")
                for name in self.blobs}

    def of_types(self, types) -> list[str]:
        return [name for name, kind in self.types.items() if kind in types]

    def resolve(self, source: str, relationship: etree._Element) -> str | None:
        """The entry a relationship points at, or None for an external or missing target."""
        if relationship.get("TargetMode") == "External":
            return None
        target = unquote(relationship.get("Target", "").partition("#")[0])
        path = target[1:] if target.startswith("/") else posixpath.join(posixpath.dirname(source), target)
        return self.by_lower.get(posixpath.normpath(path).lower())

    def links(self) -> dict[str, list[str]]:
        """Source part ("" for the package) → the parts its relationships point at."""
        links = {}
        for name in self.blobs:
            source = _source_of(name)
            if source is not None:
                targets = (self.resolve(source, r) for r in self.root(name).iter(f"{{{PR}}}Relationship"))
                links[source] = [target for target in targets if target]
        return links


def _rels_of(part: str) -> str:
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", base + ".rels")


def _source_of(name: str) -> str | None:
    """The part a .rels entry belongs to ("" for the package's own _rels/.rels), or None for other entries."""
    folder, rels = posixpath.split(name)
    if posixpath.basename(folder) != "_rels" or not rels.endswith(".rels"):
        return None
    return posixpath.join(posixpath.dirname(folder), rels[:-len(".rels")])


# ------------------------------------------------------------------ inspecting

def clean_copy(data: bytes) -> tuple[Findings, bytes | None]:
    """What the file carries (inspect_docx) and, unless it is clean already, its clean copy
    (make_clean_copy), reading each part once. Raises ValueError for a file that is not a readable .docx."""
    package = _Package(data)
    findings = _inspect(package)
    return findings, (None if findings.clean else _clean(package))


def inspect_docx(data: bytes) -> Findings:
    """Count what a clean copy would remove: revisions in the text parts (document, headers, footers,
    footnotes, endnotes) and in styles and numbering, comments, personal metadata, and whether change
    tracking is switched on. Raises ValueError for a file that is not a readable .docx."""
    return _inspect(_Package(data))


def _inspect(package: _Package) -> Findings:
    counts, reviewers, anchors = _scan_text_parts(package)
    comment_ids, commenters, people = _scan_comment_parts(package)
    # Word's list of people names everyone who commented or revised; commenters are named apart.
    reviewers += [person for person in people if person not in commenters]
    personal = _document_properties(package) + _names(REVIEWERS, reviewers) + _names(COMMENTERS, commenters)
    return Findings(comments=len(comment_ids | anchors), personal=tuple(personal), tracking=_tracking(package),
                    **counts)


def _scan_text_parts(package: _Package) -> tuple[Counter, list[str], set[str]]:
    """Revision counts, revision authors and the ids of comments anchored in the text."""
    counts, authors, anchors = Counter(), [], set()
    for name in package.of_types(STORY_TYPES | DEFINITION_TYPES):
        root = package.root(name)
        counts.update(_count_revisions(root))
        authors += root.xpath("//@w:author", namespaces=NS)
        anchors |= {el.get(f"{{{W}}}id") for el in root.iter(*COMMENT_MARKS)}
    return counts, authors, anchors


def _scan_comment_parts(package: _Package) -> tuple[set[str], list[str], list[str]]:
    """The comments' ids and authors, and the names in Word's list of people."""
    ids, authors, people = set(), [], []
    for name in package.of_types(COMMENT_TYPES):
        root = package.root(name)
        comments = list(root.iter(f"{{{W}}}comment"))
        ids |= {el.get(f"{{{W}}}id") for el in comments}
        authors += [el.get(f"{{{W}}}author") for el in comments]
        if package.types[name] == PEOPLE_TYPE:
            people += root.xpath("//@*[local-name()='author']")
    return ids, authors, people


def _count_revisions(root: etree._Element) -> dict[str, int]:
    return {"insertions": _revisions(root, "ins", "cellIns"), "deletions": _revisions(root, "del", "cellDel"),
            "moves": _moves(root), "formatting_changes": sum(1 for _ in root.iter(*PROPERTY_CHANGES))}


def _revisions(root: etree._Element, name: str, cell_mark: str) -> int:
    """Wrapped content and rows count once each; a paragraph mark counts only where its paragraph holds
    no wrapped change of the same kind, so a whole inserted paragraph is one insertion, not two."""
    wrapped = len(_wrappers(root, name))
    rows = len(root.xpath(f".//w:trPr/w:{name}", namespaces=NS))
    lone_marks = len(root.xpath(f".//w:p[w:pPr/w:rPr/w:{name}][not(.//w:{name}[not(parent::w:rPr)])]",
                                namespaces=NS))
    return wrapped + rows + lone_marks + sum(1 for _ in root.iter(*_w(cell_mark)))


def _moves(root: etree._Element) -> int:
    # Both ends of a move share the name of their range; without ranges count the larger end.
    names = {el.get(f"{{{W}}}name") for el in root.iter(*_w("moveFromRangeStart", "moveToRangeStart"))}
    return len(names) or max(len(_wrappers(root, "moveFrom")), len(_wrappers(root, "moveTo")))


def _wrappers(root: etree._Element, *names: str) -> list[etree._Element]:
    return [el for el in root.iter(*_w(*names)) if el.getparent().tag not in MARK_PARENTS]


def _document_properties(package: _Package) -> list[str]:
    found = []
    for kinds, fields in ((CORE_TYPE, CORE_FIELDS), (APP_TYPE, APP_FIELDS)):
        for name in package.of_types({kinds}):
            root = package.root(name)
            found += [f"{label}: {el.text.strip()}" for tag, label in fields for el in root.iter(tag)
                      if (el.text or "").strip()]
    return found


def _names(label: str, names: list[str | None]) -> list[str]:
    unique = list(dict.fromkeys(n.strip() for n in names if n and n.strip()))
    return [f"{label}: {', '.join(unique)}"] if unique else []


def _tracking(package: _Package) -> bool:
    return any(_tracking_marks(package.root(name)) for name in package.of_types({SETTINGS_TYPE}))


def _tracking_marks(settings: etree._Element) -> list[etree._Element]:
    # Protection "tracked changes only" forces tracking on whatever the switch says.
    switches = [el for el in settings.iter(*_w("trackRevisions")) if el.get(f"{{{W}}}val", "true") not in OFF]
    locks = [el for el in settings.iter(*_w("documentProtection")) if el.get(f"{{{W}}}edit") == "trackedChanges"]
    return switches + locks


# ------------------------------------------------------------------ cleaning

def make_clean_copy(data: bytes) -> bytes:
    """A .docx with every tracked change accepted (text parts, styles, numbering), comments and their
    parts, relationships and content types removed, change tracking switched off, and the author,
    last editor, company and manager cleared. Parts that need none of this are copied byte for byte.
    Raises ValueError for a file that is not a readable .docx."""
    return _clean(_Package(data))


def _clean(package: _Package) -> bytes:
    removed = _comment_parts(package)
    changed = {}
    for name, kind in package.types.items():
        clean = CLEANERS.get(kind)
        if clean is not None and name not in removed:
            root = package.root(name)
            if clean(root):
                changed[name] = _serialize(root)
    if removed:
        changed.update(_unlinked(package, removed))
        changed.update(_untyped(package, removed))
    return _write(package, changed, removed)


def _comment_parts(package: _Package) -> set[str]:
    """The comment parts, the parts only they point at (a picture in a comment), and their .rels."""
    comments = set(package.of_types(COMMENT_TYPES))
    if not comments:
        return set()
    links = package.links()
    orphans = _reachable(links, set()) - _reachable(links, comments)
    parts = comments | orphans
    return parts | {_rels_of(part) for part in parts if _rels_of(part) in package.blobs}


def _reachable(links: dict[str, list[str]], cut: set[str]) -> set[str]:
    seen, todo = set(), [""]
    while todo:
        for target in links.get(todo.pop(), []):
            if target not in seen and target not in cut:
                seen.add(target)
                todo.append(target)
    return seen


def _unlinked(package: _Package, removed: set[str]) -> dict[str, bytes]:
    """The .rels entries that pointed at removed parts, rewritten without those relationships."""
    changed = {}
    for name in package.blobs:
        source = _source_of(name)
        if source is not None and name not in removed:
            root = package.root(name)
            if _drop_all(r for r in root.iter(f"{{{PR}}}Relationship") if package.resolve(source, r) in removed):
                changed[name] = _serialize(root)
    return changed


def _untyped(package: _Package, removed: set[str]) -> dict[str, bytes]:
    """[Content_Types].xml without the overrides naming removed parts."""
    root = package.root(CONTENT_TYPES)
    lowered = {name.lower() for name in removed}
    overrides = root.iter(f"{{{CT}}}Override")
    if _drop_all(o for o in overrides if o.get("PartName", "").lstrip("/").lower() in lowered):
        return {CONTENT_TYPES: _serialize(root)}
    return {}


def _write(package: _Package, changed: dict[str, bytes], removed: set[str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for info in package.infos:
            if info.filename in removed:
                continue
            entry = zipfile.ZipInfo(info.filename, info.date_time)
            entry.compress_type, entry.external_attr = info.compress_type, info.external_attr
            archive.writestr(entry, changed.get(info.filename, package.blobs[info.filename]))
    return out.getvalue()


def _drop_all(elements) -> int:
    # Character data that matters lives only in leaf elements (w:t, w:instrText), which are never
    # split here, so the whitespace an element carries as its tail may go with it.
    elements = list(elements)
    for element in elements:
        parent = element.getparent()
        if parent is not None:
            parent.remove(element)
    return len(elements)


def _unwrap(element: etree._Element) -> None:
    parent = element.getparent()
    if parent is None:
        return
    index = parent.index(element)
    for offset, child in enumerate(list(element)):
        parent.insert(index + offset, child)
    parent.remove(element)


def _accept_revisions(root: etree._Element) -> bool:
    """Accept every revision in a text or definitions part, as Word's "Accept all changes" does."""
    if next(root.iter(*CHANGE_TAGS), None) is None:
        return False
    _drop_comment_references(root)
    _drop_all(root.iter(*DROPPED))
    _drop_all(root.xpath(".//w:tr[w:trPr/w:del] | .//w:tc[w:tcPr/w:cellDel]", namespaces=NS))
    _drop_all(_wrappers(root, "del", "moveFrom"))
    for element in list(root.iter(*_w("ins", "moveTo"))):
        if element.getparent().tag in MARK_PARENTS:
            _drop_mark(element)
        else:
            _unwrap(element)
    _join_deleted_paragraph_marks(root)
    _mend_tables(root)
    return True


def _drop_mark(mark: etree._Element) -> None:
    """Drop a paragraph-mark or row revision, and the properties element it leaves empty."""
    parent = mark.getparent()
    _drop_all([mark])
    if not len(parent) and not parent.attrib:
        _drop_all([parent])


def _drop_comment_references(root: etree._Element) -> None:
    for reference in list(root.iter(*_w("commentReference"))):
        run = reference.getparent()
        _drop_all([reference])
        # Word gives the reference a run of its own; a hand-made file may share it with text.
        if run.tag == f"{{{W}}}r" and all(child.tag == f"{{{W}}}rPr" for child in run):
            _drop_all([run])


def _join_deleted_paragraph_marks(root: etree._Element) -> None:
    """A deleted (or moved-away) paragraph mark joins its paragraph to the next one. The next paragraph's
    mark survives, so its properties do too: a wholly deleted paragraph leaves the next one untouched."""
    marked = "w:pPr/w:rPr/w:del | w:pPr/w:rPr/w:moveFrom"
    for paragraph in root.xpath(".//w:p[w:pPr/w:rPr/w:del or w:pPr/w:rPr/w:moveFrom]", namespaces=NS):
        for mark in paragraph.xpath(marked, namespaces=NS):
            _drop_mark(mark)
        following, between = _next_paragraph(paragraph)
        if following is None:  # last in its cell or before a table: Word keeps the mark too
            continue
        moved = [child for child in paragraph if child.tag != f"{{{W}}}pPr"] + between
        start = 1 if len(following) and following[0].tag == f"{{{W}}}pPr" else 0
        for offset, child in enumerate(moved):
            following.insert(start + offset, child)
        _drop_all([paragraph])


def _next_paragraph(paragraph: etree._Element):
    between = []
    for sibling in paragraph.itersiblings():
        if sibling.tag == f"{{{W}}}p":
            return sibling, between
        if sibling.tag not in POSITION_MARKS:
            break
        between.append(sibling)
    return None, []


def _mend_tables(root: etree._Element) -> None:
    # Deleting rows or cells may leave a table without rows or a cell without its required paragraph.
    # Rows may stand inside a content control or custom XML (a repeating section): those count too.
    _drop_all(root.xpath(".//w:tbl[not(w:tr) and not(w:sdt//w:tr) and not(w:customXml//w:tr)]", namespaces=NS))
    for cell in root.xpath(".//w:tc[not(w:p)]", namespaces=NS):
        cell.append(etree.Element(f"{{{W}}}p"))


def _stop_tracking(settings: etree._Element) -> bool:
    return bool(_drop_all(_tracking_marks(settings)))


def _clear_fields(fields):
    def clear(root: etree._Element) -> bool:
        filled = [el for tag, _ in fields for el in root.iter(tag) if (el.text or "").strip()]
        for element in filled:
            element.text = None
        return bool(filled)
    return clear


CLEANERS = {**{kind: _accept_revisions for kind in STORY_TYPES | DEFINITION_TYPES},
            SETTINGS_TYPE: _stop_tracking, CORE_TYPE: _clear_fields(CORE_FIELDS), APP_TYPE: _clear_fields(APP_FIELDS)}
