"""Database engines and sessions for the inventory and tracker tables."""

from __future__ import annotations

import fcntl
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlmodel import Session, create_engine

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
INITIAL_REVISION = "0001"
INITIAL_TABLES = {"product", "stream", "component", "tracker", "report"}
# Any fixed 64-bit number works, as long as every irp process uses the same one.
MIGRATION_LOCK_KEY = 0x697270_6D6967


class SchemaError(RuntimeError):
    """The database's schema is in a state that the migrations cannot start from."""


def driver_url(url: str) -> str:
    """Return the URL with PostgreSQL pointed at the psycopg 3 driver."""
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme):]
    return url


ENGINES: dict[str, Engine] = {}
ENGINES_LOCK = threading.Lock()


def engine_for(url: str) -> Engine:
    """Return the engine for a database URL, migrating its schema on first use."""
    # The lock keeps two threads of one process from migrating the same database at once.
    with ENGINES_LOCK:
        engine = ENGINES.get(url)
        if engine is None:
            engine = new_engine(url)
            ENGINES[url] = engine
        return engine


def dispose_engine(url: str) -> None:
    """Close the pooled connections of a URL's engine and forget the engine."""
    with ENGINES_LOCK:
        engine = ENGINES.pop(url, None)
    if engine is not None:
        engine.dispose()


def new_engine(url: str) -> Engine:
    """Create an engine for a database URL and bring its schema to the newest revision."""
    engine = open_engine(url)
    create_schema(engine)
    return engine


def open_engine(url: str) -> Engine:
    """Create an engine for a database URL without touching its schema."""
    sqlalchemy_url = make_url(driver_url(url))
    if sqlalchemy_url.get_backend_name() == "sqlite":
        return sqlite_engine(sqlalchemy_url)
    return create_engine(sqlalchemy_url, pool_pre_ping=True)


def sqlite_engine(url: URL) -> Engine:
    """Create a SQLite engine that several threads and processes can share."""
    database = url.database
    if database and database != ":memory:":
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)

    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    event.listen(engine, "connect", set_sqlite_pragmas)
    return engine


def set_sqlite_pragmas(connection, _record) -> None:
    """Turn on WAL journaling and foreign keys for a new SQLite connection."""
    cursor = connection.cursor()
    # WAL lets readers (the CLI) run while a worker writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_schema(engine: Engine) -> None:
    """Bring the database to the newest schema revision, safely while other processes do the same."""
    upgrade_schema(engine)


def upgrade_schema(engine: Engine, revision: str = "head") -> None:
    """Run the alembic migrations up to a revision, stamping a database made before migrations existed."""
    # NOTE: pysqlite runs DDL outside the migration's transaction, so on SQLite a process killed
    # mid-migration can leave some of a revision's tables without its version row.
    with engine.connect() as connection, schema_lock(connection):
        config = migration_config(connection)
        if needs_initial_stamp(connection):
            log.info("stamping %s at revision %s: its tables predate migrations", safe_url(engine), INITIAL_REVISION)
            command.stamp(config, INITIAL_REVISION)
        command.upgrade(config, revision)
        connection.commit()


def current_revision(engine: Engine) -> str | None:
    """Return the schema revision the database is at, or None when it has never been migrated."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """Return the newest schema revision that this version of irp ships."""
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    if head is None:
        raise SchemaError(f"no schema revisions found in {MIGRATIONS}; reinstall irp")
    return head


def migration_config(connection: Connection) -> Config:
    """Build an alembic configuration that runs the packaged migrations on this connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def needs_initial_stamp(connection: Connection) -> bool:
    """Tell whether the initial tables exist without alembic's version table, as `create_all` left them."""
    tables = set(inspect(connection).get_table_names())
    if "alembic_version" in tables:
        return False
    present = INITIAL_TABLES & tables
    if present and present != INITIAL_TABLES:
        missing = ", ".join(sorted(INITIAL_TABLES - present))
        raise SchemaError(
            f"the database has some irp tables but not {missing}, and no alembic_version table. "
            "Drop the irp tables or create the missing ones, then start irp again"
        )
    return bool(present)


@contextmanager
def schema_lock(connection: Connection) -> Iterator[None]:
    """Hold a lock that keeps other processes from migrating the same database at the same time."""
    backend = connection.engine.url.get_backend_name()
    if backend == "postgresql":
        # A session-level advisory lock outlives the commits that the migrations make.
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        connection.commit()
        try:
            yield
        finally:
            connection.rollback()
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
            connection.commit()
        return

    database = connection.engine.url.database
    if backend != "sqlite" or not database or database == ":memory:":
        yield
        return

    # SQLite has no advisory locks, so a lock file beside the database serializes the processes.
    lock_path = Path(database).expanduser().with_name(Path(database).name + ".migration-lock")
    with lock_path.open("a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def safe_url(engine: Engine) -> str:
    """Return the engine's URL with any password hidden, for logs and messages."""
    return engine.url.render_as_string(hide_password=True)


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """Open a session that commits on success and rolls back on any exception."""
    with Session(engine_for(url), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
