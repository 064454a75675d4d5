"""Embargoes, deadlines and escalations on the time-skipping server."""

from __future__ import annotations

import dataclasses
import email
from datetime import UTC, timedelta
from pathlib import Path

import pytest
import yaml
from aiosmtpd.controller import Controller
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from irp.settings import Settings
from models.incident import IncidentStatus
from tests.builders import CVSS_VECTOR, cve_record
from tests.conftest import free_port
from tests.test_incident_workflow import (  # noqa: F401 - fixtures used by name
    start_incident,
    terminate_leftovers,
    triaged,
    two_streams,
    wait_for,
)
from workflows import search_attributes
from worker import build_worker

pytestmark = pytest.mark.timeout(120)

SHORT_LADDER = {
    "version": "short-ladder",
    "triage_deadline": "PT20S",
    "escalation": [
        {"name": "owner", "notify": ["owner"]},
        {"name": "team lead", "notify": ["team_lead"], "after": "PT10S"},
        {"name": "PSIRT manager", "notify": ["psirt_manager", "psirt_lead"], "after": "PT10S"},
    ],
    "recipients": {
        "owner": ["queue@example.org"],
        "team_lead": ["lead@example.org"],
        "psirt_lead": ["psirt-lead@example.org"],
        "psirt_manager": ["manager@example.org"],
    },
}


def with_policy(settings: Settings, tmp_path: Path, document: dict) -> Settings:
    """Write a policy file and return settings that use it."""
    path = tmp_path / "policy.yml"
    path.write_text(yaml.safe_dump(document))
    return dataclasses.replace(settings, policy_file=path)


async def status_of(handle: WorkflowHandle) -> IncidentStatus:
    return await handle.query("status", result_type=IncidentStatus)


async def test_embargo_lifts_at_its_instant(clock_env: WorkflowEnvironment, two_streams: Settings, tmp_path: Path):
    client = clock_env.client
    async with build_worker(client, two_streams, workflow_failure_exception_types=[Exception]):
        handle = await start_incident(client, two_streams, tmp_path, cve_record("CVE-2026-60001"))
        opened = (await wait_for(handle, triaged)).opened_at
        public_date = opened + timedelta(days=14)
        await handle.signal("embargo", {"by": "lead", "reason": "CRD agreed", "action": "set", "public_date": public_date.isoformat()})
        status = await wait_for(handle, lambda s: s.embargo.embargoed)
        assert status.embargo.public_date == public_date

        await clock_env.sleep(timedelta(days=13, hours=23))
        assert (await status_of(handle)).embargo.embargoed

        await clock_env.sleep(timedelta(hours=2))
        status = await wait_for(handle, lambda s: not s.embargo.embargoed)
        assert abs(status.embargo.lifted_at - public_date) < timedelta(seconds=1)
        assert status.embargo.lifted_because == "public date reached"
        await handle.terminate("test finished")


async def test_moved_embargo_rearms(clock_env: WorkflowEnvironment, two_streams: Settings, tmp_path: Path):
    client = clock_env.client
    async with build_worker(client, two_streams, workflow_failure_exception_types=[Exception]):
        handle = await start_incident(client, two_streams, tmp_path, cve_record("CVE-2026-60002"))
        opened = (await wait_for(handle, triaged)).opened_at
        first, later = opened + timedelta(days=2), opened + timedelta(days=5)
        await handle.signal("embargo", {"by": "lead", "reason": "CRD", "action": "set", "public_date": first.isoformat()})
        await handle.signal("embargo", {"by": "lead", "reason": "vendor needs time", "action": "move", "public_date": later.isoformat()})
        await wait_for(handle, lambda s: s.embargo.public_date == later)

        await clock_env.sleep(timedelta(days=3))
        assert (await status_of(handle)).embargo.embargoed

        await clock_env.sleep(timedelta(days=2, hours=1))
        status = await wait_for(handle, lambda s: not s.embargo.embargoed)
        assert abs(status.embargo.lifted_at - later) < timedelta(seconds=1)
        await handle.terminate("test finished")


async def test_leaked_embargo_lifts_at_once(clock_env: WorkflowEnvironment, two_streams: Settings, tmp_path: Path):
    client = clock_env.client
    async with build_worker(client, two_streams, workflow_failure_exception_types=[Exception]):
        handle = await start_incident(client, two_streams, tmp_path, cve_record("CVE-2026-60003"))
        opened = (await wait_for(handle, triaged)).opened_at
        public_date = (opened + timedelta(days=7)).isoformat()
        await handle.signal("embargo", {"by": "lead", "reason": "CRD", "action": "set", "public_date": public_date})
        await handle.signal("embargo", {"by": "lead", "reason": "posted on a forum", "action": "leaked"})

        status = await wait_for(handle, lambda s: s.embargo.lifted_at is not None)
        assert status.embargo.lifted_because == "leaked"
        assert status.embargo.lifted_at - opened < timedelta(days=1)
        await handle.terminate("test finished")


async def test_embargo_past_maximum_escalates(
    clock_env: WorkflowEnvironment, two_streams: Settings, tmp_path: Path
):
    settings = with_policy(two_streams, tmp_path, SHORT_LADDER | {"embargo": {"maximum": "14 days"}})
    client = clock_env.client
    async with build_worker(client, settings, workflow_failure_exception_types=[Exception]):
        handle = await start_incident(client, settings, tmp_path, cve_record("CVE-2026-60004"))
        opened = (await wait_for(handle, triaged)).opened_at
        public_date = (opened + timedelta(days=30)).isoformat()
        await handle.signal("embargo", {"by": "lead", "reason": "CRD", "action": "set", "public_date": public_date})

        status = await wait_for(handle, lambda s: any(e.deadline == "embargo maximum" for e in s.escalations))
        escalation = next(e for e in status.escalations if e.deadline == "embargo maximum")
        assert escalation.recipients == ["psirt-lead@example.org"]
        assert status.embargo.embargoed

        # The time-skipping server stops the clock while any activity is outstanding, even one
        # of a terminated workflow, so let the email go out before ending the incident.
        await wait_for(handle, lambda s: any(settings.outbox_dir.glob("*embargo*.eml")))
        await handle.terminate("test finished")


async def test_triage_deadline_skips_weekend_and_holiday(
    clock_env: WorkflowEnvironment, two_streams: Settings, tmp_path: Path
):
    today = (await clock_env.get_current_time()).astimezone(UTC).date()
    weekdays = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    weekend = [weekdays[(today.weekday() + offset) % 7] for offset in (1, 2)]
    holiday = today + timedelta(days=3)
    policy = {"triage_deadline": "3 business days", "calendar": {"weekend": weekend, "holidays": [holiday.isoformat()]}}
    settings = with_policy(two_streams, tmp_path, policy)
    client = clock_env.client
    async with build_worker(client, settings, workflow_failure_exception_types=[Exception]):
        handle = await start_incident(client, settings, tmp_path, cve_record("CVE-2026-60005"))
        status = await wait_for(handle, lambda s: s.deadlines)
        if status.opened_at.date() != today:
            pytest.skip("the incident opened on another day than the policy was written for (midnight UTC)")

        triage = status.deadlines[0]
        assert triage.due == status.opened_at + timedelta(days=6)
        assert triage.due.weekday() == (today.weekday() + 6) % 7
        await handle.terminate("test finished")


async def test_ladder_steps_at_intervals(clock_env: WorkflowEnvironment, two_streams: Settings, tmp_path: Path):
    settings = with_policy(two_streams, tmp_path, SHORT_LADDER)
    client = clock_env.client
    async with build_worker(client, settings, workflow_failure_exception_types=[Exception]):
        handle = await start_incident(client, settings, tmp_path, cve_record("CVE-2026-60006"))
        opened = (await wait_for(handle, triaged)).opened_at
        assert not (await handle.describe()).typed_search_attributes.get(search_attributes.AT_RISK)

        await clock_env.sleep(timedelta(seconds=60))
        status = await wait_for(handle, lambda s: len(s.escalations) == 4)

        steps = [(e.level, e.name, round((e.at - opened).total_seconds())) for e in status.escalations]
        assert steps == [(0, "reminder", 15), (1, "owner", 20), (2, "team lead", 30), (3, "PSIRT manager", 40)]
        assert status.escalations[3].recipients == ["manager@example.org", "psirt-lead@example.org"]
        assert status.deadlines[0].state == "missed"
        assert [d.signal for d in status.decisions].count("escalation") == 3

        described = await handle.describe()
        assert described.typed_search_attributes.get(search_attributes.AT_RISK) is True
        assert described.typed_search_attributes.get(search_attributes.ESCALATION_LEVEL) == 3

        outbox = sorted((settings.outbox_dir).glob("*.eml"))
        assert len(outbox) == 4
        messages = [email.message_from_bytes(path.read_bytes()) for path in outbox]
        assert {m["To"] for m in messages} == {
            "queue@example.org",
            "lead@example.org",
            "manager@example.org, psirt-lead@example.org",
        }
        assert all("Heap overflow" not in m.get_payload() or "Title:" in m.get_payload() for m in messages)

        await handle.signal("triage", {"by": "alice", "reason": "late but done", "decision": "not_affected"})
        await handle.signal("approve_dismissal", {"by": "bob", "reason": "agreed", "approved": True})
        final = await handle.result()
    assert final.deadlines[0].state == "met"


async def test_hold_time_is_not_counted(clock_env: WorkflowEnvironment, two_streams: Settings, tmp_path: Path):
    settings = with_policy(two_streams, tmp_path, SHORT_LADDER)
    client = clock_env.client
    async with build_worker(client, settings, workflow_failure_exception_types=[Exception]):
        handle = await start_incident(client, settings, tmp_path, cve_record("CVE-2026-60007"))
        opened = (await wait_for(handle, triaged)).opened_at
        await handle.signal("hold", {"by": "alice", "reason": "waiting on the reporter"})
        held = await wait_for(handle, lambda s: s.holds)
        await clock_env.sleep(timedelta(minutes=10))
        assert (await status_of(handle)).escalations == []

        await handle.signal("resume", {"by": "alice", "reason": "reporter answered"})
        status = await wait_for(handle, lambda s: s.holds[-1].end is not None)
        hold = status.holds[-1]
        assert hold.end - hold.start >= timedelta(minutes=10)
        assert status.deadlines[0].due == opened + timedelta(seconds=20) + (hold.end - held.holds[-1].start)

        await clock_env.sleep(timedelta(seconds=25))
        status = await wait_for(handle, lambda s: any(e.level == 1 for e in s.escalations))
        first_escalation = next(e for e in status.escalations if e.level == 1)
        assert abs(first_escalation.at - status.deadlines[0].due) < timedelta(seconds=1)
        await handle.terminate("test finished")


async def test_impact_change_recomputes_fix_deadline(
    clock_env: WorkflowEnvironment, two_streams: Settings, tmp_path: Path
):
    client = clock_env.client
    async with build_worker(client, two_streams, workflow_failure_exception_types=[Exception]):
        handle = await start_incident(client, two_streams, tmp_path, cve_record("CVE-2026-60008"))
        opened = (await wait_for(handle, triaged)).opened_at
        await handle.signal("triage", {"by": "alice", "reason": "ships", "decision": "affected"})
        await handle.signal("assess", {"by": "bob", "reason": "r", "impact": "Moderate", "cvss_vector": CVSS_VECTOR})
        status = await wait_for(handle, lambda s: any(d.name.startswith("fix") for d in s.deadlines))
        fix = next(d for d in status.deadlines if d.name.startswith("fix"))
        assert fix.due == opened + timedelta(days=90)

        await handle.signal("assess", {"by": "bob", "reason": "exploit published", "impact": "Critical"})
        status = await wait_for(handle, lambda s: s.impact == "Critical")
        fix = next(d for d in status.deadlines if d.name.startswith("fix"))
        assert fix.due == opened + timedelta(days=30)
        assert fix.policy == "standard Critical: 30 days"
        await handle.terminate("test finished")


class CollectingHandler:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.envelopes: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.content)
        self.envelopes.append((sorted(envelope.rcpt_tos), message["Subject"]))
        return "250 OK"


async def test_escalations_reach_smtp_server(clock_env: WorkflowEnvironment, two_streams: Settings, tmp_path: Path):
    handler = CollectingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        policy = SHORT_LADDER | {"notifications": {"smtp_host": "127.0.0.1", "smtp_port": port, "sender": "irp@example.org"}}
        settings = with_policy(two_streams, tmp_path, policy)
        client = clock_env.client
        async with build_worker(client, settings, workflow_failure_exception_types=[Exception]):
            handle = await start_incident(client, settings, tmp_path, cve_record("CVE-2026-60009"))
            await wait_for(handle, triaged)
            await clock_env.sleep(timedelta(seconds=60))
            await wait_for(handle, lambda s: len(s.escalations) == 4)
            await handle.terminate("test finished")
    finally:
        controller.stop()

    recipients = [envelope[0] for envelope in handler.envelopes]
    assert recipients == [
        ["queue@example.org"],
        ["queue@example.org"],
        ["lead@example.org"],
        ["manager@example.org", "psirt-lead@example.org"],
    ]
    assert "triage missed, escalated to team lead" in handler.envelopes[2][1]
