"""Human-readable outputs of an incident: the advisory in Markdown and HTML, and the customer notification email."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.errors import HeaderParseError
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from irp.rendering import render, safe_file_name
from irp.settings import DEFAULT_PUBLISHER_NAME
from models.incident import EngineeringDecision, IncidentStatus, Tracker, TriageOutcome
from models.records import AffectStatus

DEFAULT_SENDER = "irp demo PSIRT <psirt@security.example.org>"
NO_RECIPIENTS = "undisclosed-recipients:;"
"""The RFC 5322 empty group, for a notification that goes out by Bcc or a mailing list."""

MAX_SUBJECT_LENGTH = 150
MULTILINE_FIELDS = frozenset({"description", "statement", "mitigation"})

# C0 and C1 controls except tab and newline, and the bidirectional overrides that reorder displayed text.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_SAFE_URL = re.compile(r"^https?://[^\s<>\"'`\\]+$")
_MARKDOWN_INLINE = re.compile(r"([\\`<>\[\]|&])")
_MARKDOWN_LINE_START = re.compile(r"^(\s*)([#>+\-*=~]|\d+[.)])", re.MULTILINE)


class EmbargoInForce(RuntimeError):
    """The incident is under embargo, so nothing about it may be written to published files."""


NOT_AFFECTED = "Not affected"


@dataclass(frozen=True)
class StreamSummary:
    """One product stream as customers read it: whether it is affected and what to do."""

    product: str
    stream: str
    components: str
    status: str
    action: str
    fixed_in: str | None = None


def render_outputs(
    incident: IncidentStatus,
    outputs_dir: Path,
    *,
    sender: str = DEFAULT_SENDER,
    recipients: Iterable[str] = (),
    publisher: str = DEFAULT_PUBLISHER_NAME,
    advisory_url: str | None = None,
    date: datetime | None = None,
) -> list[str]:
    """Write advisory.md, advisory.html and customer-notification.eml into the incident's folder and return their paths.

    Raises EmbargoInForce while the incident is embargoed, before anything is written.
    """
    if incident.embargo.embargoed:
        raise EmbargoInForce(f"incident {incident.id} is under embargo; its public outputs are rendered once the embargo lifts")

    context = _context(incident, publisher, advisory_url)
    streams = [asdict(summary) for summary in stream_summaries(incident)]
    markdown_streams = [_cleaned(stream, escape=_escape_markdown) for stream in streams]
    markdown = render("advisory.md.j2", {"incident": _markdown_view(incident), "streams": markdown_streams})
    html = render("advisory.html.j2", context)
    message = build_notification(incident, render("customer_notification.txt.j2", context), sender, recipients, publisher, date)

    folder = outputs_dir / safe_file_name(incident.id)
    paths = [folder / "advisory.md", folder / "advisory.html", folder / "customer-notification.eml"]
    for path, content in zip(paths, (markdown.encode(), html.encode(), bytes(message)), strict=True):
        _write_atomically(path, content)
    return [str(path) for path in paths]


def build_notification(
    incident: IncidentStatus,
    text: str,
    sender: str,
    recipients: Iterable[str],
    publisher: str,
    date: datetime | None = None,
) -> EmailMessage:
    """Build the customer notification as an RFC 5322 message; an invalid address raises ValueError naming it."""
    recipients = list(recipients)
    message = EmailMessage()
    try:
        message["From"] = sender
        message["To"] = ", ".join(recipients) if recipients else NO_RECIPIENTS
    except (ValueError, IndexError, HeaderParseError) as error:
        raise ValueError(f"invalid sender {sender!r} or recipients {recipients!r}: {error}") from None
    message["Subject"] = _subject(incident, publisher)
    message["Date"] = format_datetime((date or datetime.now(UTC)).astimezone(UTC))
    # The id follows the content, so a retry renders the same message and a revision gets a new id.
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    message["Message-ID"] = f"<advisory-{safe_file_name(incident.id)}-{digest}@irp>"
    message["X-Irp-Incident"] = clean_line(incident.id)
    message.set_content(text)
    return message


def stream_summaries(incident: IncidentStatus) -> list[StreamSummary]:
    """Summarise the streams the flaw concerns, in the order the incident first names them.

    Streams that ship no matching component and were never affected are left out, so an
    advisory does not list every product in the inventory.
    """
    keys: dict[tuple[str, str], None] = {}
    for item in (*incident.affects, *incident.trackers):
        keys.setdefault((item.product, item.stream), None)
    summaries = [_summarise_stream(incident, product, stream) for product, stream in keys]
    return [s for s in summaries if s.components or s.status != NOT_AFFECTED or _tracked(incident, s)]


def _tracked(incident: IncidentStatus, summary: StreamSummary) -> bool:
    return any((t.product, t.stream) == (summary.product, summary.stream) for t in incident.trackers)


def clean_text(value: str) -> str:
    """Remove control characters and bidirectional overrides, keeping tabs and line breaks."""
    return _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def clean_line(value: str) -> str:
    """Return the text on one line, with control characters removed and whitespace runs collapsed."""
    return " ".join(clean_text(value).split())


def safe_urls(urls: Iterable[str]) -> list[str]:
    """Keep only plain http and https URLs, so no `javascript:` link or markup reaches an output."""
    return [url for url in urls if _SAFE_URL.match(url)]


# Context of the templates.


def _context(incident: IncidentStatus, publisher: str, advisory_url: str | None) -> dict[str, Any]:
    references = incident.report.references if incident.report else []
    links = safe_urls([advisory_url] if advisory_url else [])
    return {
        "incident": _cleaned(incident.model_dump(mode="json")),
        "streams": [_cleaned(asdict(summary)) for summary in stream_summaries(incident)],
        "publisher": clean_line(publisher),
        "advisory_url": links[0] if links else None,
        "references": safe_urls(references),
    }


def _markdown_view(incident: IncidentStatus) -> dict[str, Any]:
    """Return the incident with every text escaped, so Markdown shows it literally and renders no markup from it."""
    view = _cleaned(incident.model_dump(mode="json"), escape=_escape_markdown)
    if view.get("report"):
        view["report"]["references"] = safe_urls(incident.report.references)
    return view


def _cleaned(value: Any, key: str | None = None, escape: Callable[[str, bool], str] | None = None) -> Any:
    """Clean every string of a dumped model; only the long free-text fields keep their line breaks."""
    if isinstance(value, dict):
        return {name: _cleaned(item, name, escape) for name, item in value.items()}
    if isinstance(value, list):
        return [_cleaned(item, key, escape) for item in value]
    if not isinstance(value, str):
        return value
    multiline = key in MULTILINE_FIELDS
    text = clean_text(value).strip() if multiline else clean_line(value)
    return escape(text, multiline) if escape else text


def _escape_markdown(text: str, multiline: bool) -> str:
    """Backslash-escape what would start markup; line starts matter only where the template puts a text at one."""
    escaped = _MARKDOWN_INLINE.sub(r"\\\1", text)
    if not multiline:
        return escaped
    return _MARKDOWN_LINE_START.sub(lambda match: f"{match.group(1)}\\{match.group(2)}", escaped)


def _subject(incident: IncidentStatus, publisher: str) -> str:
    subject = f"[{clean_line(publisher)}] Security advisory {clean_line(incident.id)}"
    if incident.title:
        subject += f": {clean_line(incident.title)}"
    if len(subject) > MAX_SUBJECT_LENGTH:
        subject = subject[: MAX_SUBJECT_LENGTH - 3].rstrip() + "..."
    return subject


# Stream summaries.


def _summarise_stream(incident: IncidentStatus, product: str, stream: str) -> StreamSummary:
    affects = [affect for affect in incident.affects if (affect.product, affect.stream) == (product, stream)]
    tracker = next((item for item in incident.trackers if (item.product, item.stream) == (product, stream)), None)
    components = ", ".join(
        dict.fromkeys(" ".join(filter(None, (affect.component, affect.version))) for affect in affects if affect.component)
    )
    status, action = _status_and_action(incident, affects, tracker)
    fixed_in = tracker.fixed_in if tracker is not None and tracker.decision == EngineeringDecision.fixed else None
    return StreamSummary(product, stream, components, status, action, fixed_in)


def _status_and_action(incident: IncidentStatus, affects: list, tracker: Tracker | None) -> tuple[str, str]:
    """Return the stream's status and the customer's action, deciding as the VEX document does."""
    mitigation = bool(incident.mitigation)
    until_fixed = " Apply the mitigation below until then." if mitigation else ""
    if incident.triage in (TriageOutcome.not_affected, TriageOutcome.false_positive):
        return NOT_AFFECTED, "No action is needed."
    if tracker is not None:
        return _tracker_status_and_action(tracker, mitigation)

    statuses = {affect.status for affect in affects}
    if AffectStatus.affected in statuses:
        return "Affected", "A fix is not yet available." + until_fixed
    if AffectStatus.unknown in statuses:
        return "Under investigation", "We are investigating whether this product is affected." + until_fixed
    return NOT_AFFECTED, "No action is needed."


def _tracker_status_and_action(tracker: Tracker, mitigation: bool) -> tuple[str, str]:
    until_fixed = " Apply the mitigation below until then." if mitigation else ""
    decision = tracker.decision
    if decision == EngineeringDecision.not_affected:
        return NOT_AFFECTED, "No action is needed."
    if decision == EngineeringDecision.fixed:
        if tracker.fixed_in:
            return f"Fixed in {tracker.fixed_in}", f"Update to {tracker.fixed_in} or later."
        return "Fixed", "Apply the vendor fix."
    if decision == EngineeringDecision.fix:
        planned = f" for {tracker.target_date.isoformat()}" if tracker.target_date else ""
        return "Affected, fix planned", f"A fix is planned{planned}." + until_fixed
    if decision == EngineeringDecision.wont_fix:
        reason = f" {tracker.justification}" if tracker.justification else ""
        apply = " Apply the mitigation below." if mitigation else ""
        return "Affected, no fix planned", f"No fix is planned.{reason}{apply}"
    if decision == EngineeringDecision.defer:
        return "Affected, fix deferred", "The fix is deferred." + until_fixed
    return "Affected", "A fix is not yet available." + until_fixed


def _write_atomically(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
