"""Publication: the CSAF provider directory, the advisory in Markdown and HTML, and the customer notification."""

from __future__ import annotations

import csv
import email
import email.policy
import hashlib
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.publication import PublicationActivities
from irp.csaf.build import build_vex
from irp.csaf.publish import (
    PublicationRefused,
    describe_changes,
    file_name,
    next_revision,
    provider_metadata_failures,
    publish,
)
from irp.csaf.validate import validate_document
from irp.outputs import EmbargoInForce, render_outputs
from irp.settings import Settings
from models.incident import (
    Affect,
    CvssScore,
    EmbargoState,
    EngineeringDecision,
    Impact,
    IncidentStatus,
    Phase,
    Tracker,
)
from models.publication import PublishCsafInput
from models.records import AffectStatus, Report
from models.steps import RenderInput

BASE_URL = "https://psirt.acme.example/.well-known/csaf"
PUBLISHER = {"publisher_name": "Acme PSIRT", "publisher_namespace": "https://psirt.acme.example"}
VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
DECEMBER = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LATER = datetime(2026, 12, 20, 16, 30, tzinfo=UTC)
LAST_YEAR = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)

LONG_LINE = "A" * 5000
HOSTILE = (
    "{{ 7 * 7 }} {% for x in range(3) %}loop{% endfor %} <script>alert(1)</script> <b>bold</b> "
    "[link](javascript:alert(1)) | pipe \x1b[31mred\x07 \u202eevil\u202c " + LONG_LINE + "\n# heading\n- item"
)


def affect(stream: str = "2.x", status: AffectStatus = AffectStatus.affected, **fields: Any) -> Affect:
    """Build an affect of Acme Gateway's stream."""
    return Affect(product="Acme Gateway", stream=stream, component="libparse", version="1.2", status=status, reason="matched 1.2", **fields)


def tracker(decision: EngineeringDecision | None, stream: str = "2.x", **fields: Any) -> Tracker:
    """Build a tracker of Acme Gateway's stream."""
    return Tracker(id=f"T-{stream}", product="Acme Gateway", stream=stream, decision=decision, **fields)


def incident(incident_id: str = "CVE-2026-50001", *affects: Affect, trackers: list[Tracker] | None = None, **fields: Any) -> IncidentStatus:
    """Build an incident in closure with the given affects and trackers."""
    values: dict[str, Any] = {
        "id": incident_id,
        "phase": Phase.closure,
        "title": "Heap overflow in the parser",
        "description": "A crafted message overflows a heap buffer.",
        "impact": Impact.important,
        "cvss": CvssScore(version="3.1", vector=VECTOR, base_score=9.8, severity="Critical"),
        "cwe": "CWE-787",
    }
    values.update(fields)
    return IncidentStatus(affects=list(affects or [affect()]), trackers=trackers or [], **values)


def vex(status: IncidentStatus, now: datetime, provider_dir: Path | None = None, summary: str = "Initial version.") -> dict[str, Any]:
    """Build the incident's VEX document, continuing the history published in `provider_dir`."""
    history = next_revision(provider_dir, status.id, summary, now) if provider_dir else None
    return build_vex(status, **PUBLISHER, revision_history=history, now=now)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Return every file below a folder with its bytes."""
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def changes(tlp_dir: Path) -> list[list[str]]:
    """Return the rows of a TLP folder's changes.csv."""
    with (tlp_dir / "changes.csv").open(newline="") as handle:
        return list(csv.reader(handle))


def index(tlp_dir: Path) -> list[str]:
    """Return the lines of a TLP folder's index.txt."""
    return (tlp_dir / "index.txt").read_text().splitlines()


@pytest.fixture
def provider_dir(tmp_path: Path) -> Path:
    return tmp_path / "csaf"


@pytest.fixture
def two_published(provider_dir: Path) -> Path:
    """Publish a 2026 incident and an older 2025 one with an id that needs the file name rule."""
    publish(vex(incident(), DECEMBER), provider_dir, now=DECEMBER, base_url=BASE_URL)
    publish(vex(incident("ACME/SA 2025:07"), LAST_YEAR), provider_dir, now=LAST_YEAR, base_url=BASE_URL)
    return provider_dir


# The provider directory.


@pytest.mark.parametrize(
    ("tracking_id", "expected"),
    [
        ("CVE-2026-50001", "cve-2026-50001.json"),
        ("Example Company - 2019-YH3234", "example_company_-_2019-yh3234.json"),
        ("ACME/SA 2025:07", "acme_sa_2025_07.json"),
        ("../../etc/passwd", "_etc_passwd.json"),
        ("RHSA-2026:1+ÄÖ", "rhsa-2026_1+_.json"),
    ],
)
def test_file_name_follows_csaf_rule(tracking_id: str, expected: str) -> None:
    assert file_name(tracking_id) == expected


def test_publish_lays_out_directory(two_published: Path) -> None:
    assert sorted(snapshot(two_published)) == [
        "provider-metadata.json",
        "white/2025/acme_sa_2025_07.json",
        "white/2025/acme_sa_2025_07.json.sha256",
        "white/2025/acme_sa_2025_07.json.sha512",
        "white/2026/cve-2026-50001.json",
        "white/2026/cve-2026-50001.json.sha256",
        "white/2026/cve-2026-50001.json.sha512",
        "white/changes.csv",
        "white/index.txt",
    ]


def test_provider_metadata_is_valid(two_published: Path) -> None:
    metadata = json.loads((two_published / "provider-metadata.json").read_text())

    assert provider_metadata_failures(metadata) == []
    assert metadata["canonical_url"] == f"{BASE_URL}/provider-metadata.json"
    assert metadata["distributions"] == [{"directory_url": f"{BASE_URL}/white/"}]
    assert metadata["metadata_version"] == "2.0"
    assert metadata["role"] == "csaf_provider"
    assert metadata["publisher"] == {"category": "vendor", "name": "Acme PSIRT", "namespace": "https://psirt.acme.example"}
    assert metadata["list_on_CSAF_aggregators"] is True
    assert metadata["mirror_on_CSAF_aggregators"] is True
    assert metadata["last_updated"] == "2026-12-01T09:00:00Z"


def test_provider_metadata_failures_name_fields() -> None:
    failures = provider_metadata_failures({"canonical_url": "https://x.example/metadata.json", "publisher": {"name": "x"}})

    paths = {failure.path for failure in failures}
    assert "/canonical_url" in paths
    assert "/publisher" in paths
    assert any("role" in failure.message for failure in failures)


def test_indexes_list_each_document(two_published: Path) -> None:
    white = two_published / "white"

    assert index(white) == ["2025/acme_sa_2025_07.json", "2026/cve-2026-50001.json"]
    assert changes(white) == [
        ["2026/cve-2026-50001.json", "2026-12-01T09:00:00Z"],
        ["2025/acme_sa_2025_07.json", "2025-06-02T12:00:00Z"],
    ]
    assert (white / "changes.csv").read_text().startswith('"2026/cve-2026-50001.json","2026-12-01T09:00:00Z"\n')


def test_hash_files_verify(two_published: Path) -> None:
    for document in (two_published / "white").glob("*/*.json"):
        content = document.read_bytes()
        for algorithm in ("sha256", "sha512"):
            line = document.with_name(f"{document.name}.{algorithm}").read_text()
            assert line == f"{hashlib.new(algorithm, content).hexdigest()}  {document.name}\n"


def test_published_document_is_unchanged(two_published: Path) -> None:
    document = json.loads((two_published / "white/2026/cve-2026-50001.json").read_text())

    assert document == vex(incident(), DECEMBER)
    assert validate_document(document) == []


def test_publish_same_document_twice_writes_nothing(two_published: Path) -> None:
    before = snapshot(two_published)
    mtimes = {path: path.stat().st_mtime_ns for path in two_published.rglob("*")}

    result = publish(vex(incident(), DECEMBER), two_published, now=LATER, base_url=BASE_URL)

    assert result.written is False
    assert snapshot(two_published) == before
    assert {path: path.stat().st_mtime_ns for path in two_published.rglob("*")} == mtimes


def test_republish_updated_bumps_version(two_published: Path) -> None:
    fixed = incident(trackers=[tracker(EngineeringDecision.fixed, fixed_in="2.3.1")])
    previous = json.loads((two_published / "white/2026/cve-2026-50001.json").read_text())
    summary = describe_changes(previous, build_vex(fixed, **PUBLISHER, revision_history=None, now=LATER))

    result = publish(vex(fixed, LATER, two_published, summary), two_published, now=LATER, base_url=BASE_URL)

    document = json.loads(result.path.read_text())
    tracking = document["document"]["tracking"]
    assert result.version == "2"
    assert tracking["version"] == "2"
    assert [entry["number"] for entry in tracking["revision_history"]] == ["1", "2"]
    assert tracking["revision_history"][1]["summary"] == summary
    assert "product status" in summary
    assert tracking["initial_release_date"] == "2026-12-01T09:00:00Z"
    assert validate_document(document) == []
    assert result.sha256 == hashlib.sha256(result.path.read_bytes()).hexdigest()


def test_republish_keeps_indexes_unique(two_published: Path) -> None:
    fixed = incident(trackers=[tracker(EngineeringDecision.fixed, fixed_in="2.3.1")])
    publish(vex(fixed, LATER, two_published, "Fixed."), two_published, now=LATER, base_url=BASE_URL)
    publish(vex(fixed, LATER, two_published, "Fixed."), two_published, now=LATER, base_url=BASE_URL)

    white = two_published / "white"
    assert index(white) == ["2025/acme_sa_2025_07.json", "2026/cve-2026-50001.json"]
    assert changes(white) == [
        ["2026/cve-2026-50001.json", "2026-12-20T16:30:00Z"],
        ["2025/acme_sa_2025_07.json", "2025-06-02T12:00:00Z"],
    ]
    assert json.loads((white / "2026/cve-2026-50001.json").read_text())["document"]["tracking"]["version"] == "3"


def test_next_revision_without_published_document(provider_dir: Path) -> None:
    history = next_revision(provider_dir, "CVE-2026-50001", "Initial version.", DECEMBER)

    assert [(entry.number, entry.date, entry.summary) for entry in history] == [("1", DECEMBER, "Initial version.")]


def test_next_revision_never_dates_back(two_published: Path) -> None:
    history = next_revision(two_published, "CVE-2026-50001", "Clock skew.", datetime(2026, 11, 1, tzinfo=UTC))

    assert [entry.number for entry in history] == ["1", "2"]
    assert history[1].date == DECEMBER


def test_invalid_document_is_rejected(provider_dir: Path) -> None:
    document = vex(incident(), DECEMBER)
    document["document"]["tracking"]["version"] = "7"

    with pytest.raises(PublicationRefused, match="6.1.16") as refused:
        publish(document, provider_dir, now=DECEMBER, base_url=BASE_URL)

    assert "6.1.16" in {failure.test for failure in refused.value.failures}
    assert not provider_dir.exists()


def test_schema_failure_is_rejected(provider_dir: Path) -> None:
    document = vex(incident(), DECEMBER)
    del document["product_tree"]["branches"]

    with pytest.raises(PublicationRefused) as refused:
        publish(document, provider_dir, now=DECEMBER, base_url=BASE_URL)

    assert refused.value.failures
    assert not provider_dir.exists()


def test_embargoed_document_is_rejected(provider_dir: Path) -> None:
    embargoed = incident(embargo=EmbargoState(embargoed=True, public_date=LATER))
    document = vex(embargoed, DECEMBER)
    assert document["document"]["distribution"]["tlp"]["label"] == "RED"

    with pytest.raises(PublicationRefused, match="TLP:RED"):
        publish(document, provider_dir, now=DECEMBER, base_url=BASE_URL)

    assert not provider_dir.exists()


@pytest.mark.parametrize("label", ["AMBER", "RED"])
def test_restricted_label_is_rejected(provider_dir: Path, label: str) -> None:
    document = vex(incident(), DECEMBER)
    document["document"]["distribution"]["tlp"]["label"] = label

    with pytest.raises(PublicationRefused, match=f"TLP:{label}"):
        publish(document, provider_dir, now=DECEMBER, base_url=BASE_URL)


def test_unlabeled_document_is_rejected(provider_dir: Path) -> None:
    document = vex(incident(), DECEMBER)
    del document["document"]["distribution"]

    with pytest.raises(PublicationRefused, match="TLP label"):
        publish(document, provider_dir, now=DECEMBER, base_url=BASE_URL)


def test_red_copy_replaced_after_lift(provider_dir: Path) -> None:
    embargoed = incident(embargo=EmbargoState(embargoed=True, public_date=LATER))
    red = publish(vex(embargoed, DECEMBER), provider_dir, now=DECEMBER, base_url=BASE_URL, allow_restricted=True)
    metadata = json.loads((provider_dir / "provider-metadata.json").read_text())
    assert red.tlp_folder == "red"
    assert metadata["distributions"] == [{"directory_url": f"{BASE_URL}/white/"}]

    lifted = incident(embargo=EmbargoState(embargoed=False, lifted_at=LATER))
    white = publish(vex(lifted, LATER, provider_dir, "Embargo lifted."), provider_dir, now=LATER, base_url=BASE_URL)

    assert white.tlp_folder == "white"
    assert white.version == "2"
    assert not red.path.exists()
    assert index(provider_dir / "red") == []
    assert changes(provider_dir / "red") == []
    assert index(provider_dir / "white") == ["2026/cve-2026-50001.json"]


def test_older_version_is_rejected(two_published: Path) -> None:
    fixed = incident(trackers=[tracker(EngineeringDecision.fixed, fixed_in="2.3.1")])
    publish(vex(fixed, LATER, two_published, "Fixed."), two_published, now=LATER, base_url=BASE_URL)

    with pytest.raises(PublicationRefused, match="older than the published version 2"):
        publish(vex(incident(), DECEMBER), two_published, now=LATER, base_url=BASE_URL)


def test_same_version_changed_content_rejected(two_published: Path) -> None:
    changed = vex(incident(title="Another title"), DECEMBER)

    with pytest.raises(PublicationRefused, match="already published with other content"):
        publish(changed, two_published, now=LATER, base_url=BASE_URL)


def test_base_url_must_be_https(provider_dir: Path) -> None:
    with pytest.raises(ValueError, match="invalid CSAF base URL"):
        publish(vex(incident(), DECEMBER), provider_dir, now=DECEMBER, base_url="http://psirt.acme.example/csaf")


def test_corrupt_published_document_is_named(two_published: Path) -> None:
    broken = two_published / "white/2026/cve-2026-50001.json"
    broken.write_text("{not json")

    with pytest.raises(ValueError, match="cve-2026-50001.json cannot be read"):
        next_revision(two_published, "CVE-2026-50001", "Again.", LATER)


# Human-readable outputs.

STATUS_CASES = [
    ("fixed", [tracker(EngineeringDecision.fixed, fixed_in="2.3.1")], [], "Fixed in 2.3.1", "Update to 2.3.1 or later."),
    ("fix planned", [tracker(EngineeringDecision.fix, target_date=date(2027, 1, 15))], [], "Affected, fix planned", "A fix is planned for 2027-01-15."),
    ("won't fix", [tracker(EngineeringDecision.wont_fix, justification="End of life.")], [], "Affected, no fix planned", "No fix is planned. End of life."),
    ("deferred", [tracker(EngineeringDecision.defer)], [], "Affected, fix deferred", "The fix is deferred."),
    ("not affected tracker", [tracker(EngineeringDecision.not_affected, justification="not shipped")], [], "Not affected", "No action is needed."),
    ("pending", [tracker(None)], [], "Affected", "A fix is not yet available."),
    ("affected without tracker", [], [affect()], "Affected", "A fix is not yet available."),
    ("unknown", [], [affect(status=AffectStatus.unknown)], "Under investigation", "We are investigating"),
    ("not affected", [], [affect(status=AffectStatus.not_affected)], "Not affected", "No action is needed."),
]


def hostile_incident(trackers: list[Tracker], affects: list[Affect]) -> IncidentStatus:
    """Build an incident whose free text fields all carry hostile text."""
    report = Report(
        id="CVE-2026-50001",
        format="cve5",
        references=["https://example.org/advisories/widget", "javascript:alert(1)", "https://x.example/<script>"],
    )
    return incident(
        "CVE-2026-50001",
        *affects,
        trackers=trackers,
        title=HOSTILE,
        description=HOSTILE,
        statement=HOSTILE,
        mitigation=HOSTILE,
        report=report,
    )


def read_outputs(paths: list[str]) -> tuple[str, str, email.message.EmailMessage]:
    """Return the Markdown, the HTML and the parsed email of rendered outputs."""
    by_name = {Path(path).name: Path(path) for path in paths}
    message = email.message_from_bytes(by_name["customer-notification.eml"].read_bytes(), policy=email.policy.default)
    return by_name["advisory.md"].read_text(), by_name["advisory.html"].read_text(), message


@pytest.mark.parametrize(("case", "trackers", "affects", "status", "action"), STATUS_CASES, ids=[case[0] for case in STATUS_CASES])
def test_outputs_render_each_status(tmp_path: Path, case: str, trackers: list, affects: list, status: str, action: str) -> None:
    paths = render_outputs(hostile_incident(trackers, affects), tmp_path, advisory_url=f"{BASE_URL}/white/2026/cve-2026-50001.json")

    _, html, message = read_outputs(paths)
    text = message.get_content()
    assert f"Acme Gateway 2.x (libparse 1.2): {status}" in text
    assert action in text
    assert f"{BASE_URL}/white/2026/cve-2026-50001.json" in text
    assert "https://example.org/advisories/widget" in text
    assert "<td>Acme Gateway</td><td>2.x</td>" in html


def test_html_escapes_hostile_text(tmp_path: Path) -> None:
    _, html, _ = read_outputs(render_outputs(hostile_incident([tracker(EngineeringDecision.fixed, fixed_in="2.3.1")], []), tmp_path))

    assert "<script" not in html
    assert "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "{{ 7 * 7 }}" in html
    assert "{% for x in range(3) %}loop{% endfor %}" in html
    assert "looploop" not in html
    assert 'href="javascript' not in html
    assert 'href="https://example.org/advisories/widget"' in html
    assert "https://x.example/" not in html
    assert "\x1b" not in html
    assert "\u202e" not in html
    assert "<link" not in html
    assert "<img" not in html


def test_markdown_keeps_hostile_text_literal(tmp_path: Path) -> None:
    markdown, _, _ = read_outputs(render_outputs(hostile_incident([tracker(EngineeringDecision.fixed, fixed_in="2.3.1")], []), tmp_path))

    assert "{{ 7 * 7 }} {% for x in range(3) %}loop{% endfor %}" in markdown
    assert "looploop" not in markdown
    assert "<script>" not in markdown
    assert "\\<script\\>alert(1)\\</script\\>" in markdown
    assert "\\[link\\](javascript:alert(1))" in markdown
    assert "\n\\# heading\n\\- item" in markdown
    assert "\n# heading" not in markdown
    assert " \\| pipe" in markdown
    assert " | pipe" not in markdown
    assert "| Fixed in 2.3.1 |" in markdown
    assert LONG_LINE in markdown
    assert "\x1b" not in markdown
    assert "- <https://example.org/advisories/widget>" in markdown
    assert "javascript:alert(1)>" not in markdown


def test_notification_is_valid_email(tmp_path: Path) -> None:
    paths = render_outputs(
        hostile_incident([tracker(EngineeringDecision.fixed, fixed_in="2.3.1")], []),
        tmp_path,
        sender="Acme PSIRT <psirt@acme.example>",
        recipients=["ops@customer.example", "Security Team <security@customer.example>"],
        publisher="Acme PSIRT",
        date=LATER,
    )
    raw = Path(paths[2]).read_bytes()
    _, _, message = read_outputs(paths)

    assert message["From"] == "Acme PSIRT <psirt@acme.example>"
    assert message["To"] == "ops@customer.example, Security Team <security@customer.example>"
    assert message["Date"] == "Sun, 20 Dec 2026 16:30:00 +0000"
    assert message["Subject"].startswith("[Acme PSIRT] Security advisory CVE-2026-50001: {{ 7 * 7 }}")
    assert len(message["Subject"]) <= 150
    assert "\n" not in message["Subject"]
    assert max(len(line) for line in raw.splitlines()) <= 998
    text = message.get_content()
    assert "{{ 7 * 7 }} {% for x in range(3) %}loop{% endfor %} <script>alert(1)</script>" in text
    assert "looploop" not in text
    assert LONG_LINE in text
    assert "\x1b" not in text
    assert "\x07" not in text
    assert "- Acme Gateway 2.x: 2.3.1 or later" in text
    assert "javascript:" not in text.split("MORE INFORMATION")[1]


def test_notification_without_recipients_is_undisclosed(tmp_path: Path) -> None:
    _, _, message = read_outputs(render_outputs(incident(), tmp_path))

    assert message["To"] == "undisclosed-recipients:;"
    assert "No fixed version is available yet." in message.get_content()


def test_notification_rejects_header_injection(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="invalid sender"):
        render_outputs(incident(), tmp_path, sender="psirt@acme.example\nBcc: everyone@example.org")


def test_embargoed_outputs_are_rejected(tmp_path: Path) -> None:
    embargoed = incident(embargo=EmbargoState(embargoed=True, public_date=LATER))

    with pytest.raises(EmbargoInForce, match="under embargo"):
        render_outputs(embargoed, tmp_path)

    assert list(tmp_path.iterdir()) == []


def test_outputs_stay_in_incident_folder(tmp_path: Path) -> None:
    paths = render_outputs(incident("../../etc/passwd"), tmp_path)

    assert all(Path(path).resolve().is_relative_to(tmp_path) for path in paths)


# Activities.


@pytest.fixture
def activities(settings: Settings) -> PublicationActivities:
    return PublicationActivities(settings)


def test_settings_default_csaf_directory(settings: Settings) -> None:
    assert settings.csaf_dir == settings.home / "csaf"
    assert settings.csaf_base_url == "https://security.example.org/.well-known/csaf"
    assert settings.publisher_name == "irp demo PSIRT"


def test_publish_csaf_retry_repeats_nothing(activities: PublicationActivities, settings: Settings) -> None:
    environment = ActivityEnvironment()
    step = PublishCsafInput(incident=incident(), now=DECEMBER)

    first = environment.run(activities.publish_csaf, step)
    before = snapshot(settings.csaf_dir)
    again = environment.run(activities.publish_csaf, step.model_copy(update={"now": LATER}))

    assert (first.version, first.already_published) == ("1", False)
    assert (again.version, again.already_published, again.sha256) == ("1", True, first.sha256)
    assert snapshot(settings.csaf_dir) == before
    assert first.url == "https://security.example.org/.well-known/csaf/white/2026/cve-2026-50001.json"
    assert hashlib.sha256(Path(first.document_path).read_bytes()).hexdigest() == first.sha256
    document = json.loads(Path(first.document_path).read_text())
    assert document["document"]["publisher"]["name"] == "irp demo PSIRT"


def test_publish_csaf_bumps_updated_incident(activities: PublicationActivities) -> None:
    environment = ActivityEnvironment()
    environment.run(activities.publish_csaf, PublishCsafInput(incident=incident(), now=DECEMBER))
    closed = incident(phase=Phase.closed, trackers=[tracker(EngineeringDecision.fixed, fixed_in="2.3.1")])

    result = environment.run(activities.publish_csaf, PublishCsafInput(incident=closed, now=LATER, **PUBLISHER))

    document = json.loads(Path(result.document_path).read_text())
    history = document["document"]["tracking"]["revision_history"]
    assert result.version == "2"
    assert [entry["number"] for entry in history] == ["1", "2"]
    assert history[1]["summary"].startswith("Updated ")
    assert "final status" in history[1]["summary"]
    assert document["document"]["tracking"]["status"] == "final"
    assert validate_document(document) == []


def test_publish_csaf_rejects_embargo(activities: PublicationActivities, settings: Settings) -> None:
    embargoed = incident(embargo=EmbargoState(embargoed=True, public_date=LATER))

    with pytest.raises(ApplicationError, match="under embargo") as refused:
        ActivityEnvironment().run(activities.publish_csaf, PublishCsafInput(incident=embargoed, now=DECEMBER))

    assert refused.value.type == "EmbargoInForce"
    assert refused.value.non_retryable
    assert not settings.csaf_dir.exists()


def test_render_outputs_links_csaf(activities: PublicationActivities, settings: Settings) -> None:
    environment = ActivityEnvironment()
    published = environment.run(activities.publish_csaf, PublishCsafInput(incident=incident(), now=DECEMBER))

    result = environment.run(activities.render_outputs, RenderInput(incident=incident()))

    assert [Path(path).name for path in result.paths] == ["advisory.md", "advisory.html", "customer-notification.eml"]
    assert all(Path(path).parent == settings.outputs_dir / "CVE-2026-50001" for path in result.paths)
    _, html, message = read_outputs(result.paths)
    assert published.url in message.get_content()
    assert f'href="{published.url}"' in html
    assert message["From"] == "irp demo PSIRT <psirt@security.example.org>"


def test_render_outputs_rejects_embargo(activities: PublicationActivities, settings: Settings) -> None:
    embargoed = incident(embargo=EmbargoState(embargoed=True, public_date=LATER))

    with pytest.raises(ApplicationError, match="under embargo") as refused:
        ActivityEnvironment().run(activities.render_outputs, RenderInput(incident=embargoed))

    assert refused.value.non_retryable
    assert not settings.outputs_dir.exists()


def test_publish_leaves_no_temporary_files(two_published: Path) -> None:
    fixed = incident(trackers=[tracker(EngineeringDecision.fixed, fixed_in="2.3.1")])
    publish(vex(fixed, LATER, two_published, "Fixed."), two_published, now=LATER, base_url=BASE_URL)

    assert not [path for path in two_published.rglob("*") if path.name.startswith(".")]
