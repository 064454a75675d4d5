"""Tests for the CVE JSON 5 parser, on real cvelistV5 records and small hand-written ones."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from irp.sources.cve5 import MAX_RECORD_BYTES, InvalidReport, parse_cve5
from models.records import AffectStatus, RecordState, Report

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "cve5"

MINIMAL_RECORD = {
    "dataType": "CVE_RECORD",
    "dataVersion": "5.1",
    "cveMetadata": {
        "cveId": "CVE-2099-0001",
        "assignerOrgId": "00000000-0000-4000-8000-000000000000",
        "state": "PUBLISHED",
        "datePublished": "2099-01-02T03:04:05.000Z",
    },
    "containers": {
        "cna": {
            "providerMetadata": {"orgId": "00000000-0000-4000-8000-000000000000"},
            "title": "Demo flaw",
            "descriptions": [{"lang": "en", "value": "A demo flaw."}],
            "affected": [
                {
                    "vendor": "Demo",
                    "product": "demo",
                    "defaultStatus": "unaffected",
                    "versions": [
                        {"version": "1.0.0", "lessThan": "1.2.0", "status": "affected", "versionType": "semver"}
                    ],
                }
            ],
            "references": [{"url": "https://example.org/advisory"}],
        }
    },
}


def load_real(name: str):
    """Parse one of the real records, skipping the test when the data folder is absent."""
    path = DATA / f"{name}.json"
    if not path.exists():
        pytest.skip(f"real CVE records not found at {DATA}")
    return parse_cve5(path.read_bytes(), path.name)


DELETE = object()
"""Marker for `record` to delete a field."""


def record(**changes) -> dict:
    """Return a copy of the minimal record with fields replaced or deleted, `a__b` naming `a.b`."""
    data = copy.deepcopy(MINIMAL_RECORD)
    for dotted, value in changes.items():
        *parents, key = dotted.split("__")
        target = data
        for parent in parents:
            target = target[parent]
        if value is DELETE:
            del target[key]
        else:
            target[key] = value
    return data


def parse_dict(data: dict) -> Report:
    """Serialize a decoded record and parse it."""
    return parse_cve5(json.dumps(data), "demo.json")


def test_parse_minimal_record():
    report = parse_dict(MINIMAL_RECORD)

    assert report.id == "CVE-2099-0001"
    assert report.format == "cve5"
    assert report.state is RecordState.published
    assert report.title == "Demo flaw"
    assert report.description == "A demo flaw."
    assert report.published_at == datetime(2099, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert report.references == ["https://example.org/advisory"]
    assert report.known_exploited is False


def test_parse_minimal_affected_entry():
    entry = parse_dict(MINIMAL_RECORD).affected[0]

    assert entry.vendor == "Demo"
    assert entry.product == "demo"
    assert entry.default_status is AffectStatus.not_affected
    assert entry.container == "cna"
    assert entry.versions[0].version == "1.0.0"
    assert entry.versions[0].less_than == "1.2.0"
    assert entry.versions[0].version_type == "semver"
    assert entry.versions[0].status is AffectStatus.affected


def test_parse_accepts_bytes_and_bom():
    raw = json.dumps(MINIMAL_RECORD).encode("utf-8")

    assert parse_cve5(raw, "demo.json").id == "CVE-2099-0001"
    assert parse_cve5(b"\xef\xbb\xbf" + raw, "demo.json").id == "CVE-2099-0001"


@pytest.mark.parametrize(
    ("descriptions", "expected"),
    [
        ([{"lang": "fr", "value": "Français"}, {"lang": "en", "value": "English"}], "English"),
        ([{"lang": "en-US", "value": "American"}, {"lang": "en", "value": "English"}], "English"),
        ([{"lang": "de", "value": "Deutsch"}, {"lang": "en-US", "value": "American"}], "American"),
        ([{"lang": "de", "value": "Deutsch"}], "Deutsch"),
        ([{"lang": "en", "value": "line one\r\nline two"}], "line one\nline two"),
        ([{"lang": "en", "value": "<p>kept as <b>given</b></p>"}], "<p>kept as <b>given</b></p>"),
        ([], None),
    ],
)
def test_parse_description_language(descriptions, expected):
    report = parse_dict(record(containers__cna__descriptions=descriptions))

    assert report.description == expected


def test_parse_versions_fields():
    versions = [
        {
            "version": "0",
            "lessThanOrEqual": "2.*",
            "status": "affected",
            "versionType": "maven",
            "changes": [{"at": "1.5", "status": "unaffected"}, {"at": "1.2", "status": "unknown"}],
        }
    ]
    entry = {
        "collectionURL": "https://repo.maven.apache.org/maven2",
        "packageName": "org.demo:demo",
        "packageURL": "pkg:maven/org.demo/demo",
        "cpes": ["cpe:2.3:a:demo:demo:*:*:*:*:*:*:*:*"],
        "versions": versions,
    }

    parsed = parse_dict(record(containers__cna__affected=[entry])).affected[0]

    assert parsed.package_name == "org.demo:demo"
    assert parsed.collection_url == "https://repo.maven.apache.org/maven2"
    assert parsed.purl == "pkg:maven/org.demo/demo"
    assert parsed.cpes == ["cpe:2.3:a:demo:demo:*:*:*:*:*:*:*:*"]
    assert parsed.default_status is AffectStatus.unknown
    assert parsed.versions[0].less_than_or_equal == "2.*"
    assert [(change.at, change.status) for change in parsed.versions[0].changes] == [
        ("1.5", AffectStatus.not_affected),
        ("1.2", AffectStatus.unknown),
    ]


def test_parse_adp_containers():
    adp = [
        {
            "providerMetadata": {"orgId": "x", "shortName": "CISA-ADP"},
            "affected": [{"vendor": "demo", "product": "demo", "defaultStatus": "affected"}],
            "metrics": [
                {"cvssV3_0": {"version": "3.0", "vectorString": "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "baseScore": 9.8, "baseSeverity": "CRITICAL"}},
                {"other": {"type": "kev", "content": {"dateAdded": "2099-01-03"}}},
            ],
            "problemTypes": [{"descriptions": [{"lang": "en", "type": "CWE", "cweId": "CWE-79", "description": "CWE-79 Cross-site Scripting"}]}],
            "references": [{"url": "https://example.org/adp"}],
        },
        {
            "providerMetadata": {"orgId": "y"},
            "metrics": [{"cvssV2_0": {"version": "2.0", "vectorString": "AV:N/AC:L/Au:N/C:P/I:P/A:P", "baseScore": 7.5}}],
        },
    ]

    report = parse_dict(record(containers__adp=adp))

    assert [entry.container for entry in report.affected] == ["cna", "CISA-ADP"]
    assert [(metric.version, metric.container) for metric in report.metrics] == [("3.0", "CISA-ADP"), ("2.0", "adp")]
    assert report.metrics[0].base_score == 9.8
    assert report.metrics[1].base_severity is None
    assert report.cwes == ["CWE-79"]
    assert report.references == ["https://example.org/advisory", "https://example.org/adp"]
    assert report.known_exploited is True


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        ({"other": {"type": "kev", "content": {"dateAdded": "2099-01-03"}}}, True),
        ({"other": {"type": "ssvc", "content": {"options": [{"Exploitation": "active"}]}}}, True),
        ({"other": {"type": "ssvc", "content": {"options": [{"Exploitation": "poc"}]}}}, False),
        ({"other": {"type": "ssvc", "content": {"options": [{"Exploitation": "none"}]}}}, False),
        ({"other": {"type": "ssvc", "content": "malformed"}}, False),
    ],
)
def test_parse_known_exploited(metric, expected):
    adp = [{"providerMetadata": {"orgId": "x", "shortName": "CISA-ADP"}, "metrics": [metric]}]

    assert parse_dict(record(containers__adp=adp)).known_exploited is expected


def test_parse_rejected_replaced_in_metadata():
    rejected = record(
        cveMetadata__state="REJECTED",
        cveMetadata__replacedBy=["CVE-2099-0002"],
        containers={"cna": {"providerMetadata": {"orgId": "x"}, "rejectedReasons": [{"lang": "en", "value": "Duplicate."}], "replacedBy": ["CVE-2099-0003"]}},
    )

    report = parse_dict(rejected)

    assert report.state is RecordState.rejected
    assert report.description == "Duplicate."
    assert report.replaced_by == ["CVE-2099-0002", "CVE-2099-0003"]
    assert report.affected == []


def test_invalid_report_attributes():
    with pytest.raises(InvalidReport) as caught:
        parse_cve5("[]", "reports/demo.json")

    assert isinstance(caught.value, ValueError)
    assert caught.value.file == "reports/demo.json"
    assert caught.value.problem == "expected a JSON object, found a list"
    assert str(caught.value) == "reports/demo.json: expected a JSON object, found a list"


ERROR_CASES = [
    # id, raw input, expected words in the problem
    ("not utf-8", b'{"dataType": "CVE_RECORD", "x": "\xff\xfe"}', "not valid UTF-8"),
    ("not json", "{not json", "not valid JSON"),
    ("empty input", "", "not valid JSON"),
    ("json string", '"CVE-2099-0001"', "expected a JSON object, found a string"),
    ("json array", "[1, 2]", "expected a JSON object, found a list"),
    ("json null", "null", "expected a JSON object, found null"),
    ("deep nesting", "[" * 100_000 + "]" * 100_000, "not valid JSON"),
    ("missing dataType", record(dataType=DELETE), "missing dataType"),
    ("wrong dataType", record(dataType="CSAF"), "dataType is 'CSAF'"),
    ("old dataVersion", record(dataVersion="4.0"), "dataVersion '4.0' is not supported"),
    ("missing cveMetadata", record(cveMetadata=DELETE), "missing cveMetadata"),
    ("cveMetadata not object", record(cveMetadata=[]), "cveMetadata must be an object, found a list"),
    ("missing cveId", record(cveMetadata__cveId=DELETE), "missing cveMetadata.cveId"),
    ("cveId not string", record(cveMetadata__cveId=2099), "cveMetadata.cveId must be a string"),
    ("malformed cveId", record(cveMetadata__cveId="CVE-99-1"), "'CVE-99-1' is not a CVE id"),
    ("ghsa as cveId", record(cveMetadata__cveId="GHSA-7rrj-xr53-82p7"), "is not a CVE id"),
    ("missing state", record(cveMetadata__state=DELETE), "missing cveMetadata.state"),
    ("unknown state", record(cveMetadata__state="RESERVED"), "state 'RESERVED' is unknown"),
    ("bad datePublished", record(cveMetadata__datePublished="yesterday"), "datePublished 'yesterday' is not an ISO 8601"),
    ("missing containers", record(containers=DELETE), "missing containers"),
    ("missing cna", record(containers={}), "missing containers.cna"),
    ("adp not list", record(containers__adp={}), "containers.adp must be a list, found an object"),
    ("adp item not object", record(containers__adp=["x"]), "containers.adp[0] must be an object"),
    ("affected not list", record(containers__cna__affected={"product": "demo"}), "containers.cna.affected must be a list, found an object"),
    ("affected item not object", record(containers__cna__affected=["demo"]), "containers.cna.affected[0] must be an object"),
    ("product not string", record(containers__cna__affected=[{"product": 3}]), "containers.cna.affected[0].product must be a string"),
    ("cpes not strings", record(containers__cna__affected=[{"product": "demo", "cpes": [1]}]), "cpes[0] must be a string"),
    ("bad defaultStatus", record(containers__cna__affected=[{"product": "demo", "defaultStatus": "fixed"}]), "defaultStatus 'fixed' is invalid"),
    ("versions not list", record(containers__cna__affected=[{"product": "demo", "versions": "1.0"}]), "versions must be a list"),
    ("version missing", record(containers__cna__affected=[{"product": "demo", "versions": [{"status": "affected"}]}]), "missing containers.cna.affected[0].versions[0].version"),
    ("version not string", record(containers__cna__affected=[{"product": "demo", "versions": [{"version": 1.0, "status": "affected"}]}]), "versions[0].version must be a string, found a number"),
    ("status missing", record(containers__cna__affected=[{"product": "demo", "versions": [{"version": "1.0"}]}]), "missing containers.cna.affected[0].versions[0].status"),
    ("status invalid", record(containers__cna__affected=[{"product": "demo", "versions": [{"version": "1.0", "status": "vulnerable"}]}]), "status 'vulnerable' is invalid"),
    ("changes not list", record(containers__cna__affected=[{"product": "demo", "versions": [{"version": "1.0", "status": "affected", "changes": {}}]}]), "changes must be a list"),
    ("change missing at", record(containers__cna__affected=[{"product": "demo", "versions": [{"version": "1.0", "status": "affected", "changes": [{"status": "affected"}]}]}]), "missing containers.cna.affected[0].versions[0].changes[0].at"),
    ("descriptions not list", record(containers__cna__descriptions="text"), "containers.cna.descriptions must be a list"),
    ("description value missing", record(containers__cna__descriptions=[{"lang": "en"}]), "missing containers.cna.descriptions[0].value"),
    ("title not string", record(containers__cna__title=["a"]), "containers.cna.title must be a string"),
    ("metrics not list", record(containers__cna__metrics={}), "containers.cna.metrics must be a list"),
    ("cvss without vector", record(containers__cna__metrics=[{"cvssV3_1": {"baseScore": 9.8}}]), "missing containers.cna.metrics[0].cvssV3_1.vectorString"),
    ("cvss score text", record(containers__cna__metrics=[{"cvssV3_1": {"vectorString": "CVSS:3.1/AV:N", "baseScore": "high"}}]), "baseScore must be a number, found a string"),
    ("reference without url", record(containers__cna__references=[{"name": "x"}]), "missing containers.cna.references[0].url"),
    ("replacedBy not ids", record(cveMetadata__state="REJECTED", containers__cna__replacedBy=["nope"]), "replacedBy[0] is not a CVE id"),
]


@pytest.mark.parametrize(
    ("raw", "problem"),
    [case[1:] for case in ERROR_CASES],
    ids=[case[0] for case in ERROR_CASES],
)
def test_parse_rejects_invalid(raw, problem):
    data = raw if isinstance(raw, (str, bytes)) else json.dumps(raw)

    with pytest.raises(InvalidReport) as caught:
        parse_cve5(data, "demo.json")

    assert problem in caught.value.problem
    assert caught.value.file == "demo.json"


@pytest.mark.parametrize("kind", [bytes, str])
def test_parse_rejects_huge_input(kind):
    padding = " " * (MAX_RECORD_BYTES + 1)
    text = json.dumps(MINIMAL_RECORD) + padding
    data = text.encode("utf-8") if kind is bytes else text

    with pytest.raises(InvalidReport, match="larger than the 5242880 byte limit"):
        parse_cve5(data, "huge.json")


def test_parse_rejects_multibyte_text_over_limit():
    # Fewer characters than the limit, but more bytes once encoded as UTF-8.
    text = json.dumps(record(containers__cna__title="é" * (MAX_RECORD_BYTES // 2 + 10)), ensure_ascii=False)
    assert len(text) < MAX_RECORD_BYTES

    with pytest.raises(InvalidReport, match="byte limit"):
        parse_cve5(text, "huge.json")


REAL_SUMMARIES = [
    # id, state, published date, affected entries, (metric version, container) pairs, CWEs, known exploited
    ("CVE-2021-44228", RecordState.published, "2021-12-10", 1, [("3.1", "CISA-ADP")], ["CWE-502", "CWE-400", "CWE-20"], True),
    ("CVE-2023-22466", RecordState.published, "2023-01-04", 1, [("3.1", "cna")], ["CWE-665"], False),
    ("CVE-2023-5129", RecordState.rejected, "2023-09-25", 0, [], [], False),
    ("CVE-2024-2961", RecordState.published, "2024-04-17", 2, [("3.1", "CISA-ADP")], ["CWE-787"], False),
    ("CVE-2024-3094", RecordState.published, "2024-03-29", 8, [("3.1", "cna")], ["CWE-506"], False),
    ("CVE-2024-6387", RecordState.published, "2024-07-01", 14, [("3.1", "cna")], ["CWE-364"], False),
    ("CVE-2025-21772", RecordState.published, "2025-02-27", 2, [], [], False),
    ("CVE-2025-68161", RecordState.published, "2025-12-18", 1, [("4.0", "cna")], ["CWE-297"], False),
]


@pytest.mark.parametrize(
    ("cve_id", "state", "published", "entries", "metrics", "cwes", "exploited"),
    REAL_SUMMARIES,
    ids=[case[0] for case in REAL_SUMMARIES],
)
def test_parse_real_record(cve_id, state, published, entries, metrics, cwes, exploited):
    report = load_real(cve_id)

    assert report.id == cve_id
    assert report.format == "cve5"
    assert report.state is state
    assert report.published_at.date().isoformat() == published
    assert len(report.affected) == entries
    assert [(metric.version, metric.container) for metric in report.metrics] == metrics
    assert report.cwes == cwes
    assert report.known_exploited is exploited


def test_parse_log4shell_changes():
    report = load_real("CVE-2021-44228")
    versions = report.affected[0].versions

    assert report.affected[0].product == "Apache Log4j2"
    assert report.affected[0].default_status is AffectStatus.unknown
    assert versions[0].version == "2.0-beta9"
    assert versions[0].version_type == "custom"
    assert versions[0].less_than == "log4j-core*"
    assert [change.at for change in versions[0].changes] == ["2.3.1", "2.4", "2.12.2", "2.13.0", "2.15.0"]
    assert report.metrics[0].vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"
    assert report.metrics[0].base_score == 10.0


def test_parse_regresshion_rpm_entries():
    report = load_real("CVE-2024-6387")
    rhel9 = [entry for entry in report.affected if entry.product == "Red Hat Enterprise Linux 9"]

    # The record lists the RHEL 9 entry twice, and the parser keeps one.
    assert len(rhel9) == 1
    assert rhel9[0].package_name == "openssh"
    assert rhel9[0].default_status is AffectStatus.affected
    assert rhel9[0].versions[0].version == "0:8.7p1-38.el9_4.1"
    assert rhel9[0].versions[0].less_than == "*"
    assert rhel9[0].versions[0].version_type == "rpm"
    assert rhel9[0].versions[0].status is AffectStatus.not_affected
    assert report.affected[0].package_name == "OpenSSH"
    assert report.affected[0].versions[0].less_than_or_equal == "9.7p1"


def test_parse_glibc_cna_and_adp():
    report = load_real("CVE-2024-2961")
    cna, adp = report.affected

    assert cna.container == "cna"
    assert cna.versions[0].version_type == "custom"
    assert cna.default_status is AffectStatus.not_affected
    assert adp.container == "CISA-ADP"
    assert adp.versions[0].version_type == "semver"
    assert adp.default_status is AffectStatus.unknown
    assert adp.cpes == ["cpe:2.3:a:gnu:glibc:-:*:*:*:*:*:*:*"]


def test_parse_xz_crlf_text():
    path = DATA / "CVE-2024-3094.json"
    if not path.exists():
        pytest.skip(f"real CVE records not found at {DATA}")
    assert b"\\r\\n" in path.read_bytes()

    report = load_real("CVE-2024-3094")

    assert "\r" not in report.description
    assert "\n" in report.description
    assert report.affected[0].product == "xz"
    assert report.affected[0].default_status is AffectStatus.affected
    assert report.affected[1].cpes == ["cpe:/o:redhat:enterprise_linux:6"]


def test_parse_rejected_record():
    report = load_real("CVE-2023-5129")

    assert report.state is RecordState.rejected
    assert report.replaced_by == ["CVE-2023-4863"]
    assert report.description == "This CVE ID has been rejected or withdrawn by its CVE Numbering Authority."
    assert report.title is None


def test_parse_log4j_purl_and_cvss4():
    report = load_real("CVE-2025-68161")
    entry = report.affected[0]

    assert entry.purl == "pkg:maven/org.apache.logging.log4j/log4j-core"
    assert entry.package_name == "org.apache.logging.log4j:log4j-core"
    assert [version.version_type for version in entry.versions] == ["maven", "maven"]
    assert report.metrics[0].vector.startswith("CVSS:4.0/")
    assert report.metrics[0].base_score == 6.3


def test_parse_tokio_alias_and_free_text():
    report = load_real("CVE-2023-22466")

    assert report.aliases == ["GHSA-7rrj-xr53-82p7"]
    assert report.affected[0].versions[0].version == ">= 1.7.0, < 1.18.4"
    assert report.affected[0].versions[0].version_type is None


def test_parse_kernel_git_and_semver():
    report = load_real("CVE-2025-21772")
    git_entry, semver_entry = report.affected

    assert {version.version_type for version in git_entry.versions} == {"git"}
    assert len(git_entry.versions) == 8
    assert semver_entry.default_status is AffectStatus.affected
    assert semver_entry.versions[0].less_than_or_equal == "5.4.*"
    assert semver_entry.versions[-1].version_type == "original_commit_for_fix"
