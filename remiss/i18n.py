"""Language and local time: Swedish first, English second; dates as Swedes write them."""
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context, session
from flask_babel import format_date, format_datetime, get_locale
from flask_login import current_user

LANGUAGE_NAMES = {"sv": "Svenska", "en": "English"}
# English screens use British formats (day before month, 24-hour clock).
BABEL_LOCALE = {"sv": "sv_SE", "en": "en_GB"}


def select_locale() -> str:
    if not has_request_context():  # the CLI and the scheduler: no session, no signed-in user
        return BABEL_LOCALE[current_app.config["DEFAULT_LOCALE"]]
    chosen = session.get("locale")
    if chosen in current_app.config["LOCALES"]:
        return BABEL_LOCALE[chosen]
    if current_user and current_user.is_authenticated:
        return BABEL_LOCALE[current_user.locale]
    return BABEL_LOCALE[current_app.config["DEFAULT_LOCALE"]]


def select_timezone() -> str:
    return current_app.config["TIME_ZONE"]


def language() -> str:
    """'sv' or 'en': the language of the current page."""
    return str(get_locale().language)


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIME_ZONE"])


def end_of_day(day: date, zone: ZoneInfo) -> datetime:
    """A deadline date means the end of that local day."""
    return datetime.combine(day, time(23, 59), tzinfo=zone)


def format_deadline(day: date | None) -> str:
    """'fredag 26 mars 2021 kl. 23.59' / 'Friday 26 March 2021 at 23:59'."""
    if day is None:
        return ""
    moment = end_of_day(day, local_zone())
    if language() == "sv":
        return format_datetime(moment, "EEEE d MMMM y 'kl.' HH.mm")
    return format_datetime(moment, "EEEE d MMMM y 'at' HH:mm")


def format_moment(moment: datetime | None) -> str:
    """An instant in local time, with weekday: 'måndag 23 november 2026 kl. 14.05'."""
    if moment is None:
        return ""
    if language() == "sv":
        return format_datetime(moment, "EEEE d MMMM y 'kl.' HH.mm")
    return format_datetime(moment, "EEEE d MMMM y 'at' HH:mm")


def format_day(day: date | None) -> str:
    return format_date(day, "long") if day else ""


# Swedish alphabetical order: ... x y z å ä ö; accented letters sort with their base
# letter (é as e), ü and y together, æ and ø as ä and ö (Svenska Akademiens ordlista).
_SWEDISH_ORDER = {"å": "{0", "ä": "{1", "æ": "{1", "ö": "{2", "ø": "{2", "ü": "y"}
_FOLD = str.maketrans({"é": "e", "è": "e", "ê": "e", "á": "a", "à": "a", "í": "i", "ó": "o", "ú": "u"})


def swedish_key(text: str) -> tuple:
    """Sort key for Swedish names: å before ä before ö, all after z; case ignored first."""
    folded = text.casefold().translate(_FOLD)
    return ("".join(_SWEDISH_ORDER.get(ch, ch) for ch in folded), text)
