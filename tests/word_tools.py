"""What tests do to Word files as a person would: type into a svarsmall's fields, and have LibreOffice open
and save a file. Shared by the test modules; no tests here."""
import copy
import io
import itertools
import os
import shutil
import subprocess
from pathlib import Path

import docx
from lxml import etree

from .conftest import missing

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_RUNS = itertools.count()


def w(name: str) -> str:
    return f"{{{W}}}{name}"


def controls(document) -> dict[str, etree._Element]:
    """A svarsmall's content controls by tag."""
    return {sdt.find(f"{w('sdtPr')}/{w('tag')}").get(w("val")): sdt for sdt in document.element.body.iter(w("sdt"))}


def fill(data: bytes, values: dict[str, list[str]], *, keep_flag: bool = False) -> bytes:
    """Type into the controls (by tag) as Word does: the placeholder goes, its flag too, the text stays."""
    document = docx.Document(io.BytesIO(data))
    by_tag = controls(document)
    for tag, paragraphs in values.items():
        sdt = by_tag[tag]
        flag = sdt.find(f"{w('sdtPr')}/{w('showingPlcHdr')}")
        if not keep_flag and flag is not None:
            flag.getparent().remove(flag)
        type_into(sdt.find(w("sdtContent")), paragraphs)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def type_into(content, paragraphs: list[str]) -> None:
    if content.find(w("p")) is None:  # a one-line control: the text replaces the placeholder run
        content.find(f"{w('r')}/{w('t')}").text = paragraphs[0]
        return
    template = content.find(w("p"))
    for old in content.findall(w("p")):
        content.remove(old)
    for text in paragraphs:
        paragraph = copy.deepcopy(template)
        for run in paragraph.findall(w("r")):
            paragraph.remove(run)
        etree.SubElement(etree.SubElement(paragraph, w("r")), w("t")).text = text
        content.append(paragraph)


def soffice() -> str:
    """LibreOffice's command, or the test is skipped (failed when REMISS_TEST_REQUIRE=1) with the reason."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        missing("this test needs LibreOffice (apt-get install libreoffice-writer-nogui)")
    return found


def convert(source: Path, target: str, tmp_path: Path) -> Path:
    """LibreOffice opens the file and saves it as `target` ("docx" or "odt"), with its own profile:
    two runs sharing one would wait on each other's lock or fail."""
    run = next(_RUNS)
    out, profile = tmp_path / f"out-{run}", tmp_path / f"profile-{run}"
    filters = {"docx": 'docx:MS Word 2007 XML', "odt": "odt"}
    result = subprocess.run(
        [soffice(), f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
         "--convert-to", filters[target], "--outdir", str(out), str(source)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "HOME": str(tmp_path)})
    converted = out / f"{source.stem}.{target}"
    assert result.returncode == 0 and converted.exists(), result.stdout + result.stderr
    return converted
