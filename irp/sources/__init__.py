"""Report sources: detect a report's format from its content and parse it into a `Report`."""

from __future__ import annotations

import re

from irp.sources.cve5 import MAX_RECORD_BYTES, InvalidReport, _load_object, _Problem, parse_cve5
from irp.sources.email import parse_email
from irp.sources.osv import parse_osv
from models.records import Report

MAX_REPORT_BYTES = MAX_RECORD_BYTES
UNKNOWN_FORMAT = "unknown report format: expected a CVE JSON 5 record, an OSV record or an RFC 5322 email"

HEADER_FIELD = re.compile(rb"[!-9;-~]+:")
"""An RFC 5322 header line: a field name of printable ASCII other than the colon, then a colon."""
MBOX_SEPARATOR = b"From "
MAX_HEADER_LINES = 500
MAX_HEADER_BYTES = 64 * 1024
IDENTIFYING_HEADERS = (b"from", b"subject", b"message-id")
BYTE_ORDER_MARK = b"\xef\xbb\xbf"


def parse_report(data: bytes, file: str) -> Report:
    """Parse a CVE JSON 5 record, an OSV record or an email, telling them apart by content."""
    if not isinstance(data, bytes):
        raise InvalidReport(file, f"expected bytes, found {type(data).__name__}")
    if len(data) > MAX_REPORT_BYTES:
        raise InvalidReport(
            file, f"the report is {len(data)} bytes, larger than the {MAX_REPORT_BYTES} byte limit for one report"
        )
    if not data.strip():
        raise InvalidReport(file, "the file is empty")

    report_format = detect_format(data, file)
    if report_format == "cve5":
        return parse_cve5(data, file)
    if report_format == "osv":
        return parse_osv(data, file)
    if report_format == "email":
        return parse_email(data, file)
    raise InvalidReport(file, UNKNOWN_FORMAT)


def detect_format(data: bytes, file: str) -> str | None:
    """Return `cve5`, `osv` or `email` for a report's content, or None for anything else.

    Raises `InvalidReport` for a JSON document that does not parse, naming the JSON error.
    """
    text = data.removeprefix(BYTE_ORDER_MARK).lstrip()
    if text.startswith(b"{"):
        return _json_format(data, file)
    if _starts_with_email_headers(data.removeprefix(BYTE_ORDER_MARK)):
        return "email"
    return None


def _json_format(data: bytes, file: str) -> str | None:
    """Tell a CVE record from an OSV record by their required fields."""
    try:
        document = _load_object(data)
    except _Problem as problem:
        raise InvalidReport(file, str(problem)) from None

    if document.get("dataType") == "CVE_RECORD" or "cveMetadata" in document:
        return "cve5"
    has_osv_fields = "id" in document and "modified" in document
    if "schema_version" in document or (has_osv_fields and ("affected" in document or "aliases" in document)):
        return "osv"
    return None


def _starts_with_email_headers(data: bytes) -> bool:
    """Tell whether the data opens with an RFC 5322 header block naming a sender, subject or message id."""
    lines = data[:MAX_HEADER_BYTES].splitlines()
    if lines and lines[0].startswith(MBOX_SEPARATOR):
        lines = lines[1:]
    if not lines or not HEADER_FIELD.match(lines[0]):
        return False

    for line in lines[:MAX_HEADER_LINES]:
        if not line.strip():
            break
        if line[:1] in (b" ", b"\t"):
            continue
        field = HEADER_FIELD.match(line)
        if field is None:
            return False
        if field.group(0)[:-1].lower() in IDENTIFYING_HEADERS:
            return True
    return False
