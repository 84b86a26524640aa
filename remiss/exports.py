"""Files people open in a spreadsheet or save to disk: CSV the way Excel in Sweden reads it, cells
never taken for formulas, file names plain enough for any header and file system."""
import csv
import io
import re
import unicodedata

from .reply_documents import xml_text


def spreadsheet_safe(value: str) -> str:
    """A cell a spreadsheet shows as text: no formula (=, +, -, @ first; CSV injection), no
    XML-illegal characters."""
    value = xml_text(value)
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def csv_text(header, rows) -> str:
    """Semicolons and a byte-order mark, so Excel with Swedish settings opens å, ä and ö right."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([value if isinstance(value, int) else spreadsheet_safe(str(value)) for value in row])
    return "\ufeff" + out.getvalue()


def file_stem(case_reference: str) -> str:
    """A case reference as part of a file name, in ASCII: "ÖFN 2020/0946" → "OFN-2020-0946"."""
    plain = unicodedata.normalize("NFKD", case_reference).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "-", plain).strip("-") or "arende"
