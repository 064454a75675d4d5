"""Decision rules and checklist derivation, as plain functions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from irp import checklist
from irp.decisions import DecisionRejected, check_decision, parse_decision, take_decision
from models.incident import Affect, Incident, Phase, SourceRef, Tracker, TriageOutcome
from models.records import AffectStatus

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"


def matched_incident(phase: Phase = Phase.triage) -> Incident:
    """Build an incident whose automatic triage found 2.x affected and 3.x not."""
    return Incident(
        id="CVE-2026-20001",
        phase=phase,
        matched=True,
        sources=[SourceRef(file="report.json", format="cve5", digest="0" * 64, received_at=NOW)],
        affects=[
            Affect(product="Acme", stream="2.x", status=AffectStatus.affected, reason="range"),
            Affect(product="Acme", stream="3.x", status=AffectStatus.not_affected, reason="fixed"),
        ],
    )


@pytest.mark.parametrize(
    ("signal", "payload", "expected"),
    [
        ("triage", {"by": "a", "reason": "r"}, "decision: Field required"),
        ("triage", {"by": "a", "reason": "r", "decision": "maybe"}, "decision: Input should be"),
        ("triage", {"by": "a", "reason": "r", "decision": "duplicate"}, "needs `duplicate_of`"),
        ("triage", {"reason": "r", "decision": "affected"}, "by: Field required"),
        ("triage", {"by": "", "reason": "r", "decision": "affected"}, "by: String should have at least 1 character"),
        ("triage", ["affected"], "expects a JSON object, got list"),
        ("triage", {"by": "a", "reason": "x" * 20_001, "decision": "affected"}, "reason: String should have at most"),
        ("assess", {"by": "a", "reason": "r", "impact": "Severe"}, "impact: Input should be"),
        ("assess", {"by": "a", "reason": "r", "cwe": "79"}, "expected a CWE id"),
        ("tracker_decision", {"by": "a", "reason": "r", "tracker": "t", "decision": "fix"}, "needs `target_date`"),
        ("tracker_decision", {"by": "a", "reason": "r", "tracker": "t", "decision": "wont_fix"}, "needs `justification`"),
        ("tracker_decision", {"by": "a", "reason": "r", "tracker": "t", "decision": "fix", "target_date": "soon"}, "target_date"),
        ("comment", {"by": "a"}, "text: Field required"),
        ("escalate", {"by": "a", "reason": "r"}, "unknown decision `escalate`"),
    ],
)
def test_parse_decision_rejects(signal: str, payload: object, expected: str):
    with pytest.raises(DecisionRejected) as rejected:
        parse_decision(signal, payload)
    assert expected in rejected.value.reason


def test_parse_decision_accepts_any_impact_case():
    decision = parse_decision("assess", {"by": "a", "reason": "r", "impact": "critical"})
    assert decision.impact == "Critical"


@pytest.mark.parametrize(
    ("phase", "signal", "payload", "expected"),
    [
        (Phase.triage, "assess", {"by": "a", "reason": "r", "impact": "Low"}, "not accepted in phase triage"),
        (Phase.triage, "triage", {"by": "a", "reason": "r", "decision": "affected", "products": ["Nope/1"]}, "unknown product or stream `Nope/1`"),
        (Phase.triage, "triage", {"by": "a", "reason": "r", "decision": "duplicate", "duplicate_of": "CVE-2026-20001"}, "duplicate of itself"),
        (Phase.assessment, "triage", {"by": "a", "reason": "r", "decision": "not_affected"}, "only an `affected` decision"),
        (Phase.assessment, "assess", {"by": "a", "reason": "r"}, "the first `assess` decision needs `impact`"),
        (Phase.assessment, "assess", {"by": "a", "reason": "r", "impact": "Low", "cvss_vector": "CVSS:3.1/AV:X"}, "invalid CVSS vector"),
        (Phase.assessment, "assess", {"by": "a", "reason": "r", "impact": "Low", "cvss_vector": "AV:N/AC:L"}, "invalid CVSS vector"),
        (Phase.assessment, "tracker_decision", {"by": "a", "reason": "r", "tracker": "TRK-9", "decision": "defer"}, "no tracker `TRK-9`"),
        (Phase.assessment, "close", {"by": "a", "reason": "r", "resolution": "done"}, "does not allow closing"),
        (Phase.closed, "comment", {"by": "a", "text": "late"}, "not accepted in phase closed"),
    ],
)
def test_check_decision_rejects(phase: Phase, signal: str, payload: dict, expected: str):
    incident = matched_incident(phase)
    incident.triage = TriageOutcome.affected if phase != Phase.triage else None
    with pytest.raises(DecisionRejected) as rejected:
        check_decision(incident, signal, parse_decision(signal, payload), NOW)
    assert expected in rejected.value.reason


def test_triage_before_matching_is_rejected():
    incident = Incident(id="CVE-2026-20002")
    outcome = take_decision(incident, "triage", {"by": "a", "reason": "r", "decision": "affected"}, NOW)
    assert "automatic triage has not finished" in outcome.reason
    assert incident.triage is None


def test_affected_without_any_stream_is_rejected():
    incident = matched_incident()
    incident.affects[0].status = AffectStatus.unknown
    outcome = take_decision(incident, "triage", {"by": "a", "reason": "r", "decision": "affected"}, NOW)
    assert "name the affected streams in `products`" in outcome.reason


def test_triage_products_mark_streams_affected():
    incident = matched_incident()
    take_decision(incident, "triage", {"by": "alice", "reason": "backport", "decision": "affected", "products": ["Acme/3.x"]}, NOW)
    assert checklist.affected_streams(incident) == [("Acme", "2.x"), ("Acme", "3.x")]
    assert incident.affects[1].decided_by == "alice"
    assert incident.decisions[0].at == NOW


def test_rejection_keeps_excerpt_and_by():
    incident = matched_incident()
    outcome = take_decision(incident, "triage", {"by": "mallory", "reason": "r", "decision": "x" * 1000}, NOW)
    assert incident.rejections == [outcome]
    assert outcome.by == "mallory"
    assert len(outcome.payload) <= 301


def test_tracker_found_by_stream_or_id():
    incident = matched_incident(Phase.assessment)
    incident.triage = TriageOutcome.affected
    incident.trackers = [Tracker(id="TRK-1", product="Acme", stream="2.x")]
    for reference in ("TRK-1", "Acme/2.x", "2.x"):
        take_decision(incident, "tracker_decision", {"by": "a", "reason": "r", "tracker": reference, "decision": "defer"}, NOW)
    assert incident.trackers[0].decision == "defer"
    assert len(incident.decisions) == 3


def test_checklist_follows_facts():
    incident = matched_incident()
    assert checklist.open_items(incident, Phase.triage) == ["triage decision made"]

    incident.triage = TriageOutcome.affected
    assert checklist.open_items(incident, Phase.assessment) == [
        "impact set",
        "CVSS vector scored",
        "one tracker per affected stream",
        "each tracker has an engineering decision",
    ]

    incident.trackers = [Tracker(id="TRK-1", product="Acme", stream="2.x", decision="fix")]
    items = {item.item: item for item in checklist.checklist(incident)}
    assert items["one tracker per affected stream"].done
    assert items["each tracker has an engineering decision"].done
    assert not items["all trackers resolved"].done
    assert items["all trackers resolved"].detail == "open: TRK-1"
