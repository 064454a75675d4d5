"""The Markdown the Temporal UI shows as an incident's current details."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from irp.details import current_details
from models.incident import Deadline, EmbargoState, IncidentStatus, Phase, Rejection

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def test_details_show_deadlines_with_time_left():
    status = IncidentStatus(
        id="CVE-2026-70001",
        phase=Phase.triage,
        embargo=EmbargoState(embargoed=True, public_date=NOW + timedelta(days=2, hours=3)),
        deadlines=[
            Deadline(name="triage", started_at=NOW, due=NOW + timedelta(hours=5), reminder_at=NOW),
            Deadline(name="fix TRK-1", started_at=NOW, due=NOW - timedelta(minutes=90), reminder_at=NOW,
                     state="missed", escalation_level=2),
        ],
    )
    text = current_details(status, NOW)
    assert "- embargoed until 2026-12-06T15:00:00+00:00 (2 d 3 h left)" in text
    assert "| triage | 2026-12-04T17:00:00+00:00 | 5 h 0 min left | pending |  |" in text
    assert "| fix TRK-1 | 2026-12-04T10:30:00+00:00 | overdue by 1 h 30 min | missed | 2 |" in text


def test_details_keep_hostile_text_on_one_line():
    rejection = Rejection(signal="triage", reason="bad\n| injected | row |", at=NOW, by="eve\nmallory")
    text = current_details(IncidentStatus(id="CVE-2026-70002", rejections=[rejection]), NOW)
    line = next(line for line in text.splitlines() if line.startswith("- `triage`"))
    assert line == "- `triage` by eve mallory: bad \\| injected \\| row \\|"
