"""Tests for CSAF 2.0 VEX documents: building them from incidents and validating them."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from irp.cli.csaf import app
from irp.csaf.build import NothingToPublish, build_vex
from irp.csaf.validate import validate_document, validate_file
from models.csaf import Revision
from models.incident import (
    Affect,
    CvssScore,
    EngineeringDecision,
    Impact,
    IncidentStatus,
    Phase,
    ProductImpact,
    Tracker,
    TriageOutcome,
)
from models.records import AffectStatus

OFFICIAL_EXAMPLES = [
    "2022-evd-uc-01-a-001.json",
    "2022-evd-uc-01-f-001.json",
    "2022-evd-uc-01-na-001.json",
    "2022-evd-uc-01-ui-001.json",
    "rhsa-2021_5186.json",
]

DAY_1 = "2024-01-01T10:00:00.000Z"
DAY_2 = "2024-01-02T10:00:00.000Z"
DAY_3 = "2024-01-03T10:00:00.000Z"
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
CRITICAL_VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
XSS_NAME = "Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')"


def minimal_vex() -> dict[str, Any]:
    """Build a small valid VEX document: product-a is affected and fixed by an update, product-b is not affected."""
    return {
        "document": {
            "category": "csaf_vex",
            "csaf_version": "2.0",
            "lang": "en",
            "publisher": {"category": "vendor", "name": "Example PSIRT", "namespace": "https://psirt.example.com"},
            "title": "Minimal VEX document",
            "tracking": {
                "id": "EXAMPLE-VEX-1",
                "status": "final",
                "version": "2",
                "initial_release_date": DAY_1,
                "current_release_date": DAY_2,
                "revision_history": [
                    {"date": DAY_1, "number": "1", "summary": "Initial version."},
                    {"date": DAY_2, "number": "2", "summary": "Second version."},
                ],
            },
        },
        "product_tree": {
            "full_product_names": [
                {
                    "name": "Product A 1.0",
                    "product_id": "product-a",
                    "product_identification_helper": {"purl": "pkg:pypi/product-a@1.0"},
                },
                {"name": "Product B 2.0", "product_id": "product-b"},
            ]
        },
        "vulnerabilities": [
            {
                "cve": "CVE-2024-0001",
                "cwe": {"id": "CWE-79", "name": XSS_NAME},
                "notes": [{"category": "description", "text": "A flaw in product A."}],
                "product_status": {"known_affected": ["product-a"], "known_not_affected": ["product-b"]},
                "flags": [{"label": "component_not_present", "product_ids": ["product-b"]}],
                "remediations": [{"category": "vendor_fix", "details": "Update to 1.1.", "product_ids": ["product-a"]}],
                "scores": [
                    {
                        "products": ["product-a"],
                        "cvss_v3": {
                            "version": "3.1",
                            "vectorString": CRITICAL_VECTOR,
                            "baseScore": 9.8,
                            "baseSeverity": "CRITICAL",
                        },
                    }
                ],
            }
        ],
    }


def failed_tests(document: dict[str, Any]) -> set[str]:
    """Return the ids of the tests a document fails."""
    return {failure.test for failure in validate_document(document)}


def vulnerability(document: dict[str, Any]) -> dict[str, Any]:
    """Return the first vulnerability item."""
    return document["vulnerabilities"][0]


def tracking(document: dict[str, Any]) -> dict[str, Any]:
    """Return `/document/tracking`."""
    return document["document"]["tracking"]


def history(document: dict[str, Any], *numbers: tuple[str, str], version: str) -> None:
    """Replace the revision history with (date, number) items and set the document version."""
    tracking(document)["revision_history"] = [
        {"date": moment, "number": number, "summary": f"Version {number}."} for moment, number in numbers
    ]
    tracking(document)["version"] = version


def informational(document: dict[str, Any], *, notes: str = "summary", reference: str = "external") -> None:
    """Turn the document into an informational advisory without vulnerabilities."""
    document["document"]["category"] = "csaf_informational_advisory"
    document["document"]["notes"] = [{"category": notes, "text": "About a misconfiguration."}]
    document["document"]["references"] = [
        {"category": reference, "summary": "Details.", "url": "https://example.com/details"}
    ]
    del document["vulnerabilities"]


def set_cvss(document: dict[str, Any], **fields: Any) -> None:
    """Change fields of the first CVSS v3 object."""
    vulnerability(document)["scores"][0]["cvss_v3"].update(fields)


def add_relationship(document: dict[str, Any], product_id: str, reference: str, relates_to: str) -> None:
    """Add a relationship that defines product_id from two references."""
    document["product_tree"]["relationships"] = [
        {
            "category": "installed_on",
            "full_product_name": {"name": f"Product {product_id}", "product_id": product_id},
            "product_reference": reference,
            "relates_to_product_reference": relates_to,
        }
    ]


def add_version_branch(document: dict[str, Any], version: str) -> None:
    """Add a vendor / product_name / product_version branch defining product-c."""
    product = {"name": f"Product C {version}", "product_id": "product-c"}
    version_branch = {"category": "product_version", "name": version, "product": product}
    name_branch = {"category": "product_name", "name": "Product C", "branches": [version_branch]}
    document["product_tree"]["branches"] = [{"category": "vendor", "name": "Example", "branches": [name_branch]}]


SHA256_A = "026a37919b182ef7c63791e82c9645e2f897a3f0b73c7a6028c7febf62e93838"
SHA256_B = "0a853ce2337f0608489ac596a308dc5b7b19d35a52b10bf31261586ac368b175"


def _duplicate_hash(document: dict[str, Any]) -> None:
    helper = document["product_tree"]["full_product_names"][0]["product_identification_helper"]
    file_hashes = [{"algorithm": "sha256", "value": SHA256_A}, {"algorithm": "sha256", "value": SHA256_B}]
    helper["hashes"] = [{"filename": "product_a.so", "file_hashes": file_hashes}]


def _duplicate_group(document: dict[str, Any]) -> None:
    document["product_tree"]["product_groups"] = [
        {"group_id": "group-1", "product_ids": ["product-a", "product-b"]},
        {"group_id": "group-1", "product_ids": ["product-b", "product-a"]},
    ]


def _same_party_twice(document: dict[str, Any]) -> None:
    vulnerability(document)["involvements"] = [
        {"date": DAY_1, "party": "vendor", "status": "completed"},
        {"date": DAY_1, "party": "vendor", "status": "in_progress"},
    ]


Mutation = Callable[[dict[str, Any]], None]

# Each mutation breaks one rule of a valid document; the set lists every
# mandatory test that must then fail (some rules cannot break alone).
MANDATORY_CASES: list[tuple[str, Mutation, set[str]]] = [
    ("6.1.1", lambda d: vulnerability(d)["product_status"].update(under_investigation=["ghost"]), {"6.1.1"}),
    ("6.1.2", lambda d: d["product_tree"]["full_product_names"].append({"name": "Again", "product_id": "product-a"}), {"6.1.2"}),
    ("6.1.3", lambda d: add_relationship(d, "product-c", "product-a", "product-c"), {"6.1.3"}),
    ("6.1.4", lambda d: vulnerability(d)["remediations"][0].update(group_ids=["ghost-group"]), {"6.1.4"}),
    ("6.1.5", _duplicate_group, {"6.1.5"}),
    ("6.1.6", lambda d: vulnerability(d)["product_status"].update(under_investigation=["product-a"]), {"6.1.6"}),
    (
        "6.1.7",
        lambda d: vulnerability(d)["scores"].append(
            {
                "products": ["product-a"],
                "cvss_v3": {
                    "version": "3.1",
                    "vectorString": "CVSS:3.1/AV:L/AC:L/PR:H/UI:R/S:U/C:H/I:H/A:H",
                    "baseScore": 6.5,
                    "baseSeverity": "MEDIUM",
                },
            }
        ),
        {"6.1.7"},
    ),
    ("6.1.8", lambda d: vulnerability(d)["scores"][0]["cvss_v3"].pop("baseSeverity"), {"6.1.8"}),
    ("6.1.9", lambda d: set_cvss(d, baseScore=10.0), {"6.1.9"}),
    ("6.1.10", lambda d: set_cvss(d, attackVector="LOCAL"), {"6.1.10"}),
    ("6.1.11", lambda d: vulnerability(d)["cwe"].update(name="Improper Input Validation"), {"6.1.11"}),
    ("6.1.12", lambda d: d["document"].update(lang="EZ"), {"6.1.12"}),
    (
        "6.1.13",
        lambda d: d["product_tree"]["full_product_names"][0]["product_identification_helper"].update(purl="pkg:maven/@1.3.4"),
        {"6.1.13"},
    ),
    ("6.1.14", lambda d: history(d, (DAY_1, "1.0.0"), (DAY_2, "1.2.0"), (DAY_3, "1.1.0"), version="1.1.0"), {"6.1.14"}),
    ("6.1.15", lambda d: d["document"]["publisher"].update(category="translator"), {"6.1.15"}),
    ("6.1.16", lambda d: tracking(d).update(version="1"), {"6.1.16"}),
    ("6.1.17", lambda d: history(d, (DAY_1, "0"), version="0"), {"6.1.17", "6.1.18"}),
    ("6.1.18", lambda d: history(d, (DAY_1, "0"), (DAY_2, "1"), version="1"), {"6.1.18"}),
    ("6.1.19", lambda d: history(d, (DAY_1, "1.0.0-rc"), (DAY_2, "1.0.0"), version="1.0.0"), {"6.1.19"}),
    (
        "6.1.20",
        lambda d: history(d, (DAY_1, "1.0.0"), (DAY_2, "2.0.0"), version="2.0.0-alpha"),
        {"6.1.20", "6.1.16", "6.1.17"},
    ),
    ("6.1.21", lambda d: history(d, (DAY_1, "1"), (DAY_2, "3"), version="3"), {"6.1.21"}),
    ("6.1.22", lambda d: history(d, (DAY_1, "1"), (DAY_2, "2"), (DAY_3, "2"), version="2"), {"6.1.22"}),
    ("6.1.23", lambda d: d["vulnerabilities"].append(json.loads(json.dumps(vulnerability(d)))), {"6.1.23"}),
    ("6.1.24", _same_party_twice, {"6.1.24"}),
    ("6.1.25", _duplicate_hash, {"6.1.25"}),
    ("6.1.26", lambda d: d["document"].update(category="Security Advisory"), {"6.1.26"}),
    ("6.1.27.1", lambda d: informational(d, notes="legal_disclaimer"), {"6.1.27.1"}),
    ("6.1.27.2", lambda d: informational(d, reference="self"), {"6.1.27.2"}),
    (
        "6.1.27.3",
        lambda d: (v := vulnerability(d), informational(d), d.update(vulnerabilities=[v])),
        {"6.1.27.3"},
    ),
    ("6.1.27.4", lambda d: d.pop("product_tree"), {"6.1.27.4", "6.1.1"}),
    ("6.1.27.5", lambda d: vulnerability(d).pop("notes"), {"6.1.27.5"}),
    (
        "6.1.27.6",
        lambda d: (d["document"].update(category="csaf_security_advisory"), vulnerability(d).pop("product_status")),
        {"6.1.27.6"},
    ),
    ("6.1.27.7", lambda d: vulnerability(d).update(product_status={"recommended": ["product-a"]}), {"6.1.27.7"}),
    ("6.1.27.8", lambda d: vulnerability(d).pop("cve"), {"6.1.27.8"}),
    ("6.1.27.9", lambda d: vulnerability(d).pop("flags"), {"6.1.27.9"}),
    ("6.1.27.10", lambda d: vulnerability(d).pop("remediations"), {"6.1.27.10"}),
    ("6.1.27.11", lambda d: d.pop("vulnerabilities"), {"6.1.27.11"}),
    ("6.1.28", lambda d: d["document"].update(source_lang="en"), {"6.1.28"}),
    (
        "6.1.29",
        lambda d: vulnerability(d)["remediations"].append({"category": "workaround", "details": "Block the port."}),
        {"6.1.29"},
    ),
    ("6.1.30", lambda d: history(d, (DAY_1, "1.0.0"), (DAY_2, "2"), version="2"), {"6.1.30"}),
    ("6.1.31", lambda d: add_version_branch(d, "prior to 4.2"), {"6.1.31"}),
    ("6.1.32", lambda d: vulnerability(d)["flags"].append({"label": "vulnerable_code_not_present"}), {"6.1.32"}),
    (
        "6.1.33",
        lambda d: vulnerability(d)["flags"].append({"label": "vulnerable_code_not_present", "product_ids": ["product-b"]}),
        {"6.1.33"},
    ),
]


@pytest.mark.parametrize("file_name", OFFICIAL_EXAMPLES)
def test_official_example_is_valid(shared_data: Path, file_name: str) -> None:
    result = validate_file(shared_data / "csaf" / file_name)

    assert result.failures == []
    assert result.valid


def test_minimal_document_is_valid() -> None:
    assert validate_document(minimal_vex()) == []


@pytest.mark.parametrize(("test_id", "mutate", "expected"), MANDATORY_CASES, ids=[case[0] for case in MANDATORY_CASES])
def test_mandatory_test_fails(test_id: str, mutate: Mutation, expected: set[str]) -> None:
    document = minimal_vex()
    mutate(document)

    assert test_id in expected
    assert failed_tests(document) == expected


def test_mandatory_failure_names_path() -> None:
    document = minimal_vex()
    vulnerability(document)["product_status"]["under_investigation"] = ["ghost"]

    [failure] = validate_document(document)

    assert failure.path == "/vulnerabilities/0/product_status/under_investigation/0"
    assert "ghost" in failure.message


def test_schema_failure_is_reported() -> None:
    document = minimal_vex()
    document["document"]["csaf_version"] = "3.0"

    failures = validate_document(document)

    assert [(failure.test, failure.path) for failure in failures] == [("schema", "/document/csaf_version")]


def test_non_object_document_fails_schema() -> None:
    failures = validate_document(["not", "a", "document"])

    assert {failure.test for failure in failures} == {"schema"}


def test_broken_document_does_not_crash() -> None:
    document = minimal_vex()
    document["product_tree"] = {"branches": "not a list", "relationships": [None, 3]}
    vulnerability(document)["product_status"] = {"known_affected": [1, None]}
    vulnerability(document)["flags"] = "x"

    failures = validate_document(document)

    assert "schema" in {failure.test for failure in failures}


def test_cvss_v2_consistency_and_computation() -> None:
    document = minimal_vex()
    vulnerability(document)["scores"].append(
        {
            "products": ["product-a"],
            "cvss_v2": {
                "version": "2.0",
                "vectorString": "AV:N/AC:L/Au:N/C:C/I:C/A:C",
                "baseScore": 9.0,
                "accessVector": "LOCAL",
            },
        }
    )

    failures = {(failure.test, failure.path) for failure in validate_document(document)}

    assert failures == {
        ("6.1.9", "/vulnerabilities/0/scores/1/cvss_v2/baseScore"),
        ("6.1.10", "/vulnerabilities/0/scores/1/cvss_v2/accessVector"),
    }


def test_impact_statement_through_product_group() -> None:
    document = minimal_vex()
    document["product_tree"]["full_product_names"].append({"name": "Product C", "product_id": "product-c"})
    document["product_tree"]["product_groups"] = [{"group_id": "group-1", "product_ids": ["product-b", "product-c"]}]
    vulnerability(document)["product_status"]["known_not_affected"] = ["product-b", "product-c"]
    vulnerability(document)["flags"] = [{"label": "component_not_present", "group_ids": ["group-1"]}]

    assert validate_document(document) == []


def test_latest_version_ignores_build_metadata() -> None:
    document = minimal_vex()
    history(document, (DAY_1, "1.0.0"), (DAY_2, "2.0.0+143D5"), version="2.0.0+21AF26D3")

    assert validate_document(document) == []


def test_latest_version_sorts_same_dates_by_version() -> None:
    document = minimal_vex()
    history(document, *[(DAY_1, f"1.{minor}.0") for minor in range(11)], version="1.9.0")

    assert failed_tests(document) == {"6.1.16"}


@pytest.mark.parametrize("name", ["<=2.4", "> 1.0", "before 3.0", "2.x Versions", "All", "1.2 and LATER"])
def test_version_range_name_fails(name: str) -> None:
    document = minimal_vex()
    add_version_branch(document, name)

    assert failed_tests(document) == {"6.1.31"}


@pytest.mark.parametrize("name", ["all-in-one 2.0", "2.0-laterite", "versions.3", "earlier_build-7"])
def test_range_word_inside_word_passes(name: str) -> None:
    document = minimal_vex()
    add_version_branch(document, name)

    assert validate_document(document) == []


def test_revision_dates_compare_as_instants() -> None:
    document = minimal_vex()
    # Version 2 is dated 08:30 UTC, before version 1 at 09:00 UTC, though its text sorts later:
    # the history then starts at 2, goes down to 1 and ends at 1, not at the document version 2.
    history(document, ("2024-01-02T09:00:00Z", "1"), ("2024-01-02T10:30:00+02:00", "2"), version="2")

    assert failed_tests(document) == {"6.1.14", "6.1.16", "6.1.21"}


def test_revision_dates_lower_case() -> None:
    document = minimal_vex()
    # RFC 3339 allows `t` and `z`. Sorted by date, the history runs 2 then 1.
    history(document, ("2024-01-02t09:00:00z", "1"), ("2024-01-01t09:00:00z", "2"), version="1")

    assert failed_tests(document) == {"6.1.14", "6.1.21"}


# Building VEX documents from incidents.


def incident(*affects: Affect, trackers: list[Tracker] | None = None, **fields: Any) -> IncidentStatus:
    """Build an incident with the given affects and trackers."""
    defaults: dict[str, Any] = {
        "id": "CVE-2026-12345",
        "title": "Heap overflow in the parser",
        "description": "A crafted message overflows a heap buffer.",
        "impact": Impact.important,
        "cvss": CvssScore(version="3.1", vector=CRITICAL_VECTOR, base_score=9.8, severity="Critical"),
        "cwe": "CWE-787",
    }
    defaults.update(fields)
    return IncidentStatus(affects=list(affects), trackers=trackers or [], **defaults)


def affect(stream: str = "2.x", status: AffectStatus = AffectStatus.affected, component: str | None = "libparse", **fields: Any) -> Affect:
    """Build an affect of Acme Gateway's stream."""
    return Affect(
        product="Acme Gateway", stream=stream, component=component, version="1.2", status=status, reason="matched 1.2", **fields
    )


def tracker(decision: EngineeringDecision | None, stream: str = "2.x", **fields: Any) -> Tracker:
    """Build a tracker of Acme Gateway's stream."""
    return Tracker(id=f"T-{stream}", product="Acme Gateway", stream=stream, decision=decision, **fields)


def build(incident_status: IncidentStatus, revision_history: list[Revision] | None = None) -> dict[str, Any]:
    """Build the VEX document of an incident and check it passes every test."""
    document = build_vex(
        incident_status,
        publisher_name="Acme PSIRT",
        publisher_namespace="https://psirt.acme.example",
        revision_history=revision_history,
        now=NOW,
    )
    assert validate_document(document) == []
    return document


def remediation_categories(document: dict[str, Any]) -> dict[str, list[str]]:
    """Return the product ids of every remediation by category."""
    return {item["category"]: item["product_ids"] for item in vulnerability(document).get("remediations", [])}


def test_build_fixed_stream() -> None:
    document = build(incident(affect(purl="pkg:pypi/libparse@1.2"), trackers=[tracker(EngineeringDecision.fixed, fixed_in="2.3.1")]))

    status = vulnerability(document)["product_status"]
    assert status["known_affected"] == ["acme-gateway:2.x", "libparse-1.2:in:acme-gateway:2.x"]
    assert status["fixed"] == ["acme-gateway:2.3.1"]
    assert remediation_categories(document)["vendor_fix"] == status["known_affected"]
    assert "2.3.1" in vulnerability(document)["remediations"][0]["details"]
    assert vulnerability(document)["scores"][0]["products"] == status["known_affected"]


@pytest.mark.parametrize(
    ("decision", "category", "detail"),
    [
        (EngineeringDecision.wont_fix, "no_fix_planned", "End of life."),
        (EngineeringDecision.defer, "none_available", "deferred"),
        (EngineeringDecision.fix, "none_available", "2026-06-01"),
        (None, "none_available", "pending"),
    ],
)
def test_build_affected_stream_action(decision: EngineeringDecision | None, category: str, detail: str) -> None:
    fields = {"justification": "End of life."} if decision == EngineeringDecision.wont_fix else {}
    document = build(incident(affect(), trackers=[tracker(decision, target_date=date(2026, 6, 1), **fields)]))

    [remediation] = vulnerability(document)["remediations"]
    assert vulnerability(document)["product_status"] == {
        "known_affected": ["acme-gateway:2.x", "libparse-1.2:in:acme-gateway:2.x"]
    }
    assert remediation["category"] == category
    assert detail in remediation["details"]


def test_build_not_affected_affect() -> None:
    document = build(incident(affect(status=AffectStatus.not_affected)))

    item = vulnerability(document)
    assert item["product_status"] == {"known_not_affected": ["acme-gateway:2.x", "libparse-1.2:in:acme-gateway:2.x"]}
    assert "flags" not in item, "no justification code the analyst did not state"
    statements = [t for t in item["threats"] if t.get("product_ids") == item["product_status"]["known_not_affected"]]
    assert statements and statements[0]["category"] == "impact"
    assert validate_document(document) == []
    assert "scores" not in item


def test_build_not_affected_without_component() -> None:
    document = build(incident(affect(status=AffectStatus.not_affected, component=None)))

    assert vulnerability(document)["flags"] == [{"label": "component_not_present", "product_ids": ["acme-gateway:2.x"]}]


def test_build_not_affected_tracker_names_justification() -> None:
    justification = "The vulnerable function is not in the execute path of the gateway."
    document = build(incident(affect(), trackers=[tracker(EngineeringDecision.not_affected, justification=justification)]))

    item = vulnerability(document)
    assert item["flags"][0]["label"] == "vulnerable_code_not_in_execute_path"
    assert {"category": "impact", "details": justification, "product_ids": item["product_status"]["known_not_affected"]} in item["threats"]


def test_build_unknown_stream_is_under_investigation() -> None:
    document = build(incident(affect(status=AffectStatus.unknown, component=None)))

    assert vulnerability(document)["product_status"] == {"under_investigation": ["acme-gateway:2.x"]}


def test_build_mitigation_is_workaround() -> None:
    status = incident(affect(), affect(stream="3.x", status=AffectStatus.unknown, component=None), mitigation="Disable the parser.")

    document = build(status)

    workaround = remediation_categories(document)["workaround"]
    assert workaround == ["acme-gateway:2.x", "libparse-1.2:in:acme-gateway:2.x", "acme-gateway:3.x"]


def test_build_false_positive_is_not_affected() -> None:
    document = build(incident(affect(), triage=TriageOutcome.false_positive))

    assert list(vulnerability(document)["product_status"]) == ["known_not_affected"]


def test_build_impact_threats() -> None:
    impacts = {"Acme Gateway/2.x": ProductImpact(impact=Impact.low, justification="Runs sandboxed.")}
    document = build(incident(affect(), product_impacts=impacts))

    threats = vulnerability(document)["threats"]
    assert threats[0] == {"category": "impact", "details": "Important"}
    assert threats[1]["details"] == "Low impact: Runs sandboxed."
    assert threats[1]["product_ids"] == ["acme-gateway:2.x", "libparse-1.2:in:acme-gateway:2.x"]


def test_build_metadata() -> None:
    document = build(incident(affect(), cwe="CWE-79", phase=Phase.closed))

    meta = document["document"]
    assert meta["category"] == "csaf_vex"
    assert meta["tracking"]["id"] == "CVE-2026-12345"
    assert meta["tracking"]["status"] == "final"
    assert meta["tracking"]["version"] == "1"
    assert meta["distribution"]["tlp"]["label"] == "WHITE"
    assert vulnerability(document)["cwe"] == {"id": "CWE-79", "name": XSS_NAME}
    assert vulnerability(document)["cve"] == "CVE-2026-12345"


def test_build_revision_history() -> None:
    revisions = [
        Revision(date=datetime(2026, 1, 1, tzinfo=UTC), number="1", summary="Initial version."),
        Revision(date=NOW, number="2", summary="Fix released."),
    ]

    document = build(incident(affect()), revision_history=revisions)

    meta = document["document"]["tracking"]
    assert meta["version"] == "2"
    assert meta["status"] == "interim"
    assert meta["initial_release_date"].startswith("2026-01-01T00:00:00")


def test_build_omits_unknown_cwe_and_cvss_v4() -> None:
    cvss = CvssScore(version="4.0", vector="CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", base_score=9.3, severity="Critical")

    document = build(incident(affect(), cwe="CWE-999999", cvss=cvss))

    assert "cwe" not in vulnerability(document)
    assert "scores" not in vulnerability(document)


def test_build_non_cve_id_uses_ids() -> None:
    document = build(incident(affect(), id="GHSA-abcd-efgh-ijkl"))

    assert "cve" not in vulnerability(document)
    assert vulnerability(document)["ids"] == [{"system_name": "irp", "text": "GHSA-abcd-efgh-ijkl"}]


def test_build_product_ids_are_unique_and_stable() -> None:
    colliding = Affect(product="acme gateway", stream="2.x", status=AffectStatus.affected, reason="manual")
    status = incident(affect(), colliding)

    first, second = build(status), build(status)

    known = vulnerability(first)["product_status"]["known_affected"]
    assert len(known) == len(set(known)) == 3
    assert known == vulnerability(second)["product_status"]["known_affected"]


def test_build_range_like_stream_name_is_product_family() -> None:
    document = build(incident(affect(stream="all releases", component=None)))

    [stream_branch] = document["product_tree"]["branches"][0]["branches"][0]["branches"]
    assert stream_branch["category"] == "product_family"


def test_build_without_streams_raises() -> None:
    with pytest.raises(NothingToPublish, match="CVE-2026-12345"):
        build_vex(incident(), publisher_name="Acme PSIRT", publisher_namespace="https://psirt.acme.example", revision_history=None, now=NOW)


# The command line.


def write(path: Path, document: Any) -> Path:
    """Write a JSON document and return its path."""
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_cli_valid_file(tmp_path: Path) -> None:
    file = write(tmp_path / "valid.json", minimal_vex())

    result = CliRunner().invoke(app, ["validate", str(file)])

    assert result.exit_code == 0
    assert result.output.strip() == f"{file}: valid"


def test_cli_invalid_file_lists_failures(tmp_path: Path) -> None:
    valid = write(tmp_path / "valid.json", minimal_vex())
    document = minimal_vex()
    vulnerability(document).pop("remediations")
    invalid = write(tmp_path / "invalid.json", document)

    result = CliRunner().invoke(app, ["validate", str(valid), str(invalid)])

    assert result.exit_code == 1
    assert f"{invalid}: 6.1.27.10 /vulnerabilities/0/product_status/known_affected/0: " in result.output
    assert result.output.splitlines()[-1] == f"{invalid}: invalid"
    assert f"{valid}: valid" in result.output


def test_cli_json_output(tmp_path: Path) -> None:
    document = minimal_vex()
    document["document"]["lang"] = "EZ"
    file = write(tmp_path / "lang.json", document)

    result = CliRunner().invoke(app, ["validate", "--json", str(file)])

    assert result.exit_code == 1
    [report] = json.loads(result.output)
    assert report["file"] == str(file)
    assert report["valid"] is False
    assert report["failures"] == [{"test": "6.1.12", "path": "/document/lang", "message": "'EZ' is not a valid language tag"}]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "invalid JSON at line 1"),
        (b"\xff\xfe\x00", "not UTF-8"),
    ],
)
def test_cli_unparseable_file(tmp_path: Path, content: bytes, message: str) -> None:
    file = tmp_path / "broken.json"
    file.write_bytes(content)

    result = CliRunner().invoke(app, ["validate", str(file)])

    assert result.exit_code == 1
    assert message in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_cli_missing_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["validate", "--json", str(tmp_path / "absent.json")])

    assert result.exit_code == 1
    [report] = json.loads(result.output)
    assert report["failures"][0]["test"] == "file"
    assert "No such file" in report["failures"][0]["message"]
