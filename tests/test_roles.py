"""Roles, the two-person rule and Major Incident rules, as plain functions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from irp import checklist
from irp.decisions import take_decision
from irp.policy import parse_policy
from models.incident import (
    Affect,
    Impact,
    Incident,
    MajorIncidentState,
    Phase,
    Rejection,
    SourceRef,
    Tracker,
    TriageOutcome,
)
from models.records import AffectStatus

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)

POLICY = parse_policy(
    {
        "roles": {
            "people": {
                "tina": ["triage"],
                "tom": ["triage"],
                "ada": ["assessor"],
                "lee": ["psirt_lead"],
                "lou": ["legal"],
                "cam": ["communications"],
            },
            "owners": {"Acme/2.x": ["dev-a"]},
        }
    }
)


def incident(phase: Phase = Phase.triage) -> Incident:
    """Build an incident whose automatic triage found Acme/2.x affected."""
    found = Incident(
        id="CVE-2026-71001",
        phase=phase,
        matched=True,
        sources=[SourceRef(file="r.json", format="cve5", digest="0" * 64, received_at=NOW)],
        affects=[Affect(product="Acme", stream="2.x", status=AffectStatus.affected, reason="range")],
    )
    if phase != Phase.triage:
        found.triage = TriageOutcome.affected
        found.trackers = [Tracker(id="TRK-1", product="Acme", stream="2.x")]
    return found


def decide(target: Incident, signal: str, **payload):
    """Take a decision under the test policy with a reason filled in."""
    return take_decision(target, signal, {"reason": "because", **payload}, NOW, POLICY)


@pytest.mark.parametrize(
    ("phase", "signal", "payload", "allowed"),
    [
        (Phase.triage, "triage", {"by": "tina", "decision": "affected"}, True),
        (Phase.triage, "triage", {"by": "ada", "decision": "affected"}, False),
        (Phase.triage, "triage", {"by": "lee", "decision": "affected"}, True),
        (Phase.triage, "triage", {"by": "stranger", "decision": "affected"}, False),
        (Phase.assessment, "assess", {"by": "ada", "impact": "Low"}, True),
        (Phase.assessment, "assess", {"by": "tina", "impact": "Low"}, False),
        (Phase.assessment, "tracker_decision", {"by": "dev-a", "tracker": "2.x", "decision": "defer"}, True),
        (Phase.assessment, "tracker_decision", {"by": "ada", "tracker": "2.x", "decision": "defer"}, False),
        (Phase.assessment, "tracker_decision", {"by": "lee", "tracker": "2.x", "decision": "defer"}, True),
        (Phase.assessment, "embargo", {"by": "tina", "action": "set", "public_date": "2027-01-01T00:00:00Z"}, False),
        (Phase.assessment, "embargo", {"by": "lee", "action": "set", "public_date": "2027-01-01T00:00:00Z"}, True),
        (Phase.assessment, "major_incident", {"by": "ada", "state": "requested"}, True),
        (Phase.assessment, "hold", {"by": "cam"}, False),
        (Phase.assessment, "comment", {"by": "lou", "text": "noted"}, True),
    ],
)
def test_role_decides_who_may_decide(phase: Phase, signal: str, payload: dict, allowed: bool):
    outcome = decide(incident(phase), signal, **payload)
    assert isinstance(outcome, Rejection) is not allowed
    if not allowed:
        assert payload["by"] in outcome.reason


def test_roles_are_open_without_people():
    target = incident()
    outcome = take_decision(target, "triage", {"by": "anyone", "reason": "r", "decision": "affected"}, NOW, parse_policy({}))
    assert not isinstance(outcome, Rejection)


def test_dismissal_of_a_match_waits_for_second_analyst():
    target = incident()
    decide(target, "triage", by="tina", decision="not_affected")
    assert target.triage is None
    assert target.pending_dismissal.by == "tina"
    assert "dismissal approved by a second analyst" in checklist.open_items(target, Phase.triage)

    own = decide(target, "approve_dismissal", by="tina", approved=True)
    assert "cannot approve it" in own.reason
    assessor = decide(target, "approve_dismissal", by="ada", approved=True)
    assert "needs the psirt_lead or triage role" in assessor.reason

    decide(target, "approve_dismissal", by="tom", approved=True)
    assert target.triage == TriageOutcome.not_affected
    assert target.resolution == "not_affected"
    assert target.pending_dismissal is None


def test_refused_dismissal_reopens_triage():
    target = incident()
    decide(target, "triage", by="tina", decision="false_positive")
    decide(target, "approve_dismissal", by="lee", approved=False)
    assert target.pending_dismissal is None
    assert target.triage is None
    assert target.resolution is None


def test_dismissal_without_match_needs_no_second_person():
    target = incident()
    target.affects[0].status = AffectStatus.not_affected
    decide(target, "triage", by="tina", decision="not_affected")
    assert target.triage == TriageOutcome.not_affected


def test_major_incident_needs_lead_and_signoffs():
    target = incident(Phase.assessment)
    assert "only the PSIRT lead" in decide(target, "major_incident", by="ada", state="approved").reason
    assert "needs a pending" in decide(target, "major_incident", by="lee", state="approved").reason

    decide(target, "major_incident", by="ada", state="requested")
    decide(target, "major_incident", by="lee", state="approved")
    assert target.major_incident == MajorIncidentState.approved

    no_statement = decide(target, "approve_statement", by="lou", role="legal", approved=True)
    assert "no statement" in no_statement.reason
    decide(target, "assess", by="ada", impact="Critical", statement="We are fixing it.", mitigation="Disable X.")

    wrong_role = decide(target, "approve_statement", by="lee", role="legal", approved=True)
    assert "does not have the legal role" in wrong_role.reason
    decide(target, "approve_statement", by="lou", role="legal", approved=True)
    open_items = checklist.open_items(target, Phase.assessment)
    assert "legal approved the statement" not in open_items
    assert "communications approved the statement" in open_items

    decide(target, "assess", by="ada", statement="Reworded statement.")
    assert target.statement_approvals == {}
    assert target.impact == Impact.critical
