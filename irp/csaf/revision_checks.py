"""Mandatory CSAF 2.0 tests of the document version, status and revision history."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from irp.csaf.failure import Failure, mapping, objects, pointer, text

INTEGER_VERSION = re.compile(r"^(0|[1-9][0-9]*)$")
SEMANTIC_VERSION = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)

HISTORY_PATH = pointer("document", "tracking", "revision_history")
VERSION_PATH = pointer("document", "tracking", "version")


@dataclass(frozen=True)
class Version:
    """A document version in integer or semantic versioning."""

    text: str
    semantic: bool
    major: int
    minor: int = 0
    patch: int = 0
    prerelease: str | None = None
    build: str | None = None

    @property
    def precedence(self) -> tuple[Any, ...]:
        """Return a sort key following the semantic versioning precedence rules, build metadata ignored."""
        if self.prerelease is None:
            return (self.major, self.minor, self.patch, 1, ())
        identifiers = tuple(
            (0, int(part), "") if part.isdigit() else (1, 0, part) for part in self.prerelease.split(".")
        )
        return (self.major, self.minor, self.patch, 0, identifiers)

    def without(self, *, prerelease: bool) -> str:
        """Return the version text without build metadata, and without the pre-release part if asked."""
        if not self.semantic:
            return self.text
        core = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease is not None and not prerelease:
            core += f"-{self.prerelease}"
        return core


def parse_version(value: Any) -> Version | None:
    """Parse an integer or semantic version, or return None if it is neither."""
    if not isinstance(value, str):
        return None
    if INTEGER_VERSION.match(value):
        return Version(value, semantic=False, major=int(value))
    match = SEMANTIC_VERSION.match(value)
    if match is None:
        return None
    major, minor, patch, prerelease, build = match.groups()
    return Version(value, True, int(major), int(minor), int(patch), prerelease, build)


def parse_date(value: Any) -> datetime | None:
    """Parse an RFC 3339 date-time with `T` and `Z` in either case, taking one without an offset as UTC."""
    if not isinstance(value, str):
        return None
    try:
        # NOTE: digits past the microsecond are dropped, so two dates that differ only there compare equal.
        parsed = datetime.fromisoformat(value.upper())
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Entry:
    """A revision history item whose date and number parse."""

    index: int
    date: datetime
    number: Version


def _tracking(document: dict[str, Any]) -> dict[str, Any]:
    return mapping(mapping(document.get("document")).get("tracking"))


def _entries(document: dict[str, Any]) -> list[Entry]:
    """Return the parseable revision history items sorted by date, then by version precedence."""
    entries = []
    for index, item in objects(_tracking(document).get("revision_history")):
        date, number = parse_date(item.get("date")), parse_version(item.get("number"))
        if date is not None and number is not None:
            entries.append(Entry(index, date, number))
    return sorted(entries, key=lambda entry: (entry.date, entry.number.precedence))


def _is_zero_or_prerelease(version: Version) -> bool:
    return version.major == 0 or version.prerelease is not None


def _mixed(entries: list[Entry]) -> bool:
    return len({entry.number.semantic for entry in entries}) > 1


def check_sorted_revision_history(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.14: sorted by date, the revision numbers ascend."""
    entries = _entries(document)
    if _mixed(entries):
        return
    highest_before: Entry | None = None
    same_date: list[Entry] = []
    for entry in entries:
        if same_date and entry.date != same_date[0].date:
            highest_before = max([*same_date, *filter(None, [highest_before])], key=lambda item: item.number.precedence)
            same_date = []
        same_date.append(entry)
        if highest_before is not None and entry.number.precedence < highest_before.number.precedence:
            yield Failure("6.1.14", f"{HISTORY_PATH}/{entry.index}/number",
                          f"version {entry.number.text} is dated after version {highest_before.number.text}")


def check_latest_document_version(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.16: the document version is the number of the latest revision."""
    tracking = _tracking(document)
    version, entries = parse_version(tracking.get("version")), _entries(document)
    if version is None or not entries:
        return
    draft = tracking.get("status") == "draft"
    latest = entries[-1].number
    if version.without(prerelease=draft) != latest.without(prerelease=draft):
        yield Failure("6.1.16", VERSION_PATH,
                      f"the document version is {version.text} but the latest revision is {latest.text}")


def check_document_status_draft(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.17: a version 0, 0.y.z or with a pre-release part is a draft."""
    tracking = _tracking(document)
    version = parse_version(tracking.get("version"))
    if version is not None and _is_zero_or_prerelease(version) and tracking.get("status") != "draft":
        yield Failure("6.1.17", pointer("document", "tracking", "status"),
                      f"the document version is {version.text} but the status is {tracking.get('status')!r}, not 'draft'")


def check_released_revision_history(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.18: a final or interim document has no revision numbered 0 or 0.y.z."""
    tracking = _tracking(document)
    if tracking.get("status") not in ("final", "interim"):
        return
    for index, item in objects(tracking.get("revision_history")):
        number = parse_version(item.get("number"))
        if number is not None and number.major == 0:
            yield Failure("6.1.18", f"{HISTORY_PATH}/{index}/number",
                          f"the document is {tracking['status']} but revision {number.text} is a pre-release major version 0")


def check_prerelease_revisions(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.19: no revision number has a pre-release part."""
    for index, item in objects(_tracking(document).get("revision_history")):
        number = parse_version(item.get("number"))
        if number is not None and number.prerelease is not None:
            yield Failure("6.1.19", f"{HISTORY_PATH}/{index}/number",
                          f"revision {number.text} has the pre-release part {number.prerelease!r}")


def check_non_draft_version(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.20: a final or interim document version has no pre-release part."""
    tracking = _tracking(document)
    version = parse_version(tracking.get("version"))
    if version is not None and version.prerelease is not None and tracking.get("status") in ("final", "interim"):
        yield Failure("6.1.20", VERSION_PATH,
                      f"the document is {tracking['status']} but its version {version.text} has a pre-release part")


def check_missing_revisions(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.21: sorted by date, the revisions start at (major) version 0 or 1 and skip no (major) version."""
    entries = _entries(document)
    if not entries or _mixed(entries):
        return
    first = entries[0]
    if first.number.major not in (0, 1):
        yield Failure("6.1.21", f"{HISTORY_PATH}/{first.index}/number",
                      f"the first revision is {first.number.text}; it must be version 0 or 1")
    for previous, entry in zip(entries, entries[1:]):
        if entry.number.major > previous.number.major + 1:
            yield Failure("6.1.21", f"{HISTORY_PATH}/{entry.index}/number",
                          f"the revisions skip from {previous.number.text} to {entry.number.text}")


def check_duplicate_revisions(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.22: no two revisions have the same number."""
    seen: set[str] = set()
    for index, item in objects(_tracking(document).get("revision_history")):
        number = text(item.get("number"))
        if number in seen:
            yield Failure("6.1.22", f"{HISTORY_PATH}/{index}/number", f"revision {number} is listed more than once")
        elif number is not None:
            seen.add(number)


def check_mixed_versioning(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.30: the document version and the revision numbers all use integer or all use semantic versioning."""
    tracking = _tracking(document)
    values = [(f"{HISTORY_PATH}/{index}/number", item.get("number")) for index, item in objects(tracking.get("revision_history"))]
    values.append((VERSION_PATH, tracking.get("version")))
    versions = [(path, version) for path, value in values if (version := parse_version(value)) is not None]
    if not versions:
        return
    first_semantic = versions[0][1].semantic
    scheme = "semantic" if first_semantic else "integer"
    for path, version in versions[1:]:
        if version.semantic != first_semantic:
            yield Failure("6.1.30", path, f"version {version.text} breaks the {scheme} versioning the document started with")
