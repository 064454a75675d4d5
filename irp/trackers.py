"""Engineering trackers and kept raw reports, stored in the irp database."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from irp.db import session_scope
from models.incident import EngineeringDecision, Tracker
from models.tracking import ReportRow, TrackerRow, utc_now

TRACKER_PREFIX = "TRK-"


class TrackerNotFound(LookupError):
    """No tracker has the requested id."""


def file_tracker(
    url: str,
    incident_id: str,
    product: str,
    stream: str,
    component: str | None = None,
    owner: str | None = None,
    public: bool = True,
) -> Tracker:
    """File the tracker of an incident's product stream, or return the one already filed.

    Safe to call again and from several processes at once: the unique constraint on
    (incident_id, product, stream) decides the race, and the losers read the winner's row.
    The component and owner of an existing tracker are left as they are.
    """
    existing = find_tracker_row(url, incident_id, product, stream)
    if existing is not None:
        return tracker_from_row(existing)

    try:
        with session_scope(url) as session:
            row = TrackerRow(
                incident_id=incident_id,
                product=product,
                stream=stream,
                component=component,
                owner=owner,
                public=public,
            )
            session.add(row)
            session.flush()
            return tracker_from_row(row)
    except IntegrityError:
        winner = find_tracker_row(url, incident_id, product, stream)
        if winner is None:
            raise
        return tracker_from_row(winner)


def record_tracker_decision(
    url: str,
    tracker_id: str,
    decision: EngineeringDecision | str | None,
    target_date: date | None = None,
    fixed_in: str | None = None,
    justification: str | None = None,
) -> Tracker:
    """Store engineering's decision on a tracker, replacing any earlier one.

    A None decision clears it. Raises TrackerNotFound for an unknown id and ValueError
    for an unknown decision.
    """
    decision = EngineeringDecision(decision) if decision is not None else None
    row_id = parse_tracker_id(tracker_id)

    with session_scope(url) as session:
        row = session.get(TrackerRow, row_id)
        if row is None:
            raise TrackerNotFound(f"tracker {tracker_id} not found")

        row.decision = decision.value if decision is not None else None
        row.target_date = target_date
        row.fixed_in = fixed_in
        row.justification = justification
        row.updated_at = utc_now()
        session.add(row)
        session.flush()
        return tracker_from_row(row)


def get_tracker(url: str, tracker_id: str) -> Tracker:
    """Read one tracker by its `TRK-<n>` id, raising TrackerNotFound if it does not exist."""
    with session_scope(url) as session:
        row = session.get(TrackerRow, parse_tracker_id(tracker_id))
        if row is None:
            raise TrackerNotFound(f"tracker {tracker_id} not found")
        return tracker_from_row(row)


def list_trackers(url: str, incident_id: str) -> list[Tracker]:
    """List an incident's trackers in the order they were filed."""
    with session_scope(url) as session:
        statement = (
            select(TrackerRow).where(TrackerRow.incident_id == incident_id).order_by(TrackerRow.id)
        )
        return [tracker_from_row(row) for row in session.exec(statement)]


def keep_report(
    url: str,
    digest: str,
    incident_id: str,
    file: str,
    format: str,
    received_at: datetime,
    raw: str,
) -> bool:
    """Store a raw report unless one with the same digest is stored, and return whether it did.

    Raises ValueError for text containing NUL, which PostgreSQL text columns reject.
    """
    if "\x00" in raw:
        raise ValueError(f"report {file} contains a NUL character and cannot be stored as text")

    with session_scope(url) as session:
        if session.get(ReportRow, digest) is not None:
            return False

    try:
        with session_scope(url) as session:
            session.add(
                ReportRow(
                    digest=digest,
                    incident_id=incident_id,
                    file=file,
                    format=format,
                    # UTC, because SQLite would store a local time without its offset.
                    received_at=received_at.astimezone(UTC),
                    raw=raw,
                )
            )
        return True
    except IntegrityError:
        return False


def publish_trackers(url: str, incident_id: str, components: dict[str, str | None]) -> int:
    """Make an incident's private trackers public, with their components in plain text.

    `components` maps tracker ids to the plain component names; returns how many
    trackers changed, so running it again changes nothing.
    """
    changed = 0
    with session_scope(url) as session:
        rows = session.exec(select(TrackerRow).where(TrackerRow.incident_id == incident_id, TrackerRow.public == False))  # noqa: E712
        for row in rows:
            row.public = True
            row.component = components.get(f"{TRACKER_PREFIX}{row.id}", row.component)
            row.updated_at = utc_now()
            session.add(row)
            changed += 1
    return changed


def find_tracker_row(url: str, incident_id: str, product: str, stream: str) -> TrackerRow | None:
    """Read the tracker row of an incident's product stream, if there is one."""
    statement = select(TrackerRow).where(
        TrackerRow.incident_id == incident_id,
        TrackerRow.product == product,
        TrackerRow.stream == stream,
    )
    with session_scope(url) as session:
        return session.exec(statement).first()


def parse_tracker_id(tracker_id: str) -> int:
    """Return the row id inside a `TRK-<n>` tracker id, raising TrackerNotFound if malformed."""
    number = tracker_id.removeprefix(TRACKER_PREFIX)
    if not tracker_id.startswith(TRACKER_PREFIX) or not (number.isascii() and number.isdigit()):
        raise TrackerNotFound(f"tracker id {tracker_id!r} is invalid: expected {TRACKER_PREFIX}<number>")
    return int(number)


def tracker_from_row(row: TrackerRow) -> Tracker:
    """Convert a tracker row to the `Tracker` the workflow holds."""
    return Tracker(
        id=f"{TRACKER_PREFIX}{row.id}",
        product=row.product,
        stream=row.stream,
        component=row.component,
        owner=row.owner,
        public=row.public,
        decision=row.decision,
        target_date=row.target_date,
        fixed_in=row.fixed_in,
        justification=row.justification,
    )
