"""Business-day arithmetic, deadline planning and clock events, as plain functions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from irp.calendar import add_duration, is_business_day
from irp.deadlines import EventKind, due_events, plan_deadlines, resolve_recipients
from irp.policy import parse_policy
from models.incident import HoldPeriod, Impact, Incident, Tracker
from models.policy import Calendar, Duration

FRIDAY = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "business_days", "holidays", "expected"),
    [
        (FRIDAY, 1, [], datetime(2026, 12, 7, 10, 0, tzinfo=UTC)),
        (FRIDAY, 3, [], datetime(2026, 12, 9, 10, 0, tzinfo=UTC)),
        (FRIDAY, 3, [date(2026, 12, 8)], datetime(2026, 12, 10, 10, 0, tzinfo=UTC)),
        (datetime(2026, 12, 5, 9, 0, tzinfo=UTC), 1, [], datetime(2026, 12, 7, 9, 0, tzinfo=UTC)),
        (datetime(2026, 12, 23, 12, 0, tzinfo=UTC), 2, [date(2026, 12, 24), date(2026, 12, 25)], datetime(2026, 12, 29, 12, 0, tzinfo=UTC)),
    ],
)
def test_add_business_days(start: datetime, business_days: int, holidays: list[date], expected: datetime):
    calendar = Calendar(holidays=holidays)
    assert add_duration(start, Duration(business_days=business_days), calendar) == expected


def test_business_days_keep_local_time_across_dst():
    calendar = Calendar(time_zone="Europe/Prague")
    friday_before_dst_end = datetime(2026, 10, 23, 7, 0, tzinfo=UTC)  # 09:00 in Prague, summer time
    due = add_duration(friday_before_dst_end, Duration(business_days=1), calendar)
    assert due == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)  # 09:00 in Prague, winter time


def test_custom_weekend_is_skipped():
    calendar = Calendar(weekend=["Friday", "Saturday"])
    assert not is_business_day(date(2026, 12, 4), calendar)
    assert is_business_day(date(2026, 12, 6), calendar)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3 business days", Duration(business_days=3)),
        ("1 business day", Duration(business_days=1)),
        ("14 days", Duration(length=timedelta(days=14))),
        ("2 weeks", Duration(length=timedelta(days=14))),
        ("48 hours", Duration(length=timedelta(hours=48))),
        ("PT30S", Duration(length=timedelta(seconds=30))),
        ("P2DT1H", Duration(length=timedelta(days=2, hours=1))),
    ],
)
def test_policy_durations_parse(text: str, expected: Duration):
    assert parse_policy({"triage_deadline": text}).triage_deadline == expected


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"triage_deadline": "soon"}, "triage_deadline: 'soon': expected a duration"),
        ({"triage_deadline": "0 days"}, "expected a positive duration"),
        ({"triage_deadline": "PT0S"}, "triage_deadline: 'PT0S': expected a duration"),
        ({"reminder_fraction": 1.5}, "reminder_fraction: 1.5: Input should be less than 1"),
        ({"calendar": {"time_zone": "Mars/Olympus"}}, "calendar.time_zone: 'Mars/Olympus': expected an IANA time zone"),
        ({"calendar": {"weekend": ["Caturday"]}}, "expected weekday names"),
        ({"calendar": {"holidays": ["next tuesday"]}}, "calendar.holidays.0: 'next tuesday'"),
        ({"sla": {"standard": {"Critical": "soon"}}}, "sla.standard.Critical: 'soon': expected a duration"),
        ({"embargo": {"readiness_lead": "2 business days"}}, "expected a fixed length"),
        ({"escalation": []}, "escalation: List should have at least 1 item"),
        ({"escalation": [{"name": "x", "notify": ["nobody"]}]}, "names `nobody`"),
        ({"triage": "3 days"}, "triage: unknown key"),
    ],
)
def test_invalid_policy_names_key(document: dict, problem: str):
    from irp.policy import InvalidPolicy

    with pytest.raises(InvalidPolicy) as invalid:
        parse_policy(document, "policy.yml")
    assert problem in str(invalid.value)


def incident_opened(at: datetime = FRIDAY) -> Incident:
    """Build an incident opened at `at` with one tracker."""
    return Incident(
        id="CVE-2026-50001",
        opened_at=at,
        trackers=[Tracker(id="TRK-1", product="Acme", stream="2.x", owner="dev@example.org")],
    )


def test_triage_deadline_from_policy():
    policy = parse_policy({"triage_deadline": "3 business days", "reminder_fraction": 0.5})
    incident = incident_opened()
    plan_deadlines(incident, policy, FRIDAY)
    triage = incident.deadlines[0]
    assert triage.name == "triage"
    assert triage.due == datetime(2026, 12, 9, 10, 0, tzinfo=UTC)
    assert triage.reminder_at == datetime(2026, 12, 6, 22, 0, tzinfo=UTC)
    assert triage.state == "pending"


def test_fix_deadline_follows_impact_and_priority():
    policy = parse_policy({})
    incident = incident_opened()
    incident.impact = Impact.important
    plan_deadlines(incident, policy, FRIDAY)
    assert incident.deadlines[1].due == FRIDAY + timedelta(days=60)

    incident.trackers[0].compliance_priority = True
    incident.impact = Impact.critical
    plan_deadlines(incident, policy, FRIDAY)
    assert incident.deadlines[1].due == FRIDAY + timedelta(days=7)
    assert incident.deadlines[1].policy == "compliance_priority Critical: 7 days"


def test_fix_clock_starts_at_embargo_lift():
    policy = parse_policy({})
    incident = incident_opened()
    incident.impact = Impact.low
    incident.embargo.embargoed = True
    incident.embargo.public_date = FRIDAY + timedelta(days=10)
    plan_deadlines(incident, policy, FRIDAY)
    assert incident.deadlines[1].started_at == FRIDAY + timedelta(days=10)
    assert incident.deadlines[1].due == FRIDAY + timedelta(days=190)


def test_hold_time_is_excluded():
    policy = parse_policy({"triage_deadline": "2 days"})
    incident = incident_opened()
    incident.holds = [HoldPeriod(start=FRIDAY + timedelta(hours=1), end=FRIDAY + timedelta(hours=7), by="a", reason="r")]
    plan_deadlines(incident, policy, FRIDAY + timedelta(hours=8))
    assert incident.deadlines[0].due == FRIDAY + timedelta(days=2, hours=6)


def test_open_hold_stops_every_deadline_event():
    policy = parse_policy({"triage_deadline": "2 days"})
    incident = incident_opened()
    incident.holds = [HoldPeriod(start=FRIDAY, by="a", reason="waiting on reporter")]
    plan_deadlines(incident, policy, FRIDAY + timedelta(days=5))
    assert incident.deadlines[0].state == "on_hold"
    assert due_events(incident, policy) == []


def test_ladder_events_follow_each_other():
    policy = parse_policy(
        {
            "triage_deadline": "PT20S",
            "escalation": [
                {"name": "owner", "notify": ["owner"]},
                {"name": "lead", "notify": ["psirt_lead"], "after": "PT10S"},
            ],
        }
    )
    incident = incident_opened()
    plan_deadlines(incident, policy, FRIDAY)
    events = [event for event in due_events(incident, policy) if event.deadline == "triage"]
    assert [(e.kind, e.level, e.at - FRIDAY) for e in events] == [
        (EventKind.reminder, 0, timedelta(seconds=15)),
        (EventKind.escalation, 1, timedelta(seconds=20)),
    ]

    triage = incident.deadlines[0]
    triage.reminded, triage.escalation_level, triage.last_escalated_at = True, 1, triage.due
    events = [event for event in due_events(incident, policy) if event.deadline == "triage"]
    assert [(e.level, e.at - FRIDAY) for e in events] == [(2, timedelta(seconds=30))]


def test_owner_recipients_fall_back_to_policy():
    policy = parse_policy({"recipients": {"owner": ["queue@example.org"], "psirt_lead": ["lead@example.org"]},
                           "escalation": [{"name": "o", "notify": ["owner", "psirt_lead", "cto@example.org"]}]})
    incident = incident_opened()
    assert resolve_recipients(["owner"], incident, "fix TRK-1", policy) == ["dev@example.org"]
    assert resolve_recipients(["owner"], incident, "triage", policy) == ["queue@example.org"]
    assert resolve_recipients(["psirt_lead", "cto@example.org"], incident, "triage", policy) == [
        "cto@example.org",
        "lead@example.org",
    ]


def test_example_policy_is_valid():
    from pathlib import Path

    from irp.policy import load_policy

    policy = load_policy(Path(__file__).resolve().parents[1] / "policy.example.yml")
    assert policy.version == "2026-12-example"
    assert policy.roles.enforced
    assert [level.name for level in policy.escalation] == ["owner", "team lead", "PSIRT manager"]


def test_partial_sla_table_keeps_defaults():
    policy = parse_policy({"sla": {"standard": {"Critical": "14 days"}}})
    assert policy.sla.standard.Critical == Duration(length=timedelta(days=14))
    assert policy.sla.standard.Important == Duration(length=timedelta(days=60))
    assert policy.sla.compliance_priority.Critical == Duration(length=timedelta(days=7))
