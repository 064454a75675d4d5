"""The incident's activities, run alone in Temporal's activity environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.testing import ActivityEnvironment

from activities.incident import IncidentActivities, InvalidStepInput
from irp.inventory import load_sbom
from irp.settings import Settings
from irp.sources.cve5 import parse_cve5
from models.incident import Affect, IncidentStatus, Phase
from models.records import AffectStatus
from models.steps import FileTrackersInput, MatchInput, RenderInput, ScoreInput
from tests.builders import cve_record, cyclonedx_sbom, write_json

HOSTILE = "{{ 7 * 7 }} {% for x in range(3) %}loop{% endfor %} <script>alert(1)</script> | pipe"


@pytest.fixture
def activities(settings: Settings) -> IncidentActivities:
    return IncidentActivities(settings)


def affect(stream: str) -> Affect:
    return Affect(product="Acme", stream=stream, component="widget", status=AffectStatus.affected, reason="range")


def test_file_trackers_twice_files_once(activities: IncidentActivities):
    environment = ActivityEnvironment()
    step = FileTrackersInput(incident_id="CVE-2026-40001", affects=[affect("1.x"), affect("2.x")])

    first = environment.run(activities.file_trackers, step)
    again = environment.run(activities.file_trackers, step)

    assert [t.id for t in first.trackers] == [t.id for t in again.trackers]
    assert len({t.id for t in first.trackers}) == 2


def test_match_inventory_reads_database(activities: IncidentActivities, settings: Settings, tmp_path: Path):
    sbom = write_json(tmp_path / "sbom.json", cyclonedx_sbom([("widget", "2.0.0")]))
    load_sbom(settings.database_url, sbom, product="Acme", stream="1.x")
    report = parse_cve5(write_json(tmp_path / "r.json", cve_record()).read_bytes(), "r.json")

    result = ActivityEnvironment().run(activities.match_inventory, MatchInput(report=report))

    assert [(a.stream, a.status) for a in result.affects] == [("1.x", AffectStatus.affected)]


def test_score_cvss_scores_v3_and_v4(activities: IncidentActivities):
    environment = ActivityEnvironment()
    v3 = environment.run(activities.score_cvss, ScoreInput(vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"))
    v4 = environment.run(
        activities.score_cvss,
        ScoreInput(vector="CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"),
    )
    assert (v3.base_score, v3.severity) == (6.1, "Medium")
    assert (v4.version, v4.base_score, v4.severity) == ("4.0", 9.3, "Critical")


def test_score_cvss_rejects_bad_vector(activities: IncidentActivities):
    with pytest.raises(InvalidStepInput, match="invalid CVSS vector"):
        ActivityEnvironment().run(activities.score_cvss, ScoreInput(vector="CVSS:3.1/AV:Q"))


def test_render_review_file_name_has_no_path(activities: IncidentActivities, settings: Settings):
    incident = IncidentStatus(id="../../etc/passwd", phase=Phase.closed, title=HOSTILE)
    result = ActivityEnvironment().run(activities.render_review, RenderInput(incident=incident))
    assert Path(result.paths[0]).resolve().is_relative_to(settings.outputs_dir)
    assert "{{ 7 * 7 }}" in Path(result.paths[0]).read_text()
