"""Parse RFC 5322 emails sent to the security contact into a `Report`.

The reporter's address is confidential, so nothing here logs it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from itertools import islice
from email import policy
from email.errors import MessageError
from email.message import EmailMessage
from email.parser import BytesParser
from html.parser import HTMLParser
from typing import Any

from irp.sources.cve5 import MAX_RECORD_BYTES, InvalidReport, parse_cve5
from models.records import Report

logger = logging.getLogger(__name__)

MAX_DESCRIPTION_CHARS = 20_000
MAX_TITLE_CHARS = 500
MAX_REPORTER_CHARS = 320
MAX_JSON_CANDIDATES = 20
"""JSON blocks tried per body, so a body full of braces costs a bounded number of parses."""

CVE_MENTION = re.compile(r"(?<![A-Za-z0-9])CVE-\d{4}-\d{4,19}(?![A-Za-z0-9])", re.IGNORECASE)
LIST_TAG = re.compile(r"^\s*\[[^\]]{1,60}\]\s*")
JSON_BLOCK_START = re.compile(r"^[ \t]*\{", re.MULTILINE)
WRAPPED_WHITESPACE = re.compile(r"\s*\n\s*")
IDENTIFYING_HEADERS = ("From", "Subject", "Message-ID")

_HEADER_ERRORS = (MessageError, ValueError, TypeError, IndexError, LookupError, AttributeError)
"""Exceptions that `email` raises on malformed headers and parts, which it reads lazily."""


class _Problem(Exception):
    """A problem found inside the email, before the file name is attached."""


def parse_email(data: bytes | str, file: str) -> Report:
    """Parse one `.eml` message; raise `InvalidReport` naming the problem."""
    if isinstance(data, str):
        data = data.encode("utf-8", errors="surrogateescape")
    if not isinstance(data, bytes):
        raise InvalidReport(file, f"expected bytes or text, found {type(data).__name__}")
    if len(data) > MAX_RECORD_BYTES:
        raise InvalidReport(
            file, f"email is {len(data)} bytes, larger than the {MAX_RECORD_BYTES} byte limit for one report"
        )

    try:
        message = BytesParser(policy=policy.default).parsebytes(data)
        return _build_report(message, data, file)
    except RecursionError:
        raise InvalidReport(file, "the email's MIME parts are nested too deeply") from None
    except _Problem as problem:
        raise InvalidReport(file, str(problem)) from None


def _build_report(message: EmailMessage, data: bytes, file: str) -> Report:
    """Build a `Report` from a parsed message and its raw bytes."""
    if not any(_header(message, name) for name in IDENTIFYING_HEADERS):
        raise _Problem("not an email: it has no From, Subject or Message-ID header")

    subject = _header(message, "Subject") or ""
    body = _body_text(message)
    mentioned = list(dict.fromkeys(_cve_ids(subject) + _cve_ids(body)))
    title = _title(subject)
    reporter = _reporter(message)

    record = _embedded_record(message, body, mentioned[0] if mentioned else None, file)
    if record is not None:
        return record.model_copy(
            update={
                "format": "email",
                "title": record.title or title,
                "reporter": reporter,
                "related": [cve for cve in mentioned if cve != record.id and cve not in record.aliases],
            }
        )

    report_id = mentioned[0] if mentioned else f"IRP-{hashlib.sha256(data).hexdigest()[:12]}"
    # The Date header gives when the reporter sent the email, not when the flaw
    # became public, so `published_at` stays empty.
    return Report(
        id=report_id,
        format="email",
        title=title,
        description=_bounded(body),
        related=mentioned[1:],
        reporter=reporter,
    )


def _header(message: EmailMessage, name: str) -> str | None:
    """Return a header's decoded text with folding removed, or None when absent or unreadable."""
    try:
        value = message.get(name)
        text = str(value) if value is not None else None
    except _HEADER_ERRORS:
        return None
    if text is None:
        return None
    return " ".join(text.split()) or None


def _reporter(message: EmailMessage) -> str | None:
    """Return the first From address as `Name <address>`, or the raw header when it does not parse."""
    try:
        header = message.get("From")
        addresses = getattr(header, "addresses", ())
        reporter = str(addresses[0]) if addresses else _header(message, "From")
    except _HEADER_ERRORS:
        reporter = _header(message, "From")
    return reporter[:MAX_REPORTER_CHARS] if reporter else None


def _title(subject: str) -> str | None:
    """Return the subject without a mailing list tag such as `[oss-security]`."""
    title = LIST_TAG.sub("", subject, count=1).strip()
    return title[:MAX_TITLE_CHARS] or None


def _cve_ids(text: str) -> list[str]:
    """Return the CVE ids a text mentions, upper-case, in order of first mention."""
    return list(dict.fromkeys(match.group(0).upper() for match in CVE_MENTION.finditer(text)))


def _bounded(text: str) -> str | None:
    """Cut a text to MAX_DESCRIPTION_CHARS, saying so when it cuts."""
    text = text.strip()
    if len(text) <= MAX_DESCRIPTION_CHARS:
        return text or None
    return f"{text[:MAX_DESCRIPTION_CHARS]}\n[cut at {MAX_DESCRIPTION_CHARS} characters]"


# ---------------------------------------------------------------- body text


def _body_text(message: EmailMessage) -> str:
    """Return the message's main text: the plain part, else the HTML part without markup."""
    try:
        part = message.get_body(preferencelist=("plain", "html"))
    except _HEADER_ERRORS:
        part = None
    if part is None:
        return ""

    text = _part_text(part)
    if part.get_content_subtype() == "html":
        text = _html_text(text)
    return text.replace("\r\n", "\n")


def _part_text(part: EmailMessage) -> str:
    """Decode a text part, replacing bytes its declared charset cannot decode."""
    try:
        content = part.get_content()
        if isinstance(content, str):
            return content
    except _HEADER_ERRORS:
        pass

    payload = part.get_payload(decode=True) or b""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:
        return payload.decode("utf-8", errors="replace")


class _TextCollector(HTMLParser):
    """An HTML parser that keeps the text outside `script` and `style` elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style"}:
            self.hidden += 1
        elif tag in {"br", "p", "div", "li", "tr", "pre"}:
            self.chunks.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"} and self.hidden:
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.chunks.append(data)


def _html_text(html: str) -> str:
    """Return the visible text of an HTML body."""
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    return "".join(collector.chunks)


# ---------------------------------------------------------------- embedded CVE record


def _embedded_record(message: EmailMessage, body: str, cve_id: str | None, file: str) -> Report | None:
    """Return the CVE JSON 5 record attached to the email or pasted in its body, if one parses."""
    documents = _attached_documents(message) + _body_documents(body)
    for document in documents:
        record = _as_cve_record(document, cve_id)
        if record is None:
            continue
        try:
            return parse_cve5(json.dumps(record), file)
        except RecursionError:
            continue
        except InvalidReport as error:
            # The email is still a report, so a broken record leaves its text as the content.
            logger.warning("ignored the CVE record embedded in %s: %s", file, error.problem)
    return None


def _attached_documents(message: EmailMessage) -> list[dict[str, Any]]:
    """Return the JSON objects of the attachments that hold JSON."""
    documents = []
    for part in message.iter_attachments() if message.is_multipart() else ():
        if part.is_multipart():
            continue
        filename = (part.get_filename() or "").lower()
        if part.get_content_type() != "application/json" and not filename.endswith(".json"):
            continue
        payload = part.get_payload(decode=True) or b""
        try:
            document = json.loads(payload.decode("utf-8-sig"))
        except (ValueError, RecursionError):
            continue
        if isinstance(document, dict):
            documents.append(document)
    return documents


def _body_documents(body: str) -> list[dict[str, Any]]:
    """Return the JSON objects that start a line of the body, read leniently."""
    # Mail clients wrap long lines, which puts raw newlines inside JSON strings.
    decoder = json.JSONDecoder(strict=False)
    documents = []
    for match in islice(JSON_BLOCK_START.finditer(body), MAX_JSON_CANDIDATES):
        try:
            document, _ = decoder.raw_decode(body, match.end() - 1)
            if isinstance(document, dict):
                documents.append(_unwrapped(document))
        except (ValueError, RecursionError):
            continue
    return documents


def _unwrapped(value: Any) -> Any:
    """Undo line wrapping inside the strings of a JSON value taken from an email body."""
    # NOTE: a newline the record itself had inside a string becomes a space too.
    if isinstance(value, str):
        return WRAPPED_WHITESPACE.sub(" ", value).strip()
    if isinstance(value, list):
        return [_unwrapped(item) for item in value]
    if isinstance(value, dict):
        return {key: _unwrapped(item) for key, item in value.items()}
    return value


def _as_cve_record(document: dict[str, Any], cve_id: str | None) -> dict[str, Any] | None:
    """Return a whole CVE record: the document itself, or a CNA container wrapped under the email's CVE id."""
    if document.get("dataType") == "CVE_RECORD" or "cveMetadata" in document:
        return document
    looks_like_container = isinstance(document.get("affected"), list) or isinstance(document.get("descriptions"), list)
    if not looks_like_container or cve_id is None:
        return None
    return {
        "dataType": "CVE_RECORD",
        "dataVersion": "5.1",
        "cveMetadata": {"cveId": cve_id, "state": "PUBLISHED"},
        "containers": {"cna": document},
    }
