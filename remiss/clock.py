"""The one clock. Everything that needs "now" asks here, so tests and the demo can move time."""
from contextlib import contextmanager
from datetime import datetime, timezone

_frozen: datetime | None = None


def now() -> datetime:
    """The current instant, aware, in UTC."""
    return _frozen if _frozen is not None else datetime.now(timezone.utc)


@contextmanager
def frozen_at(instant: datetime):
    """Make now() answer `instant` inside the block (tests, the demo's --today)."""
    global _frozen
    if instant.tzinfo is None:
        raise ValueError("the clock only takes aware datetimes")
    previous, _frozen = _frozen, instant.astimezone(timezone.utc)
    try:
        yield
    finally:
        _frozen = previous
