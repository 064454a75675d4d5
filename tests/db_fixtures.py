"""The `database_url` fixture: SQLite always, PostgreSQL when IRP_TEST_DATABASE_URL is set.

Import it into a test module with `from tests.db_fixtures import database_url`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from irp.db import dispose_engine

POSTGRESQL_URL = os.environ.get("IRP_TEST_DATABASE_URL")
BACKENDS = ["sqlite", "postgresql"] if POSTGRESQL_URL else ["sqlite"]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Yield the URL of an empty database that only this test uses."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'irp.db'}"
        return

    yield from postgresql_schema_url(POSTGRESQL_URL)


def postgresql_schema_url(server_url: str) -> Iterator[str]:
    """Create a throwaway schema, yield a URL whose search_path points at it, then drop it."""
    schema = f"irp_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')

    separator = "&" if "?" in server_url else "?"
    url = f"{server_url}{separator}options=-csearch_path%3D{schema}"
    try:
        yield url
    finally:
        dispose_engine(url)
        with psycopg.connect(server_url, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
