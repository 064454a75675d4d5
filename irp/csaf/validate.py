"""Validation of CSAF 2.0 documents: the JSON schema plus the mandatory tests of the standard's section 6.1."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import ValidationError

from irp.csaf import cvss_checks, document_checks, product_checks, profile_checks, revision_checks
from irp.csaf.failure import Failure, pointer
from irp.csaf.schema import iter_schema_errors

logger = logging.getLogger(__name__)

Check = Callable[[dict[str, Any]], Iterable[Failure]]

# Every mandatory test of CSAF 2.0 section 6.1, in the standard's order.
MANDATORY_TESTS: tuple[tuple[str, Check], ...] = (
    ("6.1.1", product_checks.check_missing_product_definitions),
    ("6.1.2", product_checks.check_multiple_product_definitions),
    ("6.1.3", product_checks.check_circular_product_definitions),
    ("6.1.4", product_checks.check_missing_group_definitions),
    ("6.1.5", product_checks.check_multiple_group_definitions),
    ("6.1.6", product_checks.check_contradicting_product_status),
    ("6.1.7", product_checks.check_multiple_scores_per_version),
    ("6.1.8", cvss_checks.check_cvss_schema),
    ("6.1.9", cvss_checks.check_cvss_computation),
    ("6.1.10", cvss_checks.check_cvss_consistency),
    ("6.1.11", document_checks.check_cwe),
    ("6.1.12", document_checks.check_languages),
    ("6.1.13", product_checks.check_purls),
    ("6.1.14", revision_checks.check_sorted_revision_history),
    ("6.1.15", document_checks.check_translator),
    ("6.1.16", revision_checks.check_latest_document_version),
    ("6.1.17", revision_checks.check_document_status_draft),
    ("6.1.18", revision_checks.check_released_revision_history),
    ("6.1.19", revision_checks.check_prerelease_revisions),
    ("6.1.20", revision_checks.check_non_draft_version),
    ("6.1.21", revision_checks.check_missing_revisions),
    ("6.1.22", revision_checks.check_duplicate_revisions),
    ("6.1.23", document_checks.check_multiple_cve),
    ("6.1.24", document_checks.check_multiple_involvements),
    ("6.1.25", product_checks.check_hash_algorithms),
    ("6.1.26", profile_checks.check_prohibited_category),
    ("6.1.27.1", profile_checks.check_document_notes),
    ("6.1.27.2", profile_checks.check_document_references),
    ("6.1.27.3", profile_checks.check_informational_without_vulnerabilities),
    ("6.1.27.4", profile_checks.check_product_tree),
    ("6.1.27.5", profile_checks.check_vulnerability_notes),
    ("6.1.27.6", profile_checks.check_product_status),
    ("6.1.27.7", profile_checks.check_vex_product_status),
    ("6.1.27.8", profile_checks.check_vulnerability_id),
    ("6.1.27.9", profile_checks.check_impact_statements),
    ("6.1.27.10", profile_checks.check_action_statements),
    ("6.1.27.11", profile_checks.check_vulnerabilities_present),
    ("6.1.28", document_checks.check_translation),
    ("6.1.29", product_checks.check_remediation_product_references),
    ("6.1.30", revision_checks.check_mixed_versioning),
    ("6.1.31", product_checks.check_version_ranges),
    ("6.1.32", product_checks.check_flag_product_references),
    ("6.1.33", product_checks.check_multiple_vex_flags),
)

MAX_DOCUMENT_BYTES = 100 * 1024 * 1024
"""Larger files are rejected unread; the largest published advisories are a few megabytes."""

MAX_MESSAGE_LENGTH = 300

_CVSS_KEYS = ("cvss_v2", "cvss_v3")


@dataclass
class FileResult:
    """The outcome of validating one file."""

    file: str
    failures: list[Failure] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        """Whether the file passed the schema and every mandatory test."""
        return not self.failures

    def as_dict(self) -> dict[str, Any]:
        """Return the result as a JSON object."""
        return {"file": self.file, "valid": self.valid, "failures": [failure.as_dict() for failure in self.failures]}


def validate_document(document: Any) -> list[Failure]:
    """Validate a parsed document against the CSAF 2.0 schema and every mandatory test; return the failures."""
    try:
        failures = list(_schema_failures(document))
    except RecursionError:
        return [Failure("schema", "/", "the document nests too deeply to validate")]
    if not isinstance(document, dict):
        return failures

    for test, check in MANDATORY_TESTS:
        failures.extend(_run(test, check, document, schema_valid=not failures))
    return failures


def _run(test: str, check: Check, document: dict[str, Any], *, schema_valid: bool) -> list[Failure]:
    """Run one mandatory test; a crash on a schema-invalid document is skipped, on a valid one reported."""
    try:
        return list(check(document))
    except Exception as error:  # noqa: BLE001 - one broken test must not hide the others' results
        if not schema_valid:
            logger.debug("test %s skipped on a schema-invalid document: %s", test, error)
            return []
        logger.exception("test %s failed to run", test)
        return [Failure(test, "/", f"the test could not run: {error}")]


def _schema_failures(document: Any) -> Iterator[Failure]:
    for error in iter_schema_errors(document):
        # Errors inside a CVSS object are reported once, as test 6.1.8.
        if _inside_cvss(error):
            continue
        yield Failure("schema", pointer(*error.absolute_path), _shorten(error.message))


def _inside_cvss(error: ValidationError) -> bool:
    path = list(error.absolute_path)
    return len(path) >= 5 and path[0] == "vulnerabilities" and path[2] == "scores" and path[4] in _CVSS_KEYS


def _shorten(message: str) -> str:
    if len(message) <= MAX_MESSAGE_LENGTH:
        return message
    return message[: MAX_MESSAGE_LENGTH - 1] + "…"


def read_document(path: Path) -> tuple[Any, Failure | None]:
    """Read and parse a JSON file; return the document, or a failure saying why it cannot be read."""
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            return None, Failure("file", "/", f"the file has {size} bytes, more than the limit of {MAX_DOCUMENT_BYTES}")
        raw = path.read_bytes()
    except OSError as error:
        return None, Failure("file", "/", f"cannot read the file: {error.strerror or error}")

    try:
        return json.loads(raw.decode("utf-8")), None
    except UnicodeDecodeError as error:
        return None, Failure("file", "/", f"the file is not UTF-8 text (byte {error.start})")
    except json.JSONDecodeError as error:
        return None, Failure("file", "/", f"invalid JSON at line {error.lineno} column {error.colno}: {error.msg}")
    except RecursionError:
        return None, Failure("file", "/", "the JSON nests too deeply to parse")


def validate_file(path: Path) -> FileResult:
    """Read one file and validate it as a CSAF 2.0 document."""
    document, unreadable = read_document(path)
    if unreadable is not None:
        return FileResult(str(path), [unreadable])
    return FileResult(str(path), validate_document(document))
