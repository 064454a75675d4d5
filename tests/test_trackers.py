"""Tests for filing engineering trackers, recording decisions and keeping raw reports."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlmodel import select

import irp.trackers
from irp.db import session_scope
from irp.trackers import (
    TrackerNotFound,
    file_tracker,
    get_tracker,
    keep_report,
    list_trackers,
    record_tracker_decision,
)
from models.incident import EngineeringDecision
from models.tracking import ReportRow, TrackerRow
from tests.db_fixtures import database_url  # noqa: F401 - pytest fixture

INCIDENT = "CVE-2026-90001"


def tracker_rows(url: str) -> list[TrackerRow]:
    """Return every tracker row in the database."""
    with session_scope(url) as session:
        return list(session.exec(select(TrackerRow)))


def as_utc(moment: datetime) -> datetime:
    """Return a stored time as an aware UTC datetime, since SQLite returns it naive."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def test_file_tracker_creates_tracker(database_url):
    tracker = file_tracker(database_url, INCIDENT, "Acme Gateway", "2.x", "http-framer", "gateway@acme.example")

    assert tracker.id.startswith("TRK-")
    assert tracker.id.removeprefix("TRK-").isdigit()
    assert tracker.product == "Acme Gateway"
    assert tracker.stream == "2.x"
    assert tracker.component == "http-framer"
    assert tracker.owner == "gateway@acme.example"
    assert tracker.decision is None
    assert tracker.resolved is False


def test_file_tracker_twice_returns_same(database_url):
    first = file_tracker(database_url, INCIDENT, "Acme Gateway", "2.x", "http-framer", "gateway@acme.example")
    second = file_tracker(database_url, INCIDENT, "Acme Gateway", "2.x", "other-component", "someone@acme.example")

    assert second == first
    assert len(tracker_rows(database_url)) == 1


def test_file_tracker_per_stream_and_incident(database_url):
    gateway_2 = file_tracker(database_url, INCIDENT, "Acme Gateway", "2.x")
    gateway_3 = file_tracker(database_url, INCIDENT, "Acme Gateway", "3.x")
    other_incident = file_tracker(database_url, "CVE-2026-90002", "Acme Gateway", "2.x")

    assert len({gateway_2.id, gateway_3.id, other_incident.id}) == 3
    assert [tracker.id for tracker in list_trackers(database_url, INCIDENT)] == [gateway_2.id, gateway_3.id]


def test_file_tracker_concurrent_callers(database_url):
    callers = 8
    barrier = threading.Barrier(callers)

    def file_after_barrier(_index: int):
        barrier.wait()
        return file_tracker(database_url, INCIDENT, "Acme Gateway", "2.x", "http-framer")

    with ThreadPoolExecutor(max_workers=callers) as executor:
        trackers = list(executor.map(file_after_barrier, range(callers)))

    assert len({tracker.id for tracker in trackers}) == 1
    assert len(tracker_rows(database_url)) == 1


def test_file_tracker_lost_race_reads_winner(database_url, monkeypatch):
    winner = file_tracker(database_url, INCIDENT, "Acme Gateway", "2.x", "http-framer")
    real_find = irp.trackers.find_tracker_row
    calls = []

    def miss_first_lookup(*arguments):
        # Pretend the row appeared between this caller's lookup and its insert.
        calls.append(arguments)
        return None if len(calls) == 1 else real_find(*arguments)

    monkeypatch.setattr(irp.trackers, "find_tracker_row", miss_first_lookup)
    loser = file_tracker(database_url, INCIDENT, "Acme Gateway", "2.x", "http-framer")

    assert loser == winner
    assert len(calls) == 2
    assert len(tracker_rows(database_url)) == 1


def test_record_decision_updates_tracker(database_url):
    tracker = file_tracker(database_url, INCIDENT, "Acme Gateway", "2.x", "http-framer")

    updated = record_tracker_decision(
        database_url, tracker.id, EngineeringDecision.fixed, date(2026, 3, 1), "2.9.4", "upgraded http-framer"
    )

    assert updated.id == tracker.id
    assert updated.decision == EngineeringDecision.fixed
    assert updated.target_date == date(2026, 3, 1)
    assert updated.fixed_in == "2.9.4"
    assert updated.justification == "upgraded http-framer"
    assert updated.resolved is True
    assert get_tracker(database_url, tracker.id) == updated


def test_record_decision_is_idempotent(database_url):
    tracker = file_tracker(database_url, INCIDENT, "Acme Gateway", "2.x")

    first = record_tracker_decision(database_url, tracker.id, "fix", date(2026, 4, 30))
    second = record_tracker_decision(database_url, tracker.id, "fix", date(2026, 4, 30))

    assert first == second
    assert first.decision == EngineeringDecision.fix
    assert first.resolved is False
    assert len(tracker_rows(database_url)) == 1


def test_record_decision_replaces_earlier(database_url):
    tracker = file_tracker(database_url, INCIDENT, "Acme Gateway", "2.x")
    record_tracker_decision(database_url, tracker.id, "fix", date(2026, 4, 30))

    final = record_tracker_decision(database_url, tracker.id, "wont_fix", justification="end of life")

    assert final.decision == EngineeringDecision.wont_fix
    assert final.target_date is None
    assert final.justification == "end of life"


def test_record_decision_none_clears(database_url):
    tracker = file_tracker(database_url, INCIDENT, "Acme Gateway", "2.x")
    record_tracker_decision(database_url, tracker.id, "defer", justification="next release")

    cleared = record_tracker_decision(database_url, tracker.id, None)

    assert cleared.decision is None
    assert cleared.justification is None


@pytest.mark.parametrize("tracker_id", ["TRK-999", "TRK-", "TRK-1x", "JIRA-1", "TRK-²"])
def test_record_decision_unknown_tracker(database_url, tracker_id):
    with pytest.raises(TrackerNotFound, match="tracker"):
        record_tracker_decision(database_url, tracker_id, "fix")


def test_record_decision_invalid_decision(database_url):
    tracker = file_tracker(database_url, INCIDENT, "Acme Gateway", "2.x")

    with pytest.raises(ValueError, match="maybe"):
        record_tracker_decision(database_url, tracker.id, "maybe")


def test_keep_report_stores_once(database_url):
    received_at = datetime(2026, 1, 20, 15, 5, tzinfo=UTC)
    arguments = dict(
        digest="a" * 64,
        incident_id=INCIDENT,
        file="CVE-2026-90001.json",
        format="cve5",
        received_at=received_at,
        raw='{"dataType": "CVE_RECORD"}',
    )

    assert keep_report(database_url, **arguments) is True
    assert keep_report(database_url, **{**arguments, "raw": "changed"}) is False

    with session_scope(database_url) as session:
        rows = list(session.exec(select(ReportRow)))
    assert len(rows) == 1
    assert rows[0].raw == '{"dataType": "CVE_RECORD"}'
    assert rows[0].file == "CVE-2026-90001.json"
    assert as_utc(rows[0].received_at) == received_at


def test_keep_report_stores_utc(database_url):
    received_at = datetime(2026, 1, 20, 17, 5, tzinfo=timezone(timedelta(hours=2)))

    keep_report(database_url, "c" * 64, INCIDENT, "report.json", "cve5", received_at, "{}")

    with session_scope(database_url) as session:
        row = session.get(ReportRow, "c" * 64)
    assert as_utc(row.received_at) == received_at


def test_keep_report_rejects_nul(database_url):
    with pytest.raises(ValueError, match="NUL"):
        keep_report(database_url, "b" * 64, INCIDENT, "bad.json", "cve5", datetime.now(UTC), "a\x00b")


def test_file_tracker_concurrent_processes(database_url):
    # Separate processes have their own engines and connections, unlike threads.
    context = multiprocessing.get_context("spawn")
    arguments = [(database_url, INCIDENT, "Acme Gateway", "2.x", "http-framer", None)] * 4

    with context.Pool(processes=4) as pool:
        trackers = pool.starmap(file_tracker, arguments)

    assert len({tracker.id for tracker in trackers}) == 1
    assert len(tracker_rows(database_url)) == 1
