"""Report sources: OSV records, emails, format detection and the incident id of a report."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

from irp.intake import expand_paths, incident_id_for, read_source
from irp.matching import match_affects
from irp.sources import MAX_REPORT_BYTES, UNKNOWN_FORMAT, detect_format, parse_report
from irp.sources.cve5 import InvalidReport
from irp.sources.email import MAX_DESCRIPTION_CHARS, parse_email
from irp.sources.osv import parse_osv
from models.inventory import ComponentPublic, StreamInventory
from models.records import AffectStatus, RecordState, Report
from tests.builders import cve_record

LOG4J_CORE = "pkg:maven/org.apache.logging.log4j/log4j-core"


def osv_file(shared_data: Path, name: str) -> Report:
    """Parse one of the real OSV records."""
    path = shared_data / "osv" / name
    return parse_osv(path.read_bytes(), path.name)


def mail_file(shared_data: Path, name: str) -> Report:
    """Parse one of the real emails by the start of its file name."""
    [path] = (shared_data / "mail").glob(f"{name}*.eml")
    return parse_email(path.read_bytes(), path.name)


def verdict(report: Report, name: str, version: str | None, purl: str | None = None) -> tuple[str, str]:
    """Match a report against a stream of one component; return the status and its reason."""
    stream = StreamInventory(
        product="Acme", stream="1.x", components=[ComponentPublic(name=name, version=version, purl=purl)]
    )
    [affect] = match_affects(report, [stream])
    return affect.status.value, affect.reason


def osv_record(**fields) -> bytes:
    """Build a small OSV record for an npm package, with fields replaced or added."""
    record = {
        "schema_version": "1.6.0",
        "id": "GHSA-aaaa-bbbb-cccc",
        "modified": "2026-01-02T03:04:05Z",
        "published": "2026-01-01T00:00:00Z",
        "aliases": ["CVE-2026-20001"],
        "summary": "Prototype pollution in widget",
        "details": "widget merges untrusted keys.",
        "affected": [
            {
                "package": {"ecosystem": "npm", "name": "widget"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "1.0.0"}, {"fixed": "1.4.2"}]}],
            }
        ],
    }
    record.update(fields)
    return json.dumps(record).encode()


def affected_entry(ecosystem: str, name: str, *events: dict, range_type: str = "ECOSYSTEM", **extra) -> dict:
    """Build one OSV `affected` entry with a single range."""
    return {"package": {"ecosystem": ecosystem, "name": name}, "ranges": [{"type": range_type, "events": list(events)}], **extra}


def email_bytes(subject: str, body: str, sender: str = "Eve Reporter <eve@example.org>") -> bytes:
    """Build a plain-text email."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "security@acme.example"
    message["Subject"] = subject
    message["Message-ID"] = "<report-1@example.org>"
    message.set_content(body)
    return message.as_bytes()


# ---------------------------------------------------------------- real OSV records


OSV_RECORDS = {
    "GHSA-jfh8-c2jp-5v3q.json": ("GHSA-jfh8-c2jp-5v3q", ["CVE-2021-44228"], RecordState.published),
    "GO-2024-2963.json": ("GO-2024-2963", ["CVE-2024-24791"], RecordState.published),
    "PYSEC-2023-74.json": ("PYSEC-2023-74", ["CVE-2023-32681", "GHSA-j8r2-6x86-q33q"], RecordState.published),
    "DSA-3029-1.json": ("DSA-3029-1", ["CVE-2014-3616"], RecordState.published),
    "withdrawn-example.osv.json": ("GHSA-35c4-f3rq-f9g3", ["CVE-2015-3227"], RecordState.rejected),
}


def test_every_osv_record_listed(shared_data):
    names = {path.name for path in (shared_data / "osv").glob("*.json") if path.name != "osv-schema.json"}

    assert names == set(OSV_RECORDS)


@pytest.mark.parametrize("name", sorted(OSV_RECORDS))
def test_osv_record_parses(shared_data, name):
    record_id, aliases, state = OSV_RECORDS[name]
    data = (shared_data / "osv" / name).read_bytes()

    report = parse_report(data, name)

    assert report.format == "osv"
    assert report.id == record_id
    assert report.aliases == aliases
    assert report.state is state
    assert report.modified_at is not None
    assert report.affected
    assert report.description
    assert report.references


def test_osv_log4shell_fields(shared_data):
    report = osv_file(shared_data, "GHSA-jfh8-c2jp-5v3q.json")

    assert report.title == "Remote code injection in Log4j"
    assert report.published_at == datetime(2021, 12, 10, 0, 40, 56, tzinfo=UTC)
    assert [(metric.version, metric.vector) for metric in report.metrics] == [
        ("3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H")
    ]
    assert report.cwes == []
    assert {entry.purl for entry in report.affected} == {LOG4J_CORE}
    ranges = [(item.version, item.less_than, item.version_type) for entry in report.affected for item in entry.versions]
    assert ranges == [("2.13.0", "2.15.0", "maven"), ("0", "2.3.1", "maven"), ("2.4", "2.12.2", "maven")]
    assert all(entry.default_status is AffectStatus.not_affected for entry in report.affected)


@pytest.mark.parametrize(
    ("version", "expected"),
    [("2.14.1", "affected"), ("2.17.1", "not_affected"), ("2.12.1", "affected"), ("2.12.2", "not_affected"),
     ("2.3.0", "affected"), ("2.3.1", "not_affected"), ("2.15.0", "not_affected")],
)
def test_osv_log4shell_matches_log4j_core(shared_data, version, expected):
    report = osv_file(shared_data, "GHSA-jfh8-c2jp-5v3q.json")

    status, reason = verdict(report, "log4j-core", version, f"{LOG4J_CORE}@{version}")

    assert status == expected, reason
    assert "GHSA-jfh8-c2jp-5v3q entry for org.apache.logging.log4j:log4j-core" in reason


def test_osv_log4shell_spares_log4j_api(shared_data):
    report = osv_file(shared_data, "GHSA-jfh8-c2jp-5v3q.json")

    status, reason = verdict(report, "log4j-api", "2.14.1", "pkg:maven/org.apache.logging.log4j/log4j-api@2.14.1")

    assert status == "not_affected"
    assert "no component of the stream matches" in reason


@pytest.mark.parametrize(
    ("version", "expected"),
    [("1.21.11", "affected"), ("1.21.12", "not_affected"), ("1.22.0", "affected"), ("1.22.4", "affected"),
     ("1.22.5", "not_affected")],
)
def test_osv_go_stdlib_semver_ranges(shared_data, version, expected):
    report = osv_file(shared_data, "GO-2024-2963.json")

    status, reason = verdict(report, "stdlib", version, f"pkg:golang/stdlib@{version}")

    assert status == expected, reason


def test_osv_go_version_type(shared_data):
    report = osv_file(shared_data, "GO-2024-2963.json")

    [entry] = report.affected
    assert entry.purl == "pkg:golang/stdlib"
    assert [(item.version, item.less_than, item.version_type) for item in entry.versions] == [
        ("0", "1.21.12", "golang"),
        ("1.22.0-0", "1.22.5", "golang"),
    ]


def test_osv_pypi_git_ranges_kept_apart(shared_data):
    report = osv_file(shared_data, "PYSEC-2023-74.json")

    comparable, git = report.affected
    assert comparable.purl == git.purl == "pkg:pypi/requests"
    assert {item.version_type for item in comparable.versions} == {"pypi"}
    assert len(comparable.versions) == 1 + 66
    assert [(item.version, item.less_than, item.version_type) for item in git.versions] == [
        ("0", "74ea7cf7a6a27a4eeb2ae24e162bcc942a6706d5", "git")
    ]


@pytest.mark.parametrize(
    ("version", "expected"),
    [("2.30.0", "affected"), ("2.3.0", "affected"), ("2.31.0", "not_affected"), ("2.2.1", "not_affected")],
)
def test_osv_pypi_requests_matches(shared_data, version, expected):
    report = osv_file(shared_data, "PYSEC-2023-74.json")

    status, reason = verdict(report, "requests", version, f"pkg:pypi/requests@{version}")

    assert status == expected, reason


def test_osv_git_only_range_unknown():
    data = osv_record(
        affected=[
            affected_entry(
                "PyPI", "requests", {"introduced": "0"}, {"fixed": "74ea7cf7a6a27a4eeb2ae24e162bcc942a6706d5"},
                range_type="GIT",
            )
        ]
    )
    report = parse_osv(data, "git.json")

    status, reason = verdict(report, "requests", "2.31.0", "pkg:pypi/requests@2.31.0")

    assert status == "unknown"
    assert "commit hashes" in reason


@pytest.mark.parametrize(
    ("version", "expected"),
    [("1.2.1-2.2+wheezy2", "affected"), ("1.2.1-2.2+wheezy3", "not_affected"), ("1.6.2-1", "not_affected")],
)
def test_osv_debian_versions(shared_data, version, expected):
    report = osv_file(shared_data, "DSA-3029-1.json")
    purl = f"pkg:deb/debian/nginx@{version.replace('+', '%2B')}?arch=amd64"

    status, reason = verdict(report, "nginx", version, purl)

    assert status == expected, reason
    assert report.affected[0].versions[0].version_type == "deb"


def test_osv_withdrawn_ends_as_rejected(shared_data):
    report = osv_file(shared_data, "withdrawn-example.osv.json")

    assert report.state is RecordState.rejected
    assert report.withdrawn_at == datetime(2018, 10, 11, 17, 29, 49, tzinfo=UTC)
    assert report.affected[0].versions[0].version_type == "gem"
    status, reason = verdict(report, "activesupport", "4.1.10", "pkg:gem/activesupport@4.1.10")
    assert status == "not_affected"
    assert "GHSA-35c4-f3rq-f9g3" in reason


# ---------------------------------------------------------------- OSV mapping details


def test_osv_last_affected_is_inclusive():
    data = osv_record(affected=[affected_entry("npm", "widget", {"introduced": "1.0.0"}, {"last_affected": "1.4.1"})])
    report = parse_osv(data, "last.json")

    [item] = report.affected[0].versions
    assert (item.version, item.less_than, item.less_than_or_equal) == ("1.0.0", None, "1.4.1")
    assert verdict(report, "widget", "1.4.1", "pkg:npm/widget@1.4.1")[0] == "affected"
    assert verdict(report, "widget", "1.4.2", "pkg:npm/widget@1.4.2")[0] == "not_affected"


def test_osv_open_range_has_no_end():
    data = osv_record(affected=[affected_entry("crates.io", "widget", {"introduced": "0.3.0"})])
    report = parse_osv(data, "open.json")

    [entry] = report.affected
    assert entry.purl == "pkg:cargo/widget"
    assert [(item.version, item.less_than, item.version_type) for item in entry.versions] == [("0.3.0", "*", "cargo")]
    assert verdict(report, "widget", "9.0.0", "pkg:cargo/widget@9.0.0")[0] == "affected"
    assert verdict(report, "widget", "0.2.9", "pkg:cargo/widget@0.2.9")[0] == "not_affected"


def test_osv_limit_closes_range():
    data = osv_record(affected=[affected_entry("npm", "widget", {"introduced": "0"}, {"limit": "2.0.0"})])
    report = parse_osv(data, "limit.json")

    assert [(item.version, item.less_than) for item in report.affected[0].versions] == [("0", "2.0.0")]


def test_osv_versions_list_exact():
    entry = {"package": {"ecosystem": "PyPI", "name": "Flask_Login"}, "versions": ["0.6.0", "0.6.1"]}
    report = parse_osv(osv_record(affected=[entry]), "versions.json")

    [product] = report.affected
    assert product.purl == "pkg:pypi/flask-login"
    assert [(item.version, item.less_than) for item in product.versions] == [("0.6.0", None), ("0.6.1", None)]
    assert verdict(report, "flask-login", "0.6.1", "pkg:pypi/flask-login@0.6.1")[0] == "affected"
    assert verdict(report, "flask-login", "0.6.2", "pkg:pypi/flask-login@0.6.2")[0] == "not_affected"


def test_osv_package_without_versions_unknown():
    entry = {"package": {"ecosystem": "npm", "name": "widget"}}
    report = parse_osv(osv_record(affected=[entry]), "bare.json")

    assert report.affected[0].default_status is AffectStatus.unknown
    assert verdict(report, "widget", "1.0.0", "pkg:npm/widget@1.0.0")[0] == "unknown"


@pytest.mark.parametrize(
    ("ecosystem", "name", "purl", "version_type"),
    [
        ("Maven", "com.example:widget", "pkg:maven/com.example/widget", "maven"),
        ("npm", "@acme/widget", "pkg:npm/%40acme/widget", "npm"),
        ("PyPI", "Widget.Core", "pkg:pypi/widget-core", "pypi"),
        ("Go", "github.com/acme/widget", "pkg:golang/github.com/acme/widget", "golang"),
        ("Debian:12", "widget", "pkg:deb/debian/widget", "deb"),
        ("Ubuntu:22.04:LTS", "widget", "pkg:deb/ubuntu/widget", "deb"),
        ("RubyGems", "widget", "pkg:gem/widget", "gem"),
        ("crates.io", "widget", "pkg:cargo/widget", "cargo"),
        ("NuGet", "Acme.Widget", "pkg:nuget/Acme.Widget", "nuget"),
        ("Packagist", "acme/widget", "pkg:composer/acme/widget", "composer"),
        ("Alpine:v3.19", "widget", "pkg:apk/alpine/widget", "alpine"),
        ("Rocky Linux:9", "widget", "pkg:rpm/rocky-linux/widget", "rpm"),
        ("Hackage", "widget", None, "hackage"),
    ],
)
def test_osv_ecosystem_mapping(ecosystem, name, purl, version_type):
    data = osv_record(affected=[affected_entry(ecosystem, name, {"introduced": "0"}, {"fixed": "2.0"})])

    [entry] = parse_osv(data, "ecosystem.json").affected

    assert entry.package_name == name
    assert entry.purl == purl
    assert entry.versions[0].version_type == version_type


def test_osv_given_purl_kept():
    entry = affected_entry("npm", "widget", {"introduced": "0"}, {"fixed": "2.0.0"})
    entry["package"]["purl"] = "pkg:npm/widget"

    [product] = parse_osv(osv_record(affected=[entry]), "purl.json").affected

    assert product.purl == "pkg:npm/widget"


def test_osv_severity_vectors():
    v4 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
    v3 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    entry = affected_entry("npm", "widget", {"introduced": "0"}, {"fixed": "1.0.0"}, severity=[{"type": "CVSS_V3", "score": v3}])
    data = osv_record(
        severity=[{"type": "CVSS_V4", "score": v4}, {"type": "CVSS_V2", "score": "AV:N/AC:L/Au:N/C:P/I:P/A:P"},
                  {"type": "Ubuntu", "score": "high"}],
        affected=[entry],
    )

    report = parse_osv(data, "severity.json")

    assert [(metric.version, metric.vector) for metric in report.metrics] == [
        ("4.0", v4), ("2.0", "AV:N/AC:L/Au:N/C:P/I:P/A:P"), ("3.1", v3)
    ]
    assert {metric.container for metric in report.metrics} == {"GHSA-aaaa-bbbb-cccc"}


def test_osv_related_and_upstream():
    data = osv_record(related=["CVE-2026-20002"], upstream=["CVE-2026-20003", "CVE-2026-20002"])

    report = parse_osv(data, "related.json")

    assert report.related == ["CVE-2026-20002", "CVE-2026-20003"]
    assert report.aliases == ["CVE-2026-20001"]


BAD_OSV = [
    ("null-id", {"id": None}, "id must be a string, found null"),
    ("bad-id", {"id": "GHSA aaaa/../x"}, "is not an OSV id"),
    ("no-modified", {"modified": None}, "missing modified"),
    ("bad-modified", {"modified": "yesterday"}, "modified 'yesterday' is not an ISO 8601 timestamp"),
    ("bad-withdrawn", {"withdrawn": 5}, "withdrawn must be a string, found a number"),
    ("aliases-text", {"aliases": "CVE-2026-20001"}, "aliases must be a list"),
    ("alias-number", {"aliases": [7]}, "aliases[0] must be a non-empty string"),
    ("affected-text", {"affected": ["widget"]}, "affected[0] must be an object"),
    ("no-package", {"affected": [{"ranges": []}]}, "missing affected[0].package"),
    ("no-ecosystem", {"affected": [{"package": {"name": "w"}}]}, "missing affected[0].package.ecosystem"),
    ("range-type", {"affected": [affected_entry("npm", "w", {"introduced": "0"}, range_type="HG")]},
     "affected[0].ranges[0].type 'HG' is unknown"),
    ("two-kinds", {"affected": [affected_entry("npm", "w", {"introduced": "0", "fixed": "1"})]},
     "affected[0].ranges[0].events[0] must have exactly one of introduced, fixed, last_affected, limit"),
    ("no-introduced", {"affected": [affected_entry("npm", "w", {"fixed": "1"})]},
     "affected[0].ranges[0].events has no introduced event"),
    ("version-number", {"affected": [{"package": {"ecosystem": "npm", "name": "w"}, "versions": [1]}]},
     "affected[0].versions[0] must be a string, found a number"),
    ("severity-no-prefix", {"severity": [{"type": "CVSS_V3", "score": "AV:N/AC:L"}]}, "lacks the CVSS:x.y/ prefix"),
]


@pytest.mark.parametrize(("name", "fields", "problem"), BAD_OSV, ids=[case[0] for case in BAD_OSV])
def test_osv_bad_record_rejected(name, fields, problem):
    with pytest.raises(InvalidReport) as caught:
        parse_osv(osv_record(**fields), f"{name}.json")

    assert caught.value.file == f"{name}.json"
    assert problem in caught.value.problem


# ---------------------------------------------------------------- real emails


EMAILS = {
    "2023-01-12_CVE-2023-0122": ("CVE-2023-0122", "Tal Lossos <tallossos@gmail.com>"),
    "2023-10-19_CVE-2023-45802": ("CVE-2023-45802", "Stefan Eissing <icing@apache.org>"),
    "2025-05-07_CVE-2025-32873": ("CVE-2025-32873", "Natalia Bidart <nataliabidart@djangoproject.com>"),
}


def test_every_email_listed(shared_data):
    names = {"_".join(path.name.split("_")[:2]) for path in (shared_data / "mail").glob("*.eml")}

    assert names == set(EMAILS)


@pytest.mark.parametrize("name", sorted(EMAILS))
def test_email_parses_to_cve(shared_data, name):
    cve_id, reporter = EMAILS[name]
    [path] = (shared_data / "mail").glob(f"{name}*.eml")

    report = parse_report(path.read_bytes(), path.name)

    assert report.format == "email"
    assert report.id == cve_id
    assert report.reporter == reporter
    assert report.description
    assert report.published_at is None
    assert incident_id_for(report) == cve_id


def test_email_quoted_printable_body(shared_data):
    report = mail_file(shared_data, "2023-01-12_CVE-2023-0122")

    assert report.title == "CVE-2023-0122: Linux kernel: Pre-Auth Remote DoS in NVMe"
    assert "ctrl->ctrl_key = nvme_auth_extract_key" in report.description
    assert "\u2018DHHC-1:00:AAAA:\u2019" in report.description
    assert "=3D" not in report.description
    assert report.affected == []
    assert report.related == []


def test_email_other_cve_is_related(shared_data):
    report = mail_file(shared_data, "2023-10-19_CVE-2023-45802")

    assert report.title == "CVE-2023-45802: Apache HTTP Server: HTTP/2 stream memory not reclaimed right away on RST"
    assert report.related == ["CVE-2023-44487"]
    assert report.aliases == []
    assert "2.4.17 through 2.4.57" in report.description


def test_email_embedded_record_is_content(shared_data):
    report = mail_file(shared_data, "2025-05-07_CVE-2025-32873")

    assert report.title == "Denial-of-service possibility in strip_tags()"
    assert report.description.startswith("The `strip_tags()` function in Django is vulnerable to a potential")
    assert "\n" not in report.description
    assert report.references == ["https://www.djangoproject.com/weblog/2025/may/07/security-releases/"]
    [entry] = report.affected
    assert entry.package_name == "django"
    assert entry.collection_url == "https://github.com/django/django/"
    assert len(entry.versions) == 6


@pytest.mark.parametrize(
    ("version", "expected"),
    [("5.2.0", "affected"), ("5.2.1", "not_affected"), ("5.1.8", "affected"), ("4.2.21", "not_affected")],
)
def test_email_embedded_record_matches_django(shared_data, version, expected):
    report = mail_file(shared_data, "2025-05-07_CVE-2025-32873")

    status, reason = verdict(report, "django", version, f"pkg:pypi/django@{version}")

    assert status == expected, reason


# ---------------------------------------------------------------- emails built here


def test_email_without_cve_gets_internal_id():
    data = email_bytes("Crash in the gateway's login form", "Sending a long password crashes the gateway.")

    report = parse_email(data, "report.eml")

    assert report.id == f"IRP-{hashlib.sha256(data).hexdigest()[:12]}"
    assert report.title == "Crash in the gateway's login form"
    assert report.reporter == "Eve Reporter <eve@example.org>"
    assert incident_id_for(report) == report.id


def test_email_first_subject_cve_wins():
    data = email_bytes("Re: cve-2026-20002 and CVE-2026-20001", "Also see CVE-2026-20003 and CVE-2026-20001.")

    report = parse_email(data, "several.eml")

    assert report.id == "CVE-2026-20002"
    assert report.related == ["CVE-2026-20001", "CVE-2026-20003"]


def test_email_body_cve_when_subject_has_none():
    data = email_bytes("Security issue", "Assigned CVE-2026-20009 today; ignore CVE-2026-200091X and ACVE-2026-20008.")

    report = parse_email(data, "body.eml")

    assert report.id == "CVE-2026-20009"
    assert report.related == []


def test_email_description_bounded():
    data = email_bytes("CVE-2026-20001 report", "A" * (MAX_DESCRIPTION_CHARS + 500))

    report = parse_email(data, "long.eml")

    assert report.description.startswith("A" * MAX_DESCRIPTION_CHARS)
    assert report.description.endswith(f"[cut at {MAX_DESCRIPTION_CHARS} characters]")
    assert len(report.description) < MAX_DESCRIPTION_CHARS + 100


def test_email_attached_record_used():
    record = cve_record("CVE-2026-20011", package="widget", fixed="2.4.1")
    message = EmailMessage()
    message["From"] = "Finder <finder@example.org>"
    message["Subject"] = "Heap overflow, record attached"
    message.set_content("The record is attached.")
    message.add_attachment(json.dumps(record).encode(), maintype="application", subtype="json", filename="record.json")

    report = parse_report(message.as_bytes(), "attached.eml")

    assert report.format == "email"
    assert report.id == "CVE-2026-20011"
    assert report.title == "Heap overflow in widget"
    assert report.reporter == "Finder <finder@example.org>"
    assert report.metrics[0].vector.startswith("CVSS:3.1/")
    assert verdict(report, "widget", "2.4.0")[0] == "affected"
    assert verdict(report, "widget", "2.4.1")[0] == "not_affected"


def test_email_broken_attached_record_ignored():
    message = EmailMessage()
    message["From"] = "Finder <finder@example.org>"
    message["Subject"] = "CVE-2026-20012: record attached"
    message.set_content("Details in the attachment.")
    broken = {"dataType": "CVE_RECORD", "cveMetadata": {"cveId": "CVE-2026-20012"}}
    message.add_attachment(json.dumps(broken).encode(), maintype="application", subtype="json", filename="r.json")

    report = parse_email(message.as_bytes(), "broken.eml")

    assert report.id == "CVE-2026-20012"
    assert report.description == "Details in the attachment."
    assert report.affected == []


def test_email_html_only_body():
    message = EmailMessage()
    message["From"] = "web@example.org"
    message["Subject"] = "CVE-2026-20013"
    message.set_content("<html><style>p {}</style><p>Overflow&nbsp;in <b>widget</b></p></html>", subtype="html")

    report = parse_email(message.as_bytes(), "html.eml")

    assert report.description == "Overflow\xa0in widget"
    assert report.reporter == "web@example.org"


def test_email_latin1_body():
    data = (
        b"From: =?iso-8859-1?q?J=FCrgen?= <j@example.org>\r\nSubject: CVE-2026-20014\r\n"
        b"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        b"Gr\xfc\xdfe, a flaw in widget.\r\n"
    )

    report = parse_report(data, "latin1.eml")

    assert report.description == "Gr\u00fc\u00dfe, a flaw in widget."
    assert report.reporter == "J\u00fcrgen <j@example.org>"


def test_email_unknown_charset_replaced():
    data = b"Subject: CVE-2026-20015\r\nContent-Type: text/plain; charset=x-unknown\r\n\r\nflaw \xff here\r\n"

    report = parse_email(data, "charset.eml")

    assert report.description == "flaw \ufffd here"
    assert report.reporter is None


def test_email_nested_parts_rejected():
    depth = 2000
    parts = b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (level, level) for level in range(depth)
    )
    data = b"From: a@example.org\r\nSubject: CVE-2026-20016\r\n" + parts + b"text\r\n"

    with pytest.raises(InvalidReport) as caught:
        parse_email(data, "nested.eml")

    assert caught.value.file == "nested.eml"
    assert "nested too deeply" in caught.value.problem


def test_email_many_braces_parsed():
    data = email_bytes("CVE-2026-20018", "{\n" * 200_000)

    report = parse_email(data, "braces.eml")

    assert report.id == "CVE-2026-20018"
    assert report.affected == []


def test_email_without_identifying_headers_rejected():
    with pytest.raises(InvalidReport, match="has no From, Subject or Message-ID header"):
        parse_email(b"X-Other: 1\r\n\r\nCVE-2026-20017\r\n", "headless.eml")


# ---------------------------------------------------------------- format detection


CVE5_BYTES = json.dumps(cve_record("CVE-2026-20021")).encode()
EMAIL_BYTES = email_bytes("CVE-2026-20022 in widget", "Overflow in widget.")

DETECTED = [
    ("cve5", CVE5_BYTES, "cve5", "CVE-2026-20021"),
    ("cve5-bom-indented", b"\xef\xbb\xbf\n  " + CVE5_BYTES, "cve5", "CVE-2026-20021"),
    ("cve5-metadata-only", json.dumps({"cveMetadata": {}}).encode(), "cve5", None),
    ("osv", osv_record(), "osv", "GHSA-aaaa-bbbb-cccc"),
    ("osv-without-schema-version", osv_record(schema_version=None), "osv", "GHSA-aaaa-bbbb-cccc"),
    ("email", EMAIL_BYTES, "email", "CVE-2026-20022"),
    ("email-mbox-line", b"From eve@example.org Mon Jan  5 10:00:00 2026\n" + EMAIL_BYTES, "email", "CVE-2026-20022"),
    ("email-received-first", b"Received: from x\n\tby y\nMessage-ID: <1@x>\n\nhello\n", "email", None),
]


@pytest.mark.parametrize(("name", "data", "expected", "report_id"), DETECTED, ids=[case[0] for case in DETECTED])
def test_format_detected_from_content(name, data, expected, report_id):
    assert detect_format(data, f"{name}.txt") == expected
    if report_id is not None:
        assert parse_report(data, f"{name}.txt").id == report_id


UNKNOWN = [
    ("empty", b"", "the file is empty"),
    ("blank", b" \n\t\n", "the file is empty"),
    ("json-object", b'{"hello": "world"}', UNKNOWN_FORMAT),
    ("json-list", b"[1, 2]", UNKNOWN_FORMAT),
    ("osv-lookalike", b'{"id": "X-1", "modified": "2026-01-01T00:00:00Z"}', UNKNOWN_FORMAT),
    ("cyclonedx", b'{"bomFormat": "CycloneDX", "components": []}', UNKNOWN_FORMAT),
    ("yaml", b"id: CVE-2026-1\nmodified: today\n", UNKNOWN_FORMAT),
    ("headers-without-sender", b"Content-Type: text/plain\n\nCVE-2026-20023\n", UNKNOWN_FORMAT),
    ("prose", b"Hello team,\nCVE-2026-20024 affects us.\n", UNKNOWN_FORMAT),
    ("binary", bytes(range(256)) * 8, UNKNOWN_FORMAT),
    ("broken-json", b'{"dataType": "CVE_RECORD",', "not valid JSON"),
    ("not-utf8-json", b'{"id": "\xff"}', "not valid UTF-8"),
    ("deep-json", b"{" + b'"a":{' * 100_000 + b"}" * 100_001, "not valid JSON"),
    ("huge", b"{" + b" " * MAX_REPORT_BYTES + b"}", f"larger than the {MAX_REPORT_BYTES} byte limit"),
]


@pytest.mark.parametrize(("name", "data", "problem"), UNKNOWN, ids=[case[0] for case in UNKNOWN])
def test_unparseable_report_rejected(name, data, problem):
    with pytest.raises(InvalidReport) as caught:
        parse_report(data, f"{name}.eml")

    assert caught.value.file == f"{name}.eml"
    assert problem in caught.value.problem


def test_report_text_rejected():
    with pytest.raises(InvalidReport, match="expected bytes, found str"):
        parse_report("{}", "text.json")  # type: ignore[arg-type]


def test_file_name_ignored_by_detection(tmp_path):
    path = tmp_path / "CVE-2026-20025.json"
    path.write_bytes(EMAIL_BYTES)

    source = read_source(path, datetime.now(UTC))

    assert source.report.format == "email"
    assert source.report.id == "CVE-2026-20022"
    assert source.raw == EMAIL_BYTES.decode()


def test_read_source_keeps_undecodable_email(tmp_path):
    path = tmp_path / "latin1.eml"
    path.write_bytes(b"From: a@example.org\nSubject: CVE-2026-20026\n\nGr\xfc\xdfe\n")

    source = read_source(path, datetime.now(UTC))

    assert source.report.id == "CVE-2026-20026"
    assert source.raw.endswith("Gr\ufffd\ufffde\n")


def test_expand_paths_picks_reports(tmp_path):
    for name in ("a.json", "b.eml", "c.EML", "notes.txt", "sub/d.eml"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("x")

    found = [path.relative_to(tmp_path).as_posix() for path in expand_paths([tmp_path])]

    assert found == ["a.json", "b.eml", "c.EML", "sub/d.eml"]


# ---------------------------------------------------------------- incident id


def report(report_id: str, *aliases: str, withdrawn: bool = False) -> Report:
    """Build a bare report with an id and aliases."""
    withdrawn_at = datetime(2026, 1, 1, tzinfo=UTC) if withdrawn else None
    return Report(id=report_id, format="osv", aliases=list(aliases), withdrawn_at=withdrawn_at)


INCIDENT_IDS = [
    ("cve-record", report("CVE-2026-30001", "GHSA-aaaa-bbbb-cccc"), "CVE-2026-30001"),
    ("ghsa-with-cve", report("GHSA-aaaa-bbbb-cccc", "CVE-2026-30001"), "CVE-2026-30001"),
    ("first-cve-alias", report("PYSEC-2026-1", "GHSA-aaaa-bbbb-cccc", "CVE-2026-30002", "CVE-2026-30001"),
     "CVE-2026-30002"),
    ("lower-case-alias", report("GO-2026-1", "cve-2026-30003"), "CVE-2026-30003"),
    ("ghsa-alone", report("GHSA-aaaa-bbbb-cccc"), "GHSA-aaaa-bbbb-cccc"),
    ("pysec-with-ghsa", report("PYSEC-2026-2", "GHSA-aaaa-bbbb-cccc"), "PYSEC-2026-2"),
    ("internal", report("IRP-0123456789ab"), "IRP-0123456789ab"),
    ("alias-not-a-cve", report("GO-2026-2", "CVE-2026-1", "XCVE-2026-30004"), "GO-2026-2"),
    ("withdrawn-keeps-own", report("GHSA-aaaa-bbbb-cccc", "CVE-2026-30001", withdrawn=True), "GHSA-aaaa-bbbb-cccc"),
]


@pytest.mark.parametrize(("name", "source", "expected"), INCIDENT_IDS, ids=[case[0] for case in INCIDENT_IDS])
def test_incident_id_for(name, source, expected):
    assert incident_id_for(source) == expected


def test_incident_id_of_real_sources(shared_data):
    ghsa = osv_file(shared_data, "GHSA-jfh8-c2jp-5v3q.json")
    withdrawn = osv_file(shared_data, "withdrawn-example.osv.json")

    assert incident_id_for(ghsa) == "CVE-2021-44228"
    assert ghsa.id == "GHSA-jfh8-c2jp-5v3q"
    assert incident_id_for(withdrawn) == "GHSA-35c4-f3rq-f9g3"
