"""Word to PDF with LibreOffice headless: a tagged PDF/A-2b, as an archive and a screen reader want it.

Each conversion runs in a directory of its own with a LibreOffice profile of its own: two conversions
sharing one profile would wait on its lock or fail, and a profile left by a crashed run is never reused.
The process (and whatever it started) is killed when it runs over the timeout. Nothing here touches
the database; compilation.make_pdf keeps the result.
"""
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from flask_babel import lazy_gettext as _l

from .errors import WorkflowError

PDF_TYPE = "application/pdf"
TIMEOUT_SECONDS = 180
# LibreOffice 7.4 takes the PDF export's options as JSON after the filter name. SelectPdfVersion 2 is
# PDF/A-2b; UseTaggedPDF writes the structure tree (headings, tables, alt text) screen readers follow.
PDF_FILTER = ('pdf:writer_pdf_Export:{"SelectPdfVersion":{"type":"long","value":"2"},'
              '"UseTaggedPDF":{"type":"boolean","value":"true"}}')


def soffice_path() -> str | None:
    """Where LibreOffice's `soffice` is on PATH, or None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def check_available() -> str:
    """The path of soffice; WorkflowError saying so when LibreOffice is not installed."""
    found = soffice_path()
    if found is None:
        raise WorkflowError(_l("PDF kan inte skapas: LibreOffice är inte installerat på servern. Ladda ner "
                               "Word-dokumentet och spara det som PDF, eller be systemförvaltaren installera "
                               "LibreOffice."))
    return found


# A plain --convert-to leaves a table of contents as the file has it. This macro, put in the run's own
# profile, opens the file hidden, updates every index (the TOC gets its page numbers) and exports the
# same tagged PDF/A-2b.
UPDATE_AND_EXPORT = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE script:module PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "module.dtd">
<script:module xmlns:script="http://openoffice.org/2000/script" script:name="Module1" script:language="StarBasic">
Sub ToPdf(source As String, target As String)
  Dim load(0) As New com.sun.star.beans.PropertyValue
  load(0).Name = &quot;Hidden&quot;
  load(0).Value = True
  document = StarDesktop.loadComponentFromURL(ConvertToURL(source), &quot;_blank&quot;, 0, load())
  indexes = document.getDocumentIndexes()
  For i = 0 To indexes.getCount() - 1
    indexes.getByIndex(i).update()
  Next i
  Dim options(1) As New com.sun.star.beans.PropertyValue
  options(0).Name = &quot;SelectPdfVersion&quot;
  options(0).Value = 2
  options(1).Name = &quot;UseTaggedPDF&quot;
  options(1).Value = True
  Dim store(1) As New com.sun.star.beans.PropertyValue
  store(0).Name = &quot;FilterName&quot;
  store(0).Value = &quot;writer_pdf_Export&quot;
  store(1).Name = &quot;FilterData&quot;
  store(1).Value = options()
  document.storeToURL(ConvertToURL(target), store())
  document.close(True)
End Sub
</script:module>
"""


def docx_to_pdf(data: bytes, *, timeout: float = TIMEOUT_SECONDS) -> bytes:
    """`data` (.docx) as a tagged PDF/A-2b with its table of contents updated. Raises WorkflowError when
    LibreOffice is missing, fails, runs over `timeout` seconds, or writes no PDF."""
    soffice = check_available()
    with tempfile.TemporaryDirectory(prefix="remiss-pdf-") as work:
        folder = Path(work)
        source, made = folder / "dokument.docx", folder / "out" / "dokument.pdf"
        source.write_bytes(data)
        made.parent.mkdir()
        base = [soffice, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless", "--norestore",
                "--nologo", "--nodefault", "--nolockcheck"]
        # A new profile's first start writes its own Basic library: the macro goes in after it.
        _run(base + ["--terminate_after_init"], folder, timeout)
        module = folder / "profile" / "user" / "basic" / "Standard" / "Module1.xba"
        if module.parent.is_dir():
            module.write_text(UPDATE_AND_EXPORT, encoding="utf-8")
            _run(base + [f'macro:///Standard.Module1.ToPdf("{source}","{made}")'], folder, timeout)
        if not _is_pdf(made):  # no macro support here: the plain export, its contents as the file has them
            _run(base + ["--convert-to", PDF_FILTER, "--outdir", str(made.parent), str(source)], folder, timeout,
                 check=True)
        if not _is_pdf(made):
            raise WorkflowError(_l("PDF:en kunde inte skapas: LibreOffice avslutades med fel (%(detail)s).",
                                   detail="ingen PDF"))
        return made.read_bytes()


def _is_pdf(path: Path) -> bool:
    return path.exists() and path.read_bytes().startswith(b"%PDF")


def _run(command: list[str], folder: Path, timeout: float, check: bool = False) -> None:
    """One soffice run in its own process group, killed with everything it started after `timeout`."""
    # HOME too: LibreOffice writes there (fonts cache, Java settings) even with a profile of its own.
    environment = {**os.environ, "HOME": str(folder)}
    try:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, env=environment, start_new_session=True)
    except OSError as error:  # found on PATH but not runnable
        raise WorkflowError(_l("PDF:en kunde inte skapas: LibreOffice gick inte att starta (%(detail)s).",
                               detail=error.strerror or error)) from None
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(process)
        raise WorkflowError(_l("PDF:en kunde inte skapas: LibreOffice blev inte klart inom %(n)s sekunder.",
                               n=int(timeout))) from None
    if check and process.returncode != 0:
        detail = output.decode("utf-8", "replace").strip()[-500:]
        raise WorkflowError(_l("PDF:en kunde inte skapas: LibreOffice avslutades med fel (%(detail)s).",
                               detail=detail or process.returncode))


def _kill(process: subprocess.Popen) -> None:
    """The whole process group: soffice is a launcher that starts soffice.bin, which would live on."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.communicate()
