"""Reading the Word corpus (tests/fixtures/word/) with other programs, to compare with parse_docx:
LibreOffice's plain text with every tracked change accepted, and the headings pandoc finds.

LibreOffice's own text export (`--convert-to txt`) keeps tracked deletions in the text, so it cannot be
the reference as it is. Instead a LibreOffice Basic macro, installed in a fresh profile, opens each file
hidden, dispatches .uno:AcceptAllTrackedChanges and stores the result as UTF-8 text: one soffice run for
the whole corpus, and nothing to install beyond LibreOffice Writer (no python3-uno).
"""
import json
import os
import re
import shutil
import signal
import subprocess
from collections import Counter
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "fixtures" / "word"
WORD = re.compile(r"\w+")

# The macro: for each pair of lines (a .docx, the .txt to write) in the list file, load hidden, accept
# every tracked change, store as text. A file that fails to load is skipped (its .txt is then missing,
# which the tests report) instead of stopping on an error dialog nobody can see. Names in Basic are
# case-insensitive and must not shadow built-ins ("sIn" is the function Sin).
MACRO = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE script:module PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "module.dtd">
<script:module xmlns:script="http://openoffice.org/2000/script" script:name="Module1" script:language="StarBasic">
Sub AcceptAllAsText(listFile As String)
  Dim loadArgs(0) As New com.sun.star.beans.PropertyValue
  loadArgs(0).Name = &quot;Hidden&quot;
  loadArgs(0).Value = True
  Dim storeArgs(1) As New com.sun.star.beans.PropertyValue
  storeArgs(0).Name = &quot;FilterName&quot;
  storeArgs(0).Value = &quot;Text (encoded)&quot;
  storeArgs(1).Name = &quot;FilterOptions&quot;
  storeArgs(1).Value = &quot;UTF8,LF&quot;
  oHelper = createUnoService(&quot;com.sun.star.frame.DispatchHelper&quot;)
  iList = FreeFile
  Open listFile For Input As #iList
  Do While Not EOF(iList)
    Line Input #iList, sSource
    Line Input #iList, sTarget
    AcceptOne(sSource, sTarget, loadArgs(), storeArgs(), oHelper)
  Loop
  Close #iList
  StarDesktop.terminate()
End Sub

Sub AcceptOne(sSource As String, sTarget As String, loadArgs, storeArgs, oHelper)
  On Error GoTo Failed
  oDoc = StarDesktop.loadComponentFromURL(ConvertToURL(sSource), &quot;_blank&quot;, 0, loadArgs)
  oHelper.executeDispatch(oDoc.getCurrentController().getFrame(), &quot;.uno:AcceptAllTrackedChanges&quot;, &quot;&quot;, 0, Array())
  oDoc.storeToURL(ConvertToURL(sTarget), storeArgs)
  oDoc.close(True)
Failed:
End Sub
</script:module>
"""


def soffice_binary() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def _run(command: list[str], home: Path, timeout: int) -> subprocess.CompletedProcess:
    """Run soffice in a process group of its own, so a hung LibreOffice is killed with everything it
    started (and nothing else) when the time is up."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True, env={**os.environ, "HOME": str(home)})
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        raise RuntimeError(f"soffice did not finish in {timeout} s: {' '.join(command)}\n{out}{err}")
    return subprocess.CompletedProcess(command, process.returncode, out, err)


def libreoffice_accepted_texts(files: list[Path], workdir: Path, timeout: int = 600) -> dict[str, str]:
    """name (without .docx) → LibreOffice's plain text of the file with all tracked changes accepted."""
    binary = soffice_binary()
    profile = workdir / "profile"
    base = [binary, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore", "--nologo"]
    # The first start creates the profile (and would overwrite a macro library put there before it).
    _run(base + ["--terminate_after_init"], workdir, timeout)
    module = profile / "user" / "basic" / "Standard" / "Module1.xba"
    if not module.parent.is_dir():
        raise RuntimeError(f"LibreOffice made no Basic library in its profile {profile}")
    module.write_text(MACRO, encoding="utf-8")
    out = workdir / "accepted"
    out.mkdir(exist_ok=True)
    listing = workdir / "files.txt"
    listing.write_text("".join(f"{f}\n{out / (f.stem + '.txt')}\n" for f in files), encoding="utf-8")
    result = _run(base + [f'macro:///Standard.Module1.AcceptAllAsText("{listing}")'], workdir, timeout)
    texts = {}
    for f in files:
        target = out / f"{f.stem}.txt"
        if target.exists():
            texts[f.stem] = target.read_text(encoding="utf-8-sig")
    if not texts:
        raise RuntimeError(f"LibreOffice wrote no text: {result.stdout}{result.stderr}")
    return texts


def words(text: str) -> Counter:
    """The words of a text as a multiset: casefolded, split on anything that is not a word character."""
    return Counter(WORD.findall(text.casefold()))


def missing_words(reference: str, ours: str) -> Counter:
    """Words (with their count) the reference has more often than our text."""
    return words(reference) - words(ours)


# ------------------------------------------------------------------ pandoc

def pandoc_binary() -> str | None:
    return shutil.which("pandoc")


def pandoc_headings(path: Path, timeout: int = 300) -> list[tuple[int, str]]:
    """(level, text) of every Header block pandoc's docx reader finds (tracked changes accepted, its
    default)."""
    result = subprocess.run([pandoc_binary(), "-f", "docx", "-t", "json", "--track-changes=accept", str(path)],
                            capture_output=True, text=True, timeout=timeout, check=True)
    headings = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("t") == "Header":
                level, _attr, inlines = node["c"]
                headings.append((level, _stringify(inlines)))
                return
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(result.stdout)["blocks"])
    return headings


def _stringify(inlines) -> str:
    parts = []

    def walk(node):
        if isinstance(node, dict):
            kind, content = node.get("t"), node.get("c")
            if kind == "Str":
                parts.append(content)
            elif kind in ("Space", "SoftBreak", "LineBreak"):
                parts.append(" ")
            elif kind == "Note":
                return
            elif kind in ("Link", "Image", "Span", "Quoted", "Cite", "Code", "Math", "RawInline"):
                walk(content[-2] if kind in ("Link", "Image") else content[-1])
            else:
                walk(content)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(inlines)
    return " ".join("".join(parts).split())


NUMBER = re.compile(r"^\s*(?:bilaga\s+)?\d{1,2}(?:\.\d{1,2})*[.)]?\s+", re.IGNORECASE)


def comparable(heading: str) -> str:
    """A heading's text for comparing across readers: no leading number, no whitespace, casefolded."""
    return re.sub(r"\s+", "", NUMBER.sub("", heading)).casefold()
