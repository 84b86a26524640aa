"""Which paragraphs of a Word file are headings, at which level and with which number: the way Word's
navigation pane finds them, then the way a reader sees them when the writer only made them bold.

Pure: a `WordDocument` (remiss.word_reading) in, sections out. The officer's corrections
(paragraph index → level, 0 for "not a heading") are applied last and win over everything.
"""
import re
from dataclasses import dataclass, field

from .word_reading import Block, WordDocument

WHOLE_DOCUMENT = "Hela dokumentet"
INTRODUCTION = "Inledande text"
# "2.1 Mål", "2.1. Mål", "3) Mål": a typed number of at most two digits per part, so "2021 års budget"
# and "10 000 kronor" are not numbers.
TYPED_NUMBER = re.compile(r"^(?P<number>\d{1,2}(?:\.\d{1,2}){0,5})(?:\.|\))?\s+(?P<rest>\S.*)$")
# A stand-alone heading is short and is not a sentence.
HEADING_WORDS = 14
HEADING_CHARS = 150
LARGER = 1.15  # "clearly larger than body text"
# What the outline page offers to turn into a heading: short lines that are not list items.
CANDIDATE_WORDS = 20


@dataclass
class ParsedSection:
    level: int
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    number: str = ""
    found_by: str = ""
    paragraph: int | None = None  # the heading's paragraph index in the document
    numbered_by: str = ""  # "typed", "word" (automatic numbering) or "app"
    notes: list[str] = field(default_factory=list)  # footnotes and endnotes, put after the text

    @property
    def text(self) -> str:
        return "\n\n".join(p for p in self.paragraphs if p)


@dataclass(frozen=True)
class OutlineLine:
    """A paragraph the officer may make a heading or not: every heading found and every short line."""

    paragraph: int
    text: str
    level: int | None  # None: not a heading
    found_by: str
    number: str = ""


@dataclass
class ParsedDraft:
    title: str
    sections: list[ParsedSection]
    outline: list[OutlineLine] = field(default_factory=list)

    def plain_text(self) -> str:
        """The whole draft as the app reads it: title, then each section's number, heading and text."""
        parts = [self.title] + [f"{s.number} {s.heading}\n\n{s.text}" for s in self.sections]
        return "\n\n".join(p.strip() for p in parts if p.strip())


@dataclass
class _Found:
    level: int | None
    found_by: str = ""


def outline_of(document: WordDocument, corrections: dict[int, int] | None = None) -> ParsedDraft:
    """Sections of a Word document: headings by style or outline level, else by bold or large short
    lines; typed or automatic numbers become the section's number and are never numbered again."""
    found = _find_headings(document)
    for index, level in (corrections or {}).items():
        if 0 <= index < len(found):
            found[index] = _Found(level or None, "manual")
    title, sections, preamble = document.title, [], []
    title_seen = False
    for block, heading in zip(document.blocks, found):
        if block.toc and heading.found_by != "manual":
            continue  # the table of contents is navigation, not text to comment on
        if heading.level == 0 and not title_seen and not sections:
            title, title_seen = block.text, True
        elif heading.level is not None and block.text:
            sections.append(_section(block, max(heading.level, 1), heading.found_by))
        else:
            target = sections[-1].paragraphs if sections else preamble
            if block.text:
                target.append(_with_label(block))
        # Footnotes and endnotes go at the end of their section.
        (sections[-1].notes if sections else preamble).extend(block.notes)
    outline = _outline_lines(document, found, sections)
    return ParsedDraft(title, finish_sections(sections, preamble), outline)


def _section(block: Block, level: int, found_by: str) -> ParsedSection:
    heading, number, numbered_by = block.text, "", ""
    typed = TYPED_NUMBER.match(heading)
    if typed:
        heading, number, numbered_by = typed.group("rest"), typed.group("number"), "typed"
    elif block.number and not block.bullet:
        number, numbered_by = block.number.strip(" .)"), "word"
    return ParsedSection(level=level, heading=heading.strip(), number=number, found_by=found_by,
                         paragraph=block.index, numbered_by=numbered_by)


def _with_label(block: Block) -> str:
    return f"{block.number} {block.text}" if block.number else block.text


def _find_headings(document: WordDocument) -> list[_Found]:
    """Word's own idea first (heading styles, outline levels); only a document with none at all is
    read for bold or larger short lines."""
    found = [_by_word(block) for block in document.blocks]
    if any(f.level for f in found):
        return found
    body = document.body_size
    candidates = [i for i, block in enumerate(document.blocks) if _looks_like_heading(block, body)]
    if candidates and candidates[0] == 0 and _is_title(document.blocks, candidates):
        found[0], candidates = _Found(0, "size" if document.blocks[0].size != body else "bold"), candidates[1:]
    sizes = sorted({document.blocks[i].size or 0 for i in candidates}, reverse=True)
    for i in candidates:
        block = document.blocks[i]
        typed = TYPED_NUMBER.match(block.text)
        larger = bool(body and block.size and block.size >= body * LARGER)
        level = typed.group("number").count(".") + 1 if typed else sizes.index(block.size or 0) + 1
        found[i] = _Found(min(level, 9), "size" if larger and not block.bold else "bold")
    return found


def _is_title(blocks: list[Block], candidates: list[int]) -> bool:
    """The document's first line is its title when it alone has the largest size, or when it alone
    has no typed number among numbered headings."""
    first, others = blocks[0], [blocks[i] for i in candidates[1:]]
    if not others or TYPED_NUMBER.match(first.text):
        return False
    largest = bool(first.size) and all((b.size or 0) < (first.size or 0) for b in others)
    return largest or all(TYPED_NUMBER.match(b.text) for b in others)


def _by_word(block: Block) -> _Found:
    if block.toc or block.in_table:
        return _Found(None)
    if block.outline_on_paragraph and block.outline_level:
        return _Found(block.outline_level, "outline")
    if block.style_level is not None:
        return _Found(block.style_level, "style")
    if block.outline_level:
        return _Found(block.outline_level, "outline")
    return _Found(None)


def _looks_like_heading(block: Block, body: float | None) -> bool:
    text = block.text
    if block.in_table or block.toc or block.bullet or not text or block.outline_level is not None:
        return False
    if len(text) > HEADING_CHARS or len(text.split()) > HEADING_WORDS or text.endswith((".", ",", ";", ":")):
        return False
    larger = bool(body and block.size and block.size >= body * LARGER)
    return block.bold or larger


def _outline_lines(document: WordDocument, found: list[_Found], sections) -> list[OutlineLine]:
    numbers = {s.paragraph: s.number for s in sections}
    lines = []
    for block, heading in zip(document.blocks, found):
        short = len(block.text.split()) <= CANDIDATE_WORDS and not block.bullet and not block.in_table
        # A line the officer made a heading, or made text again, stays on the page whatever its length.
        if block.text and not block.toc and (heading.level or short or heading.found_by == "manual"):
            lines.append(OutlineLine(block.index, block.text, heading.level, heading.found_by,
                                     numbers.get(block.index, "")))
    return lines


def finish_sections(sections: list[ParsedSection], preamble: list[str]) -> list[ParsedSection]:
    """Add the introduction (text before the first heading) or make the whole text one section, then
    number what has no number of its own."""
    for section in sections:
        section.paragraphs.extend(section.notes)
    if not sections:
        return [ParsedSection(level=1, heading=WHOLE_DOCUMENT, paragraphs=preamble, number="1", numbered_by="app")]
    own_numbers = any(s.number for s in sections)
    if preamble:
        # A draft whose headings carry their own numbers keeps them: the introduction takes none.
        sections.insert(0, ParsedSection(level=1, heading=INTRODUCTION, paragraphs=preamble))
    number_sections(sections, skip_first=bool(preamble) and own_numbers)
    return sections


def number_sections(sections: list[ParsedSection], skip_first: bool = False) -> None:
    """Number the sections without a number of their own: 1, 1.1, 1.1.1 …, continuing from the numbers
    the document gives (after "2.1" comes "2.2"). A heading that skips a level (1 → 3) is numbered as
    the next level down."""
    counters: list[int] = []
    for i, section in enumerate(sections):
        if skip_first and i == 0:
            continue
        given = [int(part) for part in section.number.split(".")] if re.fullmatch(r"\d+(?:\.\d+)*",
                                                                                  section.number) else None
        if given:
            counters = given
            continue
        depth = min(section.level, len(counters) + 1)
        counters = counters[:depth]
        while len(counters) < depth:
            counters.append(0)
        counters[-1] += 1
        if not section.number:
            section.number, section.numbered_by = ".".join(str(c) for c in counters), "app"
