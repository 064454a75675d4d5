"""Database engines and sessions for the inventory and tracker tables."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlmodel import Session, SQLModel, create_engine

# Imported so that their tables are part of SQLModel.metadata before create_all runs.
import models.inventory  # noqa: F401
import models.tracking  # noqa: F401


def driver_url(url: str) -> str:
    """Return the URL with PostgreSQL pointed at the psycopg 3 driver."""
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme):]
    return url


ENGINES: dict[str, Engine] = {}
ENGINES_LOCK = threading.Lock()


def engine_for(url: str) -> Engine:
    """Return the engine for a database URL, creating it and its tables on first use."""
    # The lock keeps two threads from creating the same tables at once.
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
    """Create an engine for a database URL and create any missing tables."""
    sqlalchemy_url = make_url(driver_url(url))

    if sqlalchemy_url.get_backend_name() == "sqlite":
        engine = sqlite_engine(sqlalchemy_url)
    else:
        engine = create_engine(sqlalchemy_url, pool_pre_ping=True)

    create_schema(engine)
    return engine


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
    """Create every missing table of the irp models, tolerating other processes doing the same."""
    # A failure means another process created a table between the check and the CREATE,
    # which PostgreSQL and SQLite report as a duplicate. Each such failure is progress
    # made elsewhere, so one attempt per table plus one is enough for the tables to exist.
    attempts = len(SQLModel.metadata.tables) + 1
    for attempt in range(1, attempts + 1):
        try:
            SQLModel.metadata.create_all(engine)
            return
        except (IntegrityError, OperationalError, ProgrammingError):
            if attempt == attempts:
                raise


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
