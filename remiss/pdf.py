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


def docx_to_pdf(data: bytes, *, timeout: float = TIMEOUT_SECONDS) -> bytes:
    """`data` (.docx) as a tagged PDF/A-2b. Raises WorkflowError when LibreOffice is missing, fails,
    runs over `timeout` seconds, or writes no PDF."""
    soffice = check_available()
    with tempfile.TemporaryDirectory(prefix="remiss-pdf-") as work:
        folder = Path(work)
        source = folder / "dokument.docx"
        source.write_bytes(data)
        command = [soffice, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless", "--norestore",
                   "--nologo", "--nodefault", "--nolockcheck", "--convert-to", PDF_FILTER,
                   "--outdir", str(folder / "out"), str(source)]
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
        made = folder / "out" / "dokument.pdf"
        if process.returncode != 0 or not made.exists() or not made.read_bytes().startswith(b"%PDF"):
            detail = output.decode("utf-8", "replace").strip()[-500:]
            raise WorkflowError(_l("PDF:en kunde inte skapas: LibreOffice avslutades med fel (%(detail)s).",
                                   detail=detail or process.returncode))
        return made.read_bytes()


def _kill(process: subprocess.Popen) -> None:
    """The whole process group: soffice is a launcher that starts soffice.bin, which would live on."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.communicate()
