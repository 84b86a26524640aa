"""Acceptance tests of the draft reader (`remiss.docx_files.parse_docx`) over a corpus of Word files
written the way Swedish municipalities write them (tests/fixtures/word/, made by make_corpus.py there).

Per file: the sections expected, written out by hand as (level, number, heading, found_by); what each
file is about (tracked changes, content controls, fields, notes, lists, images, tables of contents);
and two outside references: LibreOffice's text of the same file with every tracked change accepted
(not one of its words may be missing from ours) and the headings pandoc's docx reader finds (every
difference is listed below with its reason). Without soffice or pandoc those two are skipped with a
reason, or fail when REMISS_TEST_REQUIRE=1.
"""
import functools
import re
from collections import Counter

import pytest

from remiss.docx_files import parse_docx

from .conftest import missing
from .word_corpus import (
    CORPUS,
    comparable,
    libreoffice_accepted_texts,
    missing_words,
    pandoc_binary,
    pandoc_headings,
    soffice_binary,
    words,
)

INTRODUCTION, WHOLE_DOCUMENT = "Inledande text", "Hela dokumentet"
FOUND_BY = {"style", "outline", "bold", "size", "manual"}

# ------------------------------------------------------------------ what each file must give

TITLES = {
    "bold-headings": "Näringslivsprogram för Exempelby kommun 2022–2026",
    "size-headings": "Kulturstrategi för Exempelby kommun",
    "outline-style": "Kompetensförsörjningsstrategi 2023–2027",
    "outline-paragraph": "Klimat- och energistrategi för Exempelby kommun",
    "typed-numbers": "Strategi för internationellt arbete i Exempelby kommun",
    "auto-numbering": "Digitaliseringsstrategi för Exempelby kommun",
    "tracked-changes": "Strategi för internationellt arbete och externfinansierade projekt",
    "resaved-by-libreoffice": "Strategi för internationellt arbete och externfinansierade projekt",
    "content-controls": "Riktlinjer för medborgardialog",
    "footnotes-fields": "Folkhälsostrategi för Exempelby kommun",
    "lists": "Handlingsplan för trygghet och säkerhet",
    "images": "Grönplan för Exempelby tätort",
    "toc": "Riktlinjer för bostadsförsörjning 2022–2026",
    "duplicate-headings": "Kvalitetsstrategi för välfärdens verksamheter",
    "long-200-pages": "Kommunövergripande utvecklingsprogram för Exempelby kommun 2022–2030",
    "from-odt": "Landsbygdsstrategi för Exempelby kommun",
}

TRACKED = [(1, "1", "Inledning", "style"), (1, "2", "Mål för det internationella arbetet", "style"),
           (2, "2.1", "Delmål", "style"), (2, "2.2", "Samverkan i Östersjöregionen", "style"),
           (1, "3", "Genomförande", "style"), (2, "3.1", "Finansiering", "style"), (1, "4", "Uppföljning", "style")]

EXPECTED = {
    # No heading styles: bold lines; levels from the typed number's depth, else (all at body size) 1;
    # "Uppföljning" and "Ordlista" have no number and continue the document's own: 4, 5.
    "bold-headings": [(1, "1", "Inledning", "bold"), (2, "1.1", "Bakgrund", "bold"),
                      (1, "2", "Vision och mål", "bold"), (2, "2.1", "Mål", "bold"),
                      (2, "2.2", "Prioriterade områden", "bold"), (1, "3", "Genomförande", "bold"),
                      (1, "4", "Uppföljning", "bold"), (1, "5", "Ordlista", "bold")],
    # Not bold, only larger: 16 pt is level 1, 13 pt level 2 (the 26 pt title is the title, not a level).
    "size-headings": [(1, "1", "Kulturens betydelse", "size"), (1, "2", "Kultur för barn och unga", "size"),
                      (2, "2.1", "Kulturskolan", "size"), (2, "2.2", "Skapande skola", "size"),
                      (1, "3", "Mötesplatser och bibliotek", "size"), (1, "4", "Uppföljning", "size")],
    # KommunRubrik1 inherits outlineLvl 0 from KommunRubrikBas; KommunIngress overrides it with 9 (body).
    "outline-style": [(1, "1", "Inledning", "outline"), (2, "1.1", "Bakgrund", "outline"),
                      (2, "1.2", "Strategins koppling till andra styrdokument", "outline"),
                      (1, "2", "Strategiska områden", "outline"), (2, "2.1", "Attraktiv arbetsgivare", "outline"),
                      (2, "2.2", "Kompetensförsörjning", "outline"),
                      (1, "3", "Genomförande och uppföljning", "outline")],
    # "Viktiga begrepp" is bold but the document has outline levels; the bold line with outlineLvl 9 is body.
    "outline-paragraph": [(1, "1", "Inledning", "outline"), (1, "2", "Nuläge", "outline"),
                          (2, "2.1", "Utsläpp från kommunens verksamheter", "outline"),
                          (2, "2.2", "Energianvändning i kommunens lokaler", "outline"),
                          (1, "3", "Mål till 2030", "outline"), (2, "3.1", "Fossilfria transporter", "outline"),
                          (3, "3.1.1", "Kommunens egna fordon", "outline"), (1, "4", "Genomförande", "outline")],
    # The introduction takes no number in a document that numbers its own headings; "2.2." and "4<tab>"
    # are typed numbers too; "2030" is a year, not a number, so that heading is numbered 3.1.
    "typed-numbers": [(1, "", INTRODUCTION, ""), (1, "1", "Inledning", "style"), (1, "2", "Mål", "style"),
                      (2, "2.1", "Delmål", "style"), (2, "2.2", "Prioriteringar", "style"),
                      (1, "3", "Genomförande", "style"), (2, "3.1", "2030 – en internationell kommun", "style"),
                      (1, "4", "Uppföljning", "style")],
    # Word's own numbers as Word shows them, the appendices' list starting at 2 ("Bilaga 1" is a separate
    # document); "Mätbara indikatorer" is numbered by numPr on the paragraph itself.
    "auto-numbering": [(1, "1", "Inledning", "style"), (2, "1.1", "Bakgrund", "style"), (2, "1.2", "Syfte", "style"),
                       (1, "2", "Mål och inriktning", "style"), (2, "2.1", "Delmål för kommunkoncernen", "style"),
                       (3, "2.1.1", "Mätbara indikatorer", "style"), (1, "3", "Genomförande", "style"),
                       (1, "Bilaga 2", "Handlingsplan 2022–2024", "style"), (1, "Bilaga 3", "Ordlista", "style")],
    # The inserted heading is in, the deleted one out; "Finansiering" was made a heading by a tracked
    # style change; the deleted heading and paragraph leave "Genomförande" a Heading 1 (as Word and pandoc).
    "tracked-changes": TRACKED,
    # LibreOffice, opening tracked-changes.docx, gives "Genomförande" the style of the deleted Heading 2
    # before it (it joins deleted paragraphs the other way round from Word) and saves it so: the resaved
    # file really has Genomförande as a Heading 2.
    "resaved-by-libreoffice": TRACKED[:4] + [(2, "2.3", "Genomförande", "style"), (2, "2.4", "Finansiering", "style"),
                                             (1, "3", "Uppföljning", "style")],
    # A heading inside a block content control, a heading whose text is an inline one, nested block ones.
    "content-controls": [(1, "1", "Inledning", "style"), (1, "2", "Syfte och målgrupper", "style"),
                         (1, "3", "Former för dialog", "style"), (2, "3.1", "Digitala former", "style"),
                         (2, "3.2", "Dialog med barn och unga", "style"), (1, "4", "Ansvar", "style"),
                         (1, "5", "Uppföljning", "style"), (1, "6", "Dokumentinformation", "style")],
    "footnotes-fields": [(1, "1", "Inledning", "style"), (1, "2", "Nuläge", "style"),
                         (2, "2.1", "Goda uppväxtvillkor", "style"), (2, "2.2", "Psykisk hälsa", "style"),
                         (1, "3", "Uppföljning", "style")],
    "lists": [(1, "1", "Inledning", "style"), (1, "2", "Prioriterade åtgärder", "style"),
              (1, "3", "Ansvarsfördelning", "style"), (1, "4", "Uppföljning", "style")],
    "images": [(1, "1", "Inledning", "style"), (1, "2", "Grönstrukturens värden", "style"),
               (1, "3", "Utveckling", "style"), (1, "4", "Uppföljning", "style")],
    # Neither "Innehåll" (TOC Heading, based on Heading 1) nor the toc 1/toc 2 entries are sections.
    "toc": [(1, "1", "Inledning", "style"), (1, "2", "Bostadsbehov", "style"),
            (2, "2.1", "Befolkningsutveckling", "style"), (2, "2.2", "Särskilda grupper", "style"),
            (1, "3", "Mål och åtgärder", "style"), (2, "3.1", "Kommunens mål", "style"),
            (1, "4", "Uppföljning", "style")],
    # "Rubrik 1"/"Rubrik 2" are style names as a Swedish tool writes them; "Avsnittsrubrik" is based on
    # "Rubrik 1". None has an outline level.
    "duplicate-headings": [(1, "1", "Inledning", "style"), (1, "2", "Förskola och skola", "style"),
                           (2, "2.1", "Mål", "style"), (2, "2.2", "Uppföljning", "style"),
                           (1, "3", "Vård och omsorg", "style"), (2, "3.1", "Mål", "style"),
                           (2, "3.2", "Uppföljning", "style")],
    # LibreOffice's outline numbering (1, 1.1) written to the .docx as Word numbering on Heading 1/2.
    "from-odt": [(1, "1", "Inledning", "style"), (2, "1.1", "Bakgrund", "style"),
                 (1, "2", "Prioriterade områden", "style"), (2, "2.1", "Service och bredband", "style"),
                 (2, "2.2", "Företagande på landsbygden", "style"), (1, "3", "Uppföljning", "style")],
}

LONG_CHAPTERS = [
    "Inledning", "Omvärld och förutsättningar", "Vision och övergripande mål", "Barn och utbildning",
    "Vård och omsorg", "Samhällsbyggnad och bostäder", "Klimat och miljö", "Näringsliv och arbete",
    "Kultur och fritid", "Trygghet och säkerhet", "Digitalisering och service", "Ekonomi och uppföljning"]
LONG_SECTIONS = {
    "Nuläge": ["Statistik och trender", "Invånarnas synpunkter", "Jämförelser med andra kommuner"],
    "Utmaningar": ["Demografiska förändringar", "Kompetensförsörjning", "Ekonomiska begränsningar"],
    "Mål": ["Mål till 2026", "Mål till 2030", "Indikatorer"],
    "Åtgärder": ["Kortsiktiga åtgärder", "Långsiktiga åtgärder", "Prioriteringar"],
    "Ansvar och samverkan": ["Nämndernas ansvar", "Bolagens ansvar", "Externa samarbetspartner"],
}


def long_expected() -> list[tuple[int, str, str, str]]:
    """12 chapters × 5 sections × 3 subsections, numbered by Word's list linked to Heading 1–3."""
    expected = []
    for c, chapter in enumerate(LONG_CHAPTERS, 1):
        expected.append((1, f"{c}", chapter, "style"))
        for s, (section, subsections) in enumerate(LONG_SECTIONS.items(), 1):
            expected.append((2, f"{c}.{s}", section, "style"))
            expected += [(3, f"{c}.{s}.{u}", sub, "style") for u, sub in enumerate(subsections, 1)]
    return expected


EXPECTED["long-200-pages"] = long_expected()
NAMES = sorted(EXPECTED)


@functools.cache
def parsed(name: str):
    return parse_docx((CORPUS / f"{name}.docx").read_bytes())


def outline(draft) -> list[tuple[int, str, str, str]]:
    return [(s.level, s.number, s.heading, s.found_by) for s in draft.sections]


def section(draft, number: str):
    return next(s for s in draft.sections if s.number == number)


def count(text: str, word: str) -> int:
    return words(text)[word.casefold()]


# ------------------------------------------------------------------ the corpus itself

def test_every_file_of_the_corpus_is_here_and_described():
    on_disk = sorted(path.stem for path in CORPUS.glob("*.docx"))
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    assert on_disk == NAMES, "every .docx in tests/fixtures/word has its expectations here, and only those"
    assert [name for name in NAMES if f"`{name}.docx`" not in readme] == []


def test_the_long_draft_is_about_two_hundred_pages():
    draft = parsed("long-200-pages")
    assert 75_000 <= sum(words(draft.plain_text()).values()) <= 95_000
    levels = Counter(s.level for s in draft.sections)
    assert levels == {1: 12, 2: 60, 3: 180}


# ------------------------------------------------------------------ headings

@pytest.mark.parametrize("name", NAMES)
def test_sections_are_found_with_their_level_number_and_way(name):
    draft = parsed(name)
    assert draft.title == TITLES[name]
    assert outline(draft) == EXPECTED[name]


@pytest.mark.parametrize("name", NAMES)
def test_no_number_is_doubled(name):
    """A typed or automatic number is the section's number, never also the start of its heading: "2.1
    2.1 Mål" in the text is a bug."""
    draft = parsed(name)
    for s in draft.sections:
        assert s.level in range(1, 10) and s.found_by in FOUND_BY | {""}, s
        assert s.heading and s.heading == s.heading.strip(), s
        if s.number:
            assert not re.match(rf"{re.escape(s.number)}(?![\d])", s.heading), s
        assert not re.match(r"\d{1,2}(?:\.\d{1,2})*[.)]?\s", s.heading), f"a number left in the heading: {s}"
    text = draft.plain_text()
    for s in draft.sections:
        if s.number:
            assert f"{s.number} {s.number} " not in text and f"{s.number}\t{s.number}" not in text


@pytest.mark.parametrize("name", NAMES)
def test_every_section_has_its_text_and_the_draft_reads_from_the_title(name):
    draft = parsed(name)
    assert [s.heading for s in draft.sections if not s.text.strip()] == []
    assert draft.plain_text().startswith(TITLES[name])
    assert WHOLE_DOCUMENT not in [s.heading for s in draft.sections]


def test_the_same_heading_under_different_parents_keeps_its_own_text():
    draft = parsed("duplicate-headings")
    school, care = section(draft, "2.2"), section(draft, "3.2")
    assert (school.heading, care.heading) == ("Uppföljning", "Uppföljning")
    assert "betygsstatistik" in school.text and "betygsstatistik" not in care.text
    assert "brukarundersökning" in care.text and "brukarundersökning" not in school.text


def test_bold_words_and_bold_table_rows_inside_the_text_are_text():
    draft = parsed("bold-headings")
    text = section(draft, "3").text
    assert re.search(r"Observera\s+att programmet inte ersätter", text)
    assert re.search(r"Näringslivsrådet\.\s+Rådet består av", text)
    assert "Aktivitet | Ansvarig | Finansieras av | Klart" in text
    # Two neighbouring cells with the same text are two cells.
    assert "Företagslots med en väg in | Kommunstyrelsen | Kommunstyrelsen | 2023" in text
    assert "Praktikplatser för gymnasieelever | Utbildningsnämnden | Utbildningsnämnden | 2025" in text


def test_text_before_the_first_heading_is_the_introduction():
    draft = parsed("typed-numbers")
    introduction = draft.sections[0]
    assert introduction.heading == INTRODUCTION
    assert "Dnr KS 2021/0147" in introduction.text and "26 april 2021, § 58" in introduction.text
    assert "Dnr" not in section(draft, "1").text


def test_a_body_level_style_based_on_a_heading_style_is_text():
    draft = parsed("outline-style")
    assert "Kommunen behöver rekrytera omkring 1 400 medarbetare" in section(draft, "1").text
    outline_draft = parsed("outline-paragraph")
    assert "Målen är beslutade av kommunfullmäktige" in section(outline_draft, "3").text
    assert "Viktiga begrepp" in section(outline_draft, "2.1").text


# ------------------------------------------------------------------ tracked changes and comments

INSERTED = ["aktivt", "Östersjöregionen", "Baltic", "Cities", "regionkommitténs"]
DELETED = ["samtliga", "förvaltningar", "Vänortsutbyte", "vänortsverksamheten", "avvecklas"]
MOVED = ["Agenda", "globala"]
COMMENT = ["precisera", "fonder", "avses", "Kerstin"]


@pytest.mark.parametrize("name", ["tracked-changes", "resaved-by-libreoffice"])
def test_tracked_changes_are_accepted_and_comments_left_out(name):
    draft = parsed(name)
    text = draft.plain_text()
    assert {w: count(text, w) for w in INSERTED + MOVED} == {w: 1 for w in INSERTED + MOVED}
    assert {w: count(text, w) for w in DELETED + COMMENT} == {w: 0 for w in DELETED + COMMENT}
    assert "Ansvaret delas av nämnder och bolag inom kommunkoncernen." in text
    # The moved sentence is where it was moved to, once.
    assert "Arbetet ska utgå från Agenda 2030" in section(draft, "3" if name == "tracked-changes" else "2.3").text
    assert "Agenda" not in section(draft, "1").text
    # A deleted paragraph mark joins the paragraph to the next one.
    assert "Strategin gäller för hela kommunkoncernen och ska följas upp varje år." in section(draft, "1").paragraphs
    # The commented words stay, the comment does not.
    assert "Minst tre externfinansierade projekt ska pågå varje år" in text


# ------------------------------------------------------------------ content controls

def test_content_controls_are_read_block_inline_and_in_tables():
    draft = parsed("content-controls")
    text = draft.plain_text()
    assert "Riktlinjerna gäller för alla nämnder och bolag" in section(draft, "1").text
    assert "till exempel unga vuxna, nyanlända och äldre på landsbygden. Varje dialog" in section(draft, "2").text
    assert "Enkäter, digitala kartor och webbsända möten" in section(draft, "3.1").text
    responsibility = section(draft, "4").text
    assert "Roll | Ansvar" in responsibility
    assert "Nämnden | Beslutar om dialogens syfte och tar emot resultatet." in responsibility
    assert "Förvaltningen | Planerar, genomför och dokumenterar dialogen." in responsibility
    assert "vad de har lett till" in section(draft, "5").text
    info = section(draft, "6").text
    for line in ("Diarienummer: KS 2022/0311", "Beslutad av: Kommunfullmäktige", "Giltig till: 2026-12-31"):
        assert line in info
    assert count(text, "arbetsutskott") == 0, "a drop-down's other choices are not text"


# ------------------------------------------------------------------ notes, links and fields

FOOTNOTES = {"1": "Folkhälsomyndigheten, Folkhälsans utveckling, årsrapport 2022.",
             "2": "Enkäten Liv och hälsa ung genomfördes våren 2021 i årskurs 7 och 9 samt gymnasiets år 2."}
ENDNOTE = "Indikatorerna redovisas i sin helhet i kommunens uppföljningsrapport."


def _note_after(text: str, mark: str, note: str, paragraph: str) -> None:
    """The note's text, marked with its number, comes after the paragraph that refers to it."""
    found = re.search(rf"(?<![\w.]){re.escape(mark)}(?!\w)\W{{0,3}}\s*{re.escape(note)}", text)
    assert found, f"note {mark} ({note}) not found marked in:\n{text}"
    assert text.index(paragraph) < found.start()


def test_footnotes_and_endnotes_end_their_section_marked_with_their_number():
    draft = parsed("footnotes-fields")
    _note_after(section(draft, "1").text, "1", FOOTNOTES["1"], "Skillnaderna i hälsa")
    _note_after(section(draft, "2").text, "2", FOOTNOTES["2"], "en enkät bland elever")
    _note_after(section(draft, "3").text, "i", ENDNOTE, "ett tiotal indikatorer")  # Word numbers endnotes i, ii
    assert FOOTNOTES["1"] not in section(draft, "2").text


def test_field_results_and_link_texts_are_read_and_instructions_never():
    draft = parsed("footnotes-fields")
    text = draft.plain_text()
    assert "Mer statistik finns på Folkhälsomyndighetens webbplats." in text
    assert "Läs mer på kommunens folkhälsoportal." in text
    assert "Underlaget har diarienummer KS 2021/0412 och togs fram 2022-03-01." in text
    assert "Insatserna under Goda uppväxtvillkor ska därför" in text and "Se även Goda uppväxtvillkor." in text
    assert count(text, "uppväxtvillkor") == 3
    for word in ("HYPERLINK", "REF", "PAGEREF", "MERGEFORMAT", "DOCPROPERTY", "CREATEDATE", "https", "www",
                 "folkhalsa", "portalen", "_Ref97301122", "yyyy"):
        assert count(text, word) == 0, f"{word!r} is from a field instruction or a link target"


# ------------------------------------------------------------------ lists, images, tables of contents

def test_list_items_keep_their_bullet_or_number():
    text = parsed("lists").plain_text()
    for item in (r"•\s*Trygghetsvandringar i alla bostadsområden", r"•\s*Förebyggande arbete bland unga",
                 r"o\s*Belysning på gång- och cykelvägar",
                 r"1\.\s*Utveckla lägesbilden över otrygga platser", r"2\.\s*Inrätta ett trygghetsråd",
                 r"a\)\s*med representanter för polisen", r"b\)\s*med representanter för fastighetsägarna",
                 r"3\.\s*Utbilda personal i våldsförebyggande arbete",
                 r"[•·\uf0b7]\s*Kommunstyrelsen samordnar arbetet",  # Word's Symbol-font bullet
                 r"1\.\s*Lägesbilden uppdateras varje halvår",  # a new list starts at 1 again
                 r"2\.\s*Trygghetsrådet rapporterar till kommunstyrelsen"):
        assert re.search(rf"^\s*{item}\s*$", text, re.MULTILINE), item


def test_images_are_read_as_their_alt_text():
    draft = parsed("images")
    assert "[Bild: Karta över kommunens gröna stråk och parker]" in section(draft, "2").text
    assert ("[Bild: Stapeldiagram som visar att andelen grönyta per invånare har ökat sedan 2015]"
            in section(draft, "3").text)  # floating (anchored), with alt text and a title: the alt text
    assert "Figur 1. Gröna stråk i tätorten." in section(draft, "2").text


def test_the_table_of_contents_is_never_a_section():
    for name in ("toc", "long-200-pages"):
        draft = parsed(name)
        headings = [s.heading for s in draft.sections]
        assert "Innehåll" not in headings and INTRODUCTION not in headings
        assert not any(re.search(r"\t\d+$", s.heading) for s in draft.sections)


def test_long_draft_tables_and_lists_are_read():
    text = parsed("long-200-pages").plain_text()
    assert text.count("Indikator | Utgångsläge 2021 | Mål 2026 | Mål 2030") == 12
    assert len(re.findall(r"^Indikator \d+\.\d+ \| \d+ procent \| \d+ procent \| \d+ procent$", text,
                          re.MULTILINE)) == 96
    assert len(re.findall(r"^\s*•\s*\S", text, re.MULTILINE)) == 180


# ------------------------------------------------------------------ LibreOffice: no word missing

@pytest.fixture(scope="session")
def libreoffice_texts(tmp_path_factory):
    if soffice_binary() is None:
        missing("the comparison with LibreOffice needs soffice (apt-get install libreoffice-writer-nogui)")
    return libreoffice_accepted_texts([CORPUS / f"{name}.docx" for name in NAMES],
                                      tmp_path_factory.mktemp("libreoffice"))


# The table of contents is navigation, not text of the draft: its lines (entry, tab, page number) and
# its heading are taken out of LibreOffice's text before comparing. (If the reader keeps them, they are
# extra words on our side, which are allowed.)
TOC_HEADINGS = {"toc": "Innehåll", "long-200-pages": "Innehåll"}
TOC_ENTRY = re.compile(r"^[^\n]*\t\d+[ \t]*$")


def without_toc(name: str, text: str) -> str:
    if name not in TOC_HEADINGS:
        return text
    lines = text.splitlines()
    entries = [i for i, line in enumerate(lines) if TOC_ENTRY.match(line)]
    assert entries, f"LibreOffice's text of {name} has no table of contents"
    first = entries[0]
    assert lines[first - 1].strip() == TOC_HEADINGS[name]
    return "\n".join(line for i, line in enumerate(lines) if i != first - 1 and i not in set(entries))


@pytest.mark.parametrize("name", NAMES)
def test_no_word_libreoffice_reads_is_missing(name, libreoffice_texts):
    assert name in libreoffice_texts, f"LibreOffice could not open {name}.docx"
    reference = without_toc(name, libreoffice_texts[name])
    lost = missing_words(reference, parsed(name).plain_text())
    assert not lost, f"words in LibreOffice's text (tracked changes accepted) missing from ours: {dict(lost)}"


def test_libreoffice_accepted_the_tracked_changes(libreoffice_texts):
    """The reference itself: had the macro not accepted the changes, deleted words would be in it."""
    for name in ("tracked-changes", "resaved-by-libreoffice"):
        text = libreoffice_texts[name]
        assert {w: count(text, w) for w in DELETED + COMMENT} == {w: 0 for w in DELETED + COMMENT}
        assert {w: count(text, w) for w in INSERTED + MOVED} == {w: 1 for w in INSERTED + MOVED}


# ------------------------------------------------------------------ pandoc: the same headings

@pytest.fixture(scope="session")
def pandoc():
    if pandoc_binary() is None:
        missing("the comparison with pandoc needs pandoc (apt-get install pandoc)")
    return functools.cache(lambda name: pandoc_headings(CORPUS / f"{name}.docx"))


# Where pandoc and we differ, and why: (level, heading) only we find, only pandoc finds.
ALL_OURS = "all of ours"
PANDOC_DIFFERENCES = {
    "bold-headings": (ALL_OURS, [], "pandoc makes headings only of heading styles, never of bold lines"),
    "size-headings": (ALL_OURS, [], "pandoc makes headings only of heading styles, never of larger lines"),
    "outline-style": (ALL_OURS, [], "pandoc ignores w:outlineLvl; the template's style names are not Heading n"),
    "outline-paragraph": (ALL_OURS, [], "pandoc ignores an outline level set on the paragraph"),
    "duplicate-headings": (ALL_OURS, [], "pandoc knows only English heading style names, not Rubrik 1"),
    "toc": ([], [(1, "Innehåll")], "pandoc makes the TOC Heading (based on Heading 1) a heading"),
    "long-200-pages": ([], [(1, "Innehåll")],
                       "pandoc makes the localized TOC heading style (based on Heading 1) a heading"),
}


@pytest.mark.parametrize("name", NAMES)
def test_the_headings_are_those_pandoc_finds(name, pandoc):
    # Pandoc keeps a deleted heading's paragraph as an empty header; nobody sees it, so it is dropped.
    theirs = Counter((level, comparable(text)) for level, text in pandoc(name) if text.strip())
    ours = Counter((s.level, comparable(s.heading)) for s in parsed(name).sections
                   if s.heading not in (INTRODUCTION, WHOLE_DOCUMENT))
    only_ours, only_theirs, _reason = PANDOC_DIFFERENCES.get(name, ([], [], ""))
    expected_ours = ours if only_ours == ALL_OURS else Counter((l, comparable(t)) for l, t in only_ours)
    expected_theirs = Counter((l, comparable(t)) for l, t in only_theirs)
    assert (ours - theirs, theirs - ours) == (expected_ours, expected_theirs), \
        f"only ours, only pandoc's: {sorted((ours - theirs).elements())}, {sorted((theirs - ours).elements())}"
    if only_ours == ALL_OURS:
        assert ours, "the difference is that pandoc finds none of our headings"
