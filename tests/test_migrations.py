"""The Alembic migrations build exactly the schema the models describe, on SQLite and on PostgreSQL.

Each test here starts from an empty database of its own, not the harness's migrated one.
"""
import re
import shutil
from pathlib import Path
from pprint import pformat

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, inspect, select, text

from remiss import create_app
from remiss.extensions import db
from remiss.models import Body, Membership

from . import builders, conftest

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path):
    """A database with no tables at all, dropped after the test."""
    if request.param == "postgresql":
        if not conftest.POSTGRES_URL:
            conftest.missing("PostgreSQL tests need REMISS_TEST_POSTGRES_URL")
        url = conftest._create_postgres_database()
        yield url
        conftest._drop_postgres_database(url)
    else:
        yield f"sqlite:///{tmp_path / 'empty.sqlite'}"


@pytest.fixture
def fresh_app(empty_database_url):
    app = create_app(conftest.app_settings(empty_database_url))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def schema_drift() -> list:
    """What autogenerate would still write: the differences between the database and the models."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": False})
        return compare_metadata(context, db.metadata)


def current_revision() -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def tables_in_database() -> set[str]:
    with db.engine.connect() as connection:
        return set(inspect(connection).get_table_names()) - {"alembic_version"}


def test_upgrading_an_empty_database_gives_exactly_the_models_schema(fresh_app):
    assert tables_in_database() == set()

    upgrade()

    assert current_revision() == head_revision()
    assert tables_in_database() == set(db.metadata.tables)
    drift = schema_drift()
    assert drift == [], "the migrations and the models disagree:\n" + pformat(drift)


def test_the_schema_can_be_downgraded_to_nothing_and_built_again(fresh_app):
    upgrade()

    downgrade(revision="base")
    assert tables_in_database() == set()
    assert current_revision() is None

    upgrade()
    assert current_revision() == head_revision()
    drift = schema_drift()
    assert drift == [], "the schema built a second time disagrees with the models:\n" + pformat(drift)


def test_every_revision_is_numbered_and_the_history_is_one_line():
    scripts = ScriptDirectory(str(MIGRATIONS))
    files = sorted(p.name for p in (MIGRATIONS / "versions").glob("*.py"))
    assert files, "no migrations found"
    for name in files:
        assert re.match(r"^\d{4}_[a-z0-9_]+\.py$", name), f"{name} does not start with a 4-digit number"
    revisions = list(scripts.walk_revisions())  # newest first
    assert len(scripts.get_heads()) == 1, f"more than one head: {scripts.get_heads()}"
    assert len(revisions) == len(files)
    for revision in revisions:
        assert Path(revision.path).name.startswith(f"{revision.revision}_"), (
            f"{Path(revision.path).name} holds revision {revision.revision}: name and number should agree")
    numbers = [int(r.revision) for r in reversed(revisions)]
    assert numbers == list(range(1, len(numbers) + 1)), f"revisions are not numbered 1, 2, 3…: {numbers}"


def test_a_migration_that_rebuilds_a_table_on_sqlite_keeps_the_rows_that_point_at_it(tmp_path):
    """SQLite alters a table by copying it, dropping the old one and renaming the copy. The app
    turns foreign keys on, and with them on the drop would delete (ON DELETE CASCADE) every
    membership of every body; the migration environment must turn them off while it works."""
    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "9999_rebuild_bodies.py").write_text(
        "from alembic import op\n\n"
        f"revision = '9999'\ndown_revision = '{head_revision()}'\nbranch_labels = None\ndepends_on = None\n\n\n"
        "def upgrade():\n"
        "    with op.batch_alter_table('bodies', recreate='always'):\n"
        "        pass\n\n\n"
        "def downgrade():\n"
        "    pass\n"
    )
    app = create_app(conftest.app_settings(f"sqlite:///{tmp_path / 'rebuilt.sqlite'}"))
    with app.app_context():
        upgrade()
        body = builders.create_body(db.session, code="SN")
        builders.create_secretary(db.session, body)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()  # the migration's connection is then the only one in the pool

        upgrade(directory=str(scripts))

        assert current_revision() == "9999"
        assert db.session.scalar(select(func.count()).select_from(Membership)) == 1
        assert db.session.scalar(select(Body.code)) == "SN"
        # ...and the connection the migration used goes back to the pool enforcing foreign keys again.
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        db.session.remove()
        db.engine.dispose()
