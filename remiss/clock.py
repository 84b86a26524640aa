"""The one clock. Everything that needs "now" asks here; workflow functions take `now` as a
parameter instead, so tests, the CLI (`--today`, `--now`) and the demo can move time."""
from datetime import datetime, timezone


def now() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(timezone.utc)
