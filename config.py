"""Settings: defaults here, every one overridable from the environment as REMISS_<NAME>.

Values from the environment are parsed by the type of the default (int, bool,
float, tuple of str), so REMISS_MAIL_PORT=587 gives an int.
"""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("REMISS_INSTANCE_PATH", BASE_DIR / "instance"))

DEVELOPMENT_SECRET_KEY = "dev-only-not-secret"


class Config:
    TESTING = False
    SECRET_KEY = ""
    SQLALCHEMY_DATABASE_URI = f"sqlite:///{INSTANCE_DIR / 'remiss.sqlite'}"
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    PUBLIC_BASE_URL = "http://127.0.0.1:5000"
    TIME_ZONE = "Europe/Stockholm"
    DEFAULT_LOCALE = "sv"
    LOCALES = ("sv", "en")

    # "smtp" sends; "file" writes each mail as an .eml file in instance/outbox (development, the demo).
    MAIL_BACKEND = "smtp"
    MAIL_SERVER = "127.0.0.1"
    MAIL_PORT = 25
    MAIL_USE_STARTTLS = False
    MAIL_USE_TLS = False
    MAIL_USERNAME = ""
    MAIL_PASSWORD = ""
    MAIL_TIMEOUT = 20.0
    MAIL_SENDER = "Remiss <remiss@localhost>"

    DEMO_PASSWORD = "kalmar-demo-2021"
    # The municipality's name, as documents made here name their author's organisation ("Kalmar kommun").
    MUNICIPALITY = ""

    # Referral rounds: a period shorter than this gets a warning; reminders are sent these days
    # before (-) and after (+) the deadline.
    REFERRAL_MIN_WEEKS = 6
    DEFAULT_REMINDER_OFFSETS = "-14,-7,-2,0,+1,+7"

    MAX_UPLOAD_SIZE = 20 * 1024 * 1024
    # The whole request: one upload plus the form around it. Larger bodies get 413 before being read.
    MAX_CONTENT_LENGTH = MAX_UPLOAD_SIZE + 1024 * 1024  # follows REMISS_MAX_UPLOAD_SIZE unless set itself
    # One text field (not a file) held in memory: a pasted draft may be 500 000 characters of up to
    # 4 bytes each in UTF-8; Flask's 500 kB default refused it as a "too large file" (413).
    MAX_FORM_MEMORY_SIZE = 2 * 1024 * 1024
    # CSRF tokens never expire: a secretary may spend an afternoon on a reply.
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    PERMANENT_SESSION_LIFETIME = 12 * 3600

    LOGIN_MAX_FAILURES_PER_ACCOUNT = 5
    LOGIN_MAX_FAILURES_PER_ADDRESS = 20
    LOGIN_WINDOW_MINUTES = 15
    INVITATION_VALID_HOURS = 7 * 24
    PASSWORD_RESET_VALID_HOURS = 2
    PASSWORD_MIN_LENGTH = 10
    # argon2id parameters; tests lower them, production keeps the library's defaults.
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536


def _parse(raw: str, default):
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, tuple):
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return raw


def from_environment(environ=os.environ) -> dict:
    """Every REMISS_<NAME> variable whose NAME is a setting, parsed by the default's type."""
    settings = {}
    for name in dir(Config):
        if name.isupper() and f"REMISS_{name}" in environ:
            settings[name] = _parse(environ[f"REMISS_{name}"], getattr(Config, name))
    if "REMISS_DATABASE_URL" in environ:
        settings["SQLALCHEMY_DATABASE_URI"] = environ["REMISS_DATABASE_URL"]
    if "MAX_UPLOAD_SIZE" in settings and "MAX_CONTENT_LENGTH" not in settings:
        settings["MAX_CONTENT_LENGTH"] = settings["MAX_UPLOAD_SIZE"] + 1024 * 1024
    if settings.get("PUBLIC_BASE_URL", Config.PUBLIC_BASE_URL).startswith("https://"):
        settings.setdefault("SESSION_COOKIE_SECURE", True)
    return settings
