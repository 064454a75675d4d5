"""Record the golden incident histories in tests/golden/ on the time-skipping server: `make golden`.

Re-record only after a deliberate, incompatible change to the incident workflow; a change that
running incidents must survive goes behind `workflow.patched(...)` and leaves these files alone.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from temporalio.api.enums.v1 import IndexedValueType  # noqa: E402
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest  # noqa: E402
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError  # noqa: E402
from temporalio.testing import WorkflowEnvironment  # noqa: E402

from irp.audit.history import write_history  # noqa: E402
from irp.codec import KEYS_VARIABLE, SWITCH_VARIABLE, build_data_converter  # noqa: E402
from irp.intake import deliver, read_source  # noqa: E402
from irp.inventory import load_sbom  # noqa: E402
from irp.settings import Settings  # noqa: E402
from models.decisions import DecisionRequest  # noqa: E402
from models.incident import DecisionRecord, IncidentStatus  # noqa: E402
from tests.builders import CVSS_VECTOR, SHORT_LADDER_POLICY, cve_record, cyclonedx_sbom, write_json  # noqa: E402
from workflows import search_attributes  # noqa: E402
from worker import build_worker  # noqa: E402

GOLDEN_DIR = REPO / "tests" / "golden"

# TEST-ONLY KEY. It encrypts the golden histories so that CI can decrypt and replay them.
# It protects nothing and must never be used for real incidents.
GOLDEN_CODEC_KEYS = "golden-test-only:Sl2pmuTVoJs8zwlPE0iQ62fSyRkku++pm5ZSD+egnTU="

# A ladder short enough to miss on the time-skipping server within seconds of real time.
SHORT_LADDER = {**SHORT_LADDER_POLICY, "version": "golden-short-ladder"}

WAIT_ATTEMPTS = 400


@dataclasses.dataclass
class Scenario:
    """One recorded incident: what it walks through and the policy it runs under."""

    name: str
    incident_id: str
    run: Callable[[Recording], Awaitable[None]]
    policy: dict[str, Any] | None = None
    record_state: str = "PUBLISHED"


class Recording:
    """An incident being driven through a scenario on the time-skipping server."""

    def __init__(self, env: WorkflowEnvironment, settings: Settings, work_dir: Path, scenario: Scenario) -> None:
        self.env = env
        self.client: Client = env.client
        self.settings = settings
        self.work_dir = work_dir
        self.scenario = scenario
        self.handle: WorkflowHandle | None = None

    async def start(self) -> IncidentStatus:
        """Take the scenario's CVE record in and wait for automatic triage."""
        record = cve_record(self.scenario.incident_id, state=self.scenario.record_state)
        path = write_json(self.work_dir / f"{self.scenario.incident_id}.json", record)
        await deliver(self.client, self.settings, read_source(path, datetime.now(UTC)))
        self.handle = self.client.get_workflow_handle(self.scenario.incident_id, result_type=IncidentStatus)
        return await self.wait_for(lambda status: status.matched or status.phase == "closed")

    async def signal(self, name: str, payload: Any) -> None:
        """Send a decision as a signal, as the Temporal UI or `temporal workflow signal` does."""
        await self.handle.signal(name, payload)

    async def decide(self, signal: str, payload: dict[str, Any]) -> bool:
        """Send a decision as `irp decide` does: the `decide` update, then `rejected_decision` when it is rejected."""
        try:
            await self.handle.execute_update(
                "decide", DecisionRequest(signal=signal, input=payload), result_type=DecisionRecord
            )
            return True
        except WorkflowUpdateFailedError as error:
            why = str(error.cause) if error.cause else str(error)
            await self.handle.signal("rejected_decision", {"signal": signal, "input": payload, "reason": why})
            return False

    async def status(self) -> IncidentStatus:
        """Query the incident's status."""
        return await self.handle.query("status", result_type=IncidentStatus)

    async def wait_for(self, predicate: Callable[[IncidentStatus], bool]) -> IncidentStatus:
        """Query the status until the predicate holds."""
        for _ in range(WAIT_ATTEMPTS):
            status = await self.status()
            if predicate(status):
                return status
            await asyncio.sleep(0.05)
        raise RuntimeError(f"{self.scenario.name}: condition never held; phase {status.phase}")

    async def tracker_id(self) -> str:
        """Wait for the first tracker and return its id."""
        status = await self.wait_for(lambda s: bool(s.trackers))
        return status.trackers[0].id


async def walk_every_phase(incident: Recording) -> None:
    """Triage, assessment, closure and closed, with rejected signals and updates on the way."""
    await incident.start()
    await incident.signal("triage", {"by": "eve", "reason": "no decision field"})
    await incident.signal("close", {"by": "eve", "reason": "too early", "resolution": "fixed"})
    await incident.signal("assign", {"by": "alice", "reason": "queue captain", "owner": "alice@example.org"})
    await incident.signal("triage", {"by": "alice", "reason": "widget 2.3.0 ships in 2.x", "decision": "affected"})
    tracker = await incident.tracker_id()

    rejected = await incident.decide("assess", {"by": "bob", "reason": "typo in impact", "impact": "Severe"})
    assert not rejected, "the decide update accepted an unknown impact"
    await incident.decide(
        "assess", {"by": "bob", "reason": "remote, no auth", "impact": "Important", "cvss_vector": CVSS_VECTOR}
    )
    await incident.signal("comment", {"by": "carol", "text": "fix lands in 2.3.1"})
    await incident.signal(
        "tracker_decision",
        {"by": "carol", "reason": "planned", "tracker": tracker, "decision": "fix", "target_date": "2027-01-15"},
    )
    await incident.signal(
        "tracker_decision",
        {"by": "carol", "reason": "released", "tracker": tracker, "decision": "fixed", "fixed_in": "2.3.1"},
    )
    await incident.handle.result()


async def rejected_record(incident: Recording) -> None:
    """A REJECTED CVE record: the incident closes as rejected without a decision."""
    await incident.start()
    await incident.handle.result()


async def embargo_and_hold(incident: Recording) -> None:
    """Set, move and reach an embargo's public date; hold and resume the clocks; then close."""
    opened = (await incident.start()).opened_at
    await incident.signal("triage", {"by": "alice", "reason": "ships in 2.x", "decision": "affected"})
    tracker = await incident.tracker_id()
    await incident.signal(
        "embargo",
        {"by": "lead", "reason": "CRD agreed", "action": "set", "public_date": (opened + timedelta(days=5)).isoformat()},
    )
    await incident.signal(
        "embargo",
        {"by": "lead", "reason": "vendor ready early", "action": "move",
         "public_date": (opened + timedelta(days=3)).isoformat()},
    )
    await incident.signal("hold", {"by": "alice", "reason": "waiting on the reporter"})
    await incident.wait_for(lambda s: bool(s.holds))
    await incident.env.sleep(timedelta(hours=6))
    await incident.signal("resume", {"by": "alice", "reason": "reporter answered"})
    await incident.wait_for(lambda s: s.holds[-1].end is not None)

    await incident.env.sleep(timedelta(days=3, hours=1))
    await incident.wait_for(lambda s: not s.embargo.embargoed)
    await incident.signal(
        "assess", {"by": "bob", "reason": "local only", "impact": "Moderate", "cvss_vector": CVSS_VECTOR}
    )
    await incident.signal(
        "tracker_decision",
        {"by": "carol", "reason": "released", "tracker": tracker, "decision": "fixed", "fixed_in": "2.3.1"},
    )
    await incident.handle.result()


async def missed_deadline(incident: Recording) -> None:
    """Let the triage deadline pass through every escalation level, then dismiss with a second analyst."""
    opened = (await incident.start()).opened_at
    await incident.env.sleep(timedelta(seconds=60))
    await incident.wait_for(lambda s: len(s.escalations) == 4)

    await incident.signal(
        "embargo",
        {"by": "lead", "reason": "CRD", "action": "set", "public_date": (opened + timedelta(days=7)).isoformat()},
    )
    await incident.signal("embargo", {"by": "lead", "reason": "posted on a forum", "action": "leaked"})
    await incident.wait_for(lambda s: s.embargo.lifted_at is not None)
    await incident.signal("triage", {"by": "alice", "reason": "not shipped after all", "decision": "not_affected"})
    await incident.signal("approve_dismissal", {"by": "bob", "reason": "checked the build", "approved": True})
    await incident.handle.result()


async def major_incident(incident: Recording) -> None:
    """A Major Incident: requested, approved, statement signed off by legal and communications, reviewed at closure."""
    await incident.start()
    await incident.signal("triage", {"by": "alice", "reason": "ships in 2.x", "decision": "affected"})
    tracker = await incident.tracker_id()
    await incident.signal("major_incident", {"by": "alice", "reason": "wormable", "state": "requested"})
    await incident.signal("major_incident", {"by": "lead", "reason": "agreed", "state": "approved"})
    await incident.signal(
        "assess",
        {"by": "bob", "reason": "remote, no auth", "impact": "Critical", "cvss_vector": CVSS_VECTOR,
         "statement": "Update to 2.3.1.", "mitigation": "Block port 8443."},
    )
    await incident.signal("approve_statement", {"by": "lex", "reason": "reviewed", "role": "legal", "approved": True})
    await incident.signal(
        "approve_statement", {"by": "cam", "reason": "reviewed", "role": "communications", "approved": True}
    )
    await incident.signal(
        "tracker_decision",
        {"by": "carol", "reason": "released", "tracker": tracker, "decision": "fixed", "fixed_in": "2.3.1"},
    )
    await incident.handle.result()


SCENARIOS = [
    Scenario("every-phase", "CVE-2026-70001", walk_every_phase),
    Scenario("rejected-record", "CVE-2026-70002", rejected_record, record_state="REJECTED"),
    Scenario("embargo-hold", "CVE-2026-70003", embargo_and_hold),
    Scenario("missed-deadline", "CVE-2026-70004", missed_deadline, policy=SHORT_LADDER),
    Scenario("major-incident", "CVE-2026-70005", major_incident),
]


async def start_environment(settings: Settings) -> WorkflowEnvironment:
    """Start the time-skipping server with the encrypting data converter and irp's search attributes."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=build_data_converter(settings),
        test_server_existing_path=str(Path(sys.executable).parent / "temporal-test-server"),
    )
    indexed = {key.name: IndexedValueType.ValueType(key.indexed_value_type.value) for key in search_attributes.ALL}
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(namespace=env.client.namespace, search_attributes=indexed)
    )
    return env


def scenario_settings(work_dir: Path, scenario: Scenario) -> Settings:
    """Build settings with a fresh home, the two demo streams and the scenario's policy."""
    home = work_dir / scenario.name
    home.mkdir()
    settings = Settings(
        home=home,
        database_url=f"sqlite:///{home / 'irp.db'}",
        temporal_address="unused",
        temporal_namespace="default",
        ui_port=0,
        task_queue=f"golden-{scenario.name}-{uuid.uuid4()}",
    )
    old = write_json(home / "old.cdx.json", cyclonedx_sbom([("widget", "2.3.0")]))
    new = write_json(home / "new.cdx.json", cyclonedx_sbom([("widget", "2.5.0")]))
    load_sbom(settings.database_url, old, product="Acme Gateway", stream="2.x")
    load_sbom(settings.database_url, new, product="Acme Gateway", stream="3.x")
    if scenario.policy is not None:
        policy_file = home / "policy.yml"
        policy_file.write_text(yaml.safe_dump(scenario.policy))
        settings = dataclasses.replace(settings, policy_file=policy_file)
    return settings


async def record(output_dir: Path = GOLDEN_DIR) -> list[Path]:
    """Run every scenario and write its history to `<output_dir>/<scenario>.json`."""
    os.environ[KEYS_VARIABLE] = GOLDEN_CODEC_KEYS
    os.environ[SWITCH_VARIABLE] = "on"
    output_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory(prefix="irp-golden-") as temporary:
        work_dir = Path(temporary)
        env = await start_environment(scenario_settings(work_dir, Scenario("converter", "", rejected_record)))
        try:
            for scenario in SCENARIOS:
                settings = scenario_settings(work_dir, scenario)
                async with build_worker(env.client, settings, workflow_failure_exception_types=[Exception]):
                    recording = Recording(env, settings, work_dir, scenario)
                    await scenario.run(recording)
                    history = await recording.handle.fetch_history()
                # The dev server and Temporal Cloud record the workflow id in the start event, the
                # time-skipping server does not: add it, so each file names its incident.
                history.events[0].workflow_execution_started_event_attributes.workflow_id = history.workflow_id
                path = output_dir / f"{scenario.name}.json"
                write_history(history, path)
                written.append(path)
                print(f"recorded {scenario.incident_id} ({scenario.name}): {len(history.events)} events in {path}")
        finally:
            await env.shutdown()
    return written


if __name__ == "__main__":
    asyncio.run(record())
