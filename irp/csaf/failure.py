"""A failed CSAF test, and tolerant accessors for documents that may not match the schema."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Failure:
    """One failed test: its id (`schema` or a mandatory test such as `6.1.6`), a JSON pointer and why."""

    test: str
    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        """Return the failure as a JSON object."""
        return asdict(self)


def pointer(*parts: str | int) -> str:
    """Join path parts into a JSON pointer (RFC 6901), escaping `~` and `/`."""
    escaped = (str(part).replace("~", "~0").replace("/", "~1") for part in parts)
    return "/" + "/".join(escaped)


# The mandatory tests also run on documents that fail the schema, so every
# accessor below returns an empty value where the document has the wrong type.


def mapping(value: Any) -> dict[str, Any]:
    """Return the value if it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def items(value: Any) -> list[tuple[int, Any]]:
    """Return the (index, item) pairs of a JSON array, or none for any other value."""
    return list(enumerate(value)) if isinstance(value, list) else []


def objects(value: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield the (index, item) pairs of a JSON array whose items are objects."""
    for index, item in items(value):
        if isinstance(item, dict):
            yield index, item


def strings(value: Any) -> Iterator[tuple[int, str]]:
    """Yield the (index, item) pairs of a JSON array whose items are strings."""
    for index, item in items(value):
        if isinstance(item, str):
            yield index, item


def vulnerabilities(document: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield the (index, item) pairs of `/vulnerabilities`."""
    yield from objects(document.get("vulnerabilities"))


def text(value: Any) -> str | None:
    """Return the value if it is a string, else None."""
    return value if isinstance(value, str) else None
