"""Column types shared by the models."""
from datetime import datetime, timezone

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """An aware UTC timestamp on every backend.

    PostgreSQL keeps `timestamptz`; SQLite has no time zones, so the value is
    stored as naive UTC and made aware again on the way out. Naive input is
    refused: a naive datetime is a bug waiting for a DST switch.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware UTC one is required")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def check_in(column: str, values) -> str:
    """SQL for a CHECK constraint that keeps `column` among `values`."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


def insert_if_absent(session, model, values: dict, unique: list[str]) -> int | None:
    """INSERT … ON CONFLICT (unique) DO NOTHING: the new row's id, or None when the row was there.

    The database decides, so two requests that both found nothing and both insert make one row; on
    PostgreSQL the second waits for the first to commit and then finds its row.
    """
    from sqlalchemy import insert
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        statement = pg_insert(model).values(values).on_conflict_do_nothing(index_elements=unique)
    elif dialect == "sqlite":
        statement = sqlite_insert(model).values(values).on_conflict_do_nothing(index_elements=unique)
    else:  # pragma: no cover - only the two supported backends exist
        statement = insert(model).values(values)
    # RETURNING, not rowcount: SQLAlchemy leaves rowcount at -1 for an INSERT on psycopg.
    return session.execute(statement.returning(model.id)).scalar()
