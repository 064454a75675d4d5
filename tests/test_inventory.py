"""Tests for loading and listing the product inventory, and for the demo data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cvss import CVSS3
from packageurl import PackageURL
from sqlmodel import Session
from typer.testing import CliRunner

from irp.cli import app
from irp.inventory import MAX_INVENTORY_BYTES, InvalidInventory, list_streams, load_inventory, load_sbom
from models.inventory import StreamInventory
from tests.db_fixtures import database_url  # noqa: F401 - pytest fixture

REPOSITORY = Path(__file__).resolve().parents[1]
DEMO = REPOSITORY / "demo"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SBOMS = SHARED_DATA / "sbom"

GATEWAY_MANIFEST = """\
product: Acme Gateway
stream: "2.0"
owner: gateway-team@acme.example
compliance_priority: true
components:
  - name: http-framer
    version: 1.10
    purl: pkg:npm/@example/http-framer@1.10
  - name: zlib
    version: 1.3.1
    cpe: cpe:2.3:a:zlib:zlib:1.3.1:*:*:*:*:*:*:*
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    """Write a file under tmp_path and return its path."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def cyclonedx(components: list, **extra) -> str:
    """Return a minimal CycloneDX JSON document with these components."""
    return json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": components, **extra})


def only_stream(url: str) -> StreamInventory:
    """Return the single stream in the database."""
    streams = list_streams(url)
    assert len(streams) == 1
    return streams[0]


def require_shared(path: Path) -> Path:
    """Skip the test when a file of the shared test data is not present."""
    if not path.exists():
        pytest.skip(f"shared test data not found: {path}")
    return path


# ---------------------------------------------------------------- YAML manifests


def test_manifest_loads_stream(database_url, tmp_path):
    path = write(tmp_path, "gateway.yaml", GATEWAY_MANIFEST)

    count = load_sbom(database_url, path)

    assert count == 2
    stream = only_stream(database_url)
    assert stream.product == "Acme Gateway"
    assert stream.stream == "2.0"
    assert stream.owner == "gateway-team@acme.example"
    assert stream.compliance_priority is True
    framer = next(component for component in stream.components if component.name == "http-framer")
    assert framer.version == "1.10"
    assert framer.purl == "pkg:npm/%40example/http-framer@1.10"
    zlib = next(component for component in stream.components if component.name == "zlib")
    assert zlib.purl is None
    assert zlib.cpe == "cpe:2.3:a:zlib:zlib:1.3.1:*:*:*:*:*:*:*"


def test_manifest_arguments_override_file(database_url, tmp_path):
    path = write(tmp_path, "gateway.yaml", GATEWAY_MANIFEST)

    load_sbom(database_url, path, product="Acme Edge", stream="2.1", owner="edge@acme.example",
              compliance_priority=False)

    stream = only_stream(database_url)
    assert (stream.product, stream.stream) == ("Acme Edge", "2.1")
    assert stream.owner == "edge@acme.example"
    assert stream.compliance_priority is False


def test_manifest_without_stream_needs_arguments(database_url, tmp_path):
    path = write(tmp_path, "bare.yaml", "components:\n  - name: zlib\n")

    with pytest.raises(InvalidInventory, match="names no product and stream"):
        load_sbom(database_url, path)
    assert load_sbom(database_url, path, product="Acme Gateway", stream="2.x") == 1


def test_reload_replaces_components(database_url, tmp_path):
    path = write(tmp_path, "gateway.yaml", GATEWAY_MANIFEST)
    load_sbom(database_url, path)
    load_sbom(database_url, path)
    assert len(only_stream(database_url).components) == 2

    smaller = GATEWAY_MANIFEST.split("  - name: zlib")[0]
    write(tmp_path, "gateway.yaml", smaller)
    load_sbom(database_url, path)

    stream = only_stream(database_url)
    assert [component.name for component in stream.components] == ["http-framer"]


def test_reload_keeps_owner_and_priority(database_url, tmp_path):
    load_sbom(database_url, write(tmp_path, "gateway.yaml", GATEWAY_MANIFEST))
    bare = write(tmp_path, "bare.yaml", "components:\n  - name: zlib\n")

    loaded = load_inventory(database_url, bare, product="Acme Gateway", stream="2.0")

    assert loaded.owner == "gateway-team@acme.example"
    assert loaded.compliance_priority is True

    stream = only_stream(database_url)
    assert stream.owner == "gateway-team@acme.example"
    assert stream.compliance_priority is True
    assert [component.name for component in stream.components] == ["zlib"]


def test_streams_listed_in_order(database_url, tmp_path):
    bare = write(tmp_path, "bare.yaml", "components:\n  - name: zlib\n  - name: openssl\n")
    load_sbom(database_url, bare, product="Portal", stream="5.x")
    load_sbom(database_url, bare, product="Gateway", stream="3.x")
    load_sbom(database_url, bare, product="Gateway", stream="2.x")

    streams = list_streams(database_url)

    assert [(stream.product, stream.stream) for stream in streams] == [
        ("Gateway", "2.x"),
        ("Gateway", "3.x"),
        ("Portal", "5.x"),
    ]
    assert [component.name for component in streams[0].components] == ["openssl", "zlib"]


# ---------------------------------------------------------------- CycloneDX


def test_cyclonedx_reads_nested_and_metadata(database_url, tmp_path):
    document = cyclonedx(
        [
            {
                "type": "library",
                "name": "outer",
                "version": "1.0.0",
                "purl": "pkg:npm/outer@1.0.0",
                "components": [{"type": "library", "name": "inner", "version": "2.0.0"}],
            },
            {"type": "file", "name": "/usr/lib/libouter.so"},
        ],
        metadata={"component": {"type": "application", "name": "app", "version": "9"}},
    )
    path = write(tmp_path, "bom.json", document)

    count = load_sbom(database_url, path, product="Acme", stream="1.x")

    assert count == 3
    names = {component.name for component in only_stream(database_url).components}
    assert names == {"app", "outer", "inner"}


def test_cyclonedx_needs_product_and_stream(database_url, tmp_path):
    path = write(tmp_path, "bom.json", cyclonedx([{"name": "zlib"}]))

    with pytest.raises(InvalidInventory, match="CycloneDX SBOM names no product and stream"):
        load_sbom(database_url, path)


def test_cyclonedx_properties_name_stream(database_url, tmp_path):
    properties = [
        {"name": "irp:product", "value": "Acme Gateway"},
        {"name": "irp:stream", "value": "3.x"},
        {"name": "irp:owner", "value": "gateway@acme.example"},
        {"name": "cdx:other", "value": "ignored"},
    ]
    path = write(tmp_path, "bom.json", cyclonedx([{"name": "zlib"}], metadata={"properties": properties}))

    load_sbom(database_url, path)

    stream = only_stream(database_url)
    assert (stream.product, stream.stream) == ("Acme Gateway", "3.x")
    assert stream.owner == "gateway@acme.example"


def test_cyclonedx_duplicates_stored_once(database_url, tmp_path):
    entry = {"type": "library", "name": "zlib", "version": "1.3.1", "purl": "pkg:generic/zlib@1.3.1"}
    path = write(tmp_path, "bom.json", cyclonedx([entry, dict(entry)]))

    assert load_sbom(database_url, path, product="Acme", stream="1.x") == 1


def test_format_detected_from_content(database_url, tmp_path):
    yaml_named_json = write(tmp_path, "inventory.json", GATEWAY_MANIFEST)
    json_named_yaml = write(tmp_path, "inventory.yaml", cyclonedx([{"name": "zlib"}]))

    assert load_sbom(database_url, yaml_named_json) == 2
    assert load_sbom(database_url, json_named_yaml, product="Acme", stream="1.x") == 1


# ---------------------------------------------------------------- bad input


BAD_INPUTS = [
    ("not-text.bin", b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "not UTF-8 text"),
    ("empty.json", b"  \n", "empty"),
    ("prose.txt", b"This is a note, not an inventory.\n", "not an inventory"),
    ("broken.json", b'{"bomFormat": "CycloneDX", "components": [', "invalid JSON at line 1"),
    ("broken.yaml", b"components:\n  - name: [unclosed\n", "neither JSON nor valid YAML"),
    ("list.json", b"[1, 2, 3]", "not a CycloneDX SBOM"),
    ("other.json", b'{"bomFormat": "SPDX", "components": []}', "not a CycloneDX SBOM"),
    ("spdx-packages-map.json", b'{"spdxVersion": "SPDX-2.3", "packages": {}}', "packages must be an array"),
    ("spdx-3.json", b'{"spdxVersion": "SPDX-3.0", "packages": []}', "'SPDX-3.0' is not supported"),
    ("spdx-nameless.json", b'{"spdxVersion": "SPDX-2.3", "packages": [{"versionInfo": "1"}]}',
     "packages[0] is missing a name"),
    ("spdx-bad-purl.json",
     b'{"spdxVersion": "SPDX-2.3", "packages": [{"name": "a", "externalRefs": '
     b'[{"referenceType": "purl", "referenceLocator": "npm/a@1"}]}]}',
     "packages[0].externalRefs purl 'npm/a@1' is not a valid purl"),
    ("nameless.json", cyclonedx([{"version": "1.0"}]).encode(), "components[0] is missing a name"),
    (
        "nested-nameless.json",
        cyclonedx([{"name": "a", "components": [{"name": ""}]}]).encode(),
        "components[0].components[0] is missing a name",
    ),
    ("number-version.json", cyclonedx([{"name": "a", "version": 1.2}]).encode(),
     "components[0].version must be a string, not float"),
    ("components-object.json", cyclonedx({"name": "a"}).encode(), "components must be an array"),
    ("component-string.json", cyclonedx(["zlib"]).encode(), "components[0] must be an object"),
    ("properties-object.json", cyclonedx([], metadata={"properties": {"irp:stream": "1"}}).encode(),
     "metadata.properties must be an array"),
    ("property-number.json", cyclonedx([], metadata={"properties": [{"name": "irp:stream", "value": 3}]}).encode(),
     "metadata.properties[0].value must be a string, not int"),
    ("bad-purl.json", cyclonedx([{"name": "a", "purl": "npm/a@1"}]).encode(),
     "components[0].purl 'npm/a@1' is not a valid purl"),
    ("nul.json", cyclonedx([{"name": "a\u0000b"}]).encode(), "components[0].name contains a NUL"),
    ("huge-int.json", b'{"bomFormat": "CycloneDX", "version": ' + b"9" * 5000 + b"}", "invalid JSON"),
    ("deep.json", b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ("nameless.yaml", b"product: p\nstream: s\ncomponents:\n  - version: 1.0\n",
     "components[0].name: Field required"),
    ("blank-name.yaml", b"product: p\nstream: s\ncomponents:\n  - name: ' '\n",
     "components[0] is missing a name"),
    ("list-version.yaml", b"product: p\nstream: s\ncomponents:\n  - name: a\n    version: [1]\n",
     "components[0].version: Input should be a valid string"),
    ("text-priority.yaml", b"product: p\nstream: s\ncompliance_priority: maybe\ncomponents: []\n",
     "compliance_priority: Input should be a valid boolean"),
    ("unknown-key.yaml", b"product: p\nstream: s\nversion: 2\ncomponents: []\n",
     "version: Extra inputs are not permitted"),
    ("components-map.yaml", b"product: p\nstream: s\ncomponents:\n  name: a\n",
     "components: Input should be a valid list"),
    ("bad-purl.yaml", b"product: p\nstream: s\ncomponents:\n  - name: a\n    purl: 'pkg:'\n",
     "components[0].purl 'pkg:' is not a valid purl"),
]


@pytest.mark.parametrize(("name", "content", "problem"), BAD_INPUTS, ids=[case[0] for case in BAD_INPUTS])
def test_bad_input_rejected(database_url, tmp_path, name, content, problem):
    path = tmp_path / name
    path.write_bytes(content)

    with pytest.raises(InvalidInventory) as caught:
        load_sbom(database_url, path, product="Acme", stream="1.x")

    assert str(path) in str(caught.value)
    assert problem in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_missing_file_rejected(database_url, tmp_path):
    path = tmp_path / "absent.json"

    with pytest.raises(InvalidInventory, match="cannot be read"):
        load_sbom(database_url, path, product="Acme", stream="1.x")


def test_huge_file_rejected(database_url, tmp_path):
    path = tmp_path / "huge.json"
    with path.open("wb") as stream:
        stream.truncate(MAX_INVENTORY_BYTES + 1)

    with pytest.raises(InvalidInventory, match="larger than 50 MB"):
        load_sbom(database_url, path, product="Acme", stream="1.x")


def test_bad_input_keeps_stored_stream(database_url, tmp_path):
    good = write(tmp_path, "gateway.yaml", GATEWAY_MANIFEST)
    load_sbom(database_url, good)
    before = only_stream(database_url)
    bad = write(tmp_path, "bad.json", cyclonedx([{"name": "a", "purl": "not a purl"}]))

    with pytest.raises(InvalidInventory):
        load_sbom(database_url, bad, product="Acme Gateway", stream="2.0")

    assert only_stream(database_url) == before


def test_failed_write_rolls_back(database_url, tmp_path, monkeypatch):
    path = write(tmp_path, "gateway.yaml", GATEWAY_MANIFEST)
    load_sbom(database_url, path)
    before = only_stream(database_url)

    def fail_add_all(self, instances):
        raise RuntimeError("simulated database failure")

    monkeypatch.setattr(Session, "add_all", fail_add_all)
    with pytest.raises(RuntimeError, match="simulated"):
        load_sbom(database_url, path, owner="someone-else@acme.example")
    monkeypatch.undo()

    assert only_stream(database_url) == before


# ---------------------------------------------------------------- real SBOMs


def test_dropwizard_sbom_loads(database_url):
    path = require_shared(SBOMS / "dropwizard-1.3.15__bom.json")

    count = load_sbom(database_url, path, product="Dropwizard", stream="1.3")

    # 167 components plus the metadata component, dropwizard-parent itself.
    assert count == 168
    components = only_stream(database_url).components
    assert all(component.purl.startswith("pkg:maven/") for component in components)
    purls = {component.purl for component in components}
    assert "pkg:maven/com.google.guava/guava@24.1.1-jre?type=jar" in purls
    assert "pkg:maven/io.dropwizard/dropwizard-parent@1.3.15" in purls


def test_debian_sbom_purls_normalised(database_url):
    path = require_shared(SBOMS / "debsbom_merge-full.cdx.json")

    load_sbom(database_url, path, product="Debian image", stream="12")

    components = only_stream(database_url).components
    purls = [component.purl for component in components if component.purl]
    assert len(purls) == 89
    assert all(purl == PackageURL.from_string(purl).to_string() for purl in purls)
    assert "pkg:deb/debian/buildah@1.28.2%2Bds1-3%2Bdeb12u1%2Bb1?arch=amd64" in purls
    buildah = next(component for component in components if component.name == "buildah")
    assert buildah.version == "1.28.2+ds1-3+deb12u1+b1"


def test_redhat_rpm_sbom_purls(database_url):
    path = require_shared(SBOMS / "openssl-3.0.7-18.el9_2.cdx.json")

    count = load_sbom(database_url, path, product="RHEL", stream="9.2")

    # The metadata component, the openssl source RPM, repeats one of the 36 components.
    assert count == 36
    purls = [component.purl for component in only_stream(database_url).components]
    assert all(purl.startswith("pkg:rpm/redhat/") for purl in purls)
    assert "pkg:rpm/redhat/openssl@3.0.7-18.el9_2?arch=src&epoch=1" in purls


def test_redhat_product_sbom_cpe(database_url):
    path = require_shared(SBOMS / "rhel-9.2-main+eus.cdx.json")

    load_sbom(database_url, path, product="RHEL", stream="9.2 MAIN+EUS")

    components = only_stream(database_url).components
    product = next(component for component in components if component.name == "Red Hat Enterprise Linux")
    assert product.cpe == "cpe:/o:redhat:enterprise_linux:9::baseos"


def test_spdx_minimal_sbom_loads(database_url, shared_data):
    path = shared_data / "sbom" / "spdx-examples_MinimalSBOMwPurl.json"

    count = load_sbom(database_url, path, product="Example", stream="1")

    assert count == 1
    component = only_stream(database_url).components[0]
    assert component.name == "tools-java"
    assert component.version == "1.5.1"
    assert component.purl == "pkg:github/spdx/tools-java@2235d5d7f7fe46ce1e0d54b7831c5681633b25cc"
    assert component.cpe is None


def test_spdx_redhat_product_sbom_loads(database_url, shared_data):
    path = shared_data / "sbom" / "rhel-9.4-main+eus.spdx.json"

    count = load_sbom(database_url, path, product="RHEL", stream="9.4 MAIN+EUS")

    assert count == 2
    components = {component.name: component for component in only_stream(database_url).components}
    product = components["Red Hat Enterprise Linux"]
    assert product.version == "9.4 MAIN+EUS"
    assert product.cpe == "cpe:/o:redhat:enterprise_linux:9::baseos"
    assert product.purl is None
    image = components["ubi9-micro-container"]
    assert image.version == "9.4-6.1716471860"
    assert image.purl.startswith("pkg:oci/ubi-micro@sha256:1c8483e0")
    assert "repository_url=registry.access.redhat.com/ubi9/ubi-micro" in image.purl


def test_spdx_sbom_needs_stream_name(database_url, shared_data):
    path = shared_data / "sbom" / "spdx-examples_MinimalSBOMwPurl.json"

    with pytest.raises(InvalidInventory, match="the SPDX SBOM names no product and stream"):
        load_sbom(database_url, path)


# ---------------------------------------------------------------- CLI


@pytest.fixture
def cli_environment(database_url, tmp_path, monkeypatch) -> str:
    """Point the CLI at the test database and return its URL."""
    monkeypatch.setenv("IRP_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("IRP_DATABASE_URL", database_url)
    # Wide enough that rich does not wrap table cells.
    monkeypatch.setenv("COLUMNS", "200")
    return database_url


def test_cli_load_prints_summary(cli_environment, tmp_path):
    path = write(tmp_path, "gateway.yaml", GATEWAY_MANIFEST)

    result = CliRunner().invoke(app, ["inventory", "load", str(path)])

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "loaded 2 components into Acme Gateway/2.0"


def test_cli_load_sbom_with_options(cli_environment, tmp_path):
    path = write(tmp_path, "bom.json", cyclonedx([{"name": "zlib", "version": "1.3.1"}]))
    arguments = ["inventory", "load", str(path), "--product", "Acme", "--stream", "1.x",
                 "--owner", "team@acme.example", "--compliance-priority"]

    result = CliRunner().invoke(app, arguments)

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "loaded 1 components into Acme/1.x"
    stream = only_stream(cli_environment)
    assert stream.owner == "team@acme.example"
    assert stream.compliance_priority is True


def test_cli_load_bad_input_fails(cli_environment, tmp_path):
    path = write(tmp_path, "bom.json", cyclonedx([{"name": "zlib"}]))

    result = CliRunner().invoke(app, ["inventory", "load", str(path)])

    assert result.exit_code == 1
    assert result.stdout == ""
    assert "error:" in result.stderr
    assert "names no product and stream" in result.stderr
    assert "Pass --product and --stream." in result.stderr


def test_cli_load_usage_error(cli_environment):
    result = CliRunner().invoke(app, ["inventory", "load"])

    assert result.exit_code == 2


def test_cli_list_table(cli_environment, tmp_path):
    CliRunner().invoke(app, ["inventory", "load", str(write(tmp_path, "g.yaml", GATEWAY_MANIFEST))])

    result = CliRunner().invoke(app, ["inventory", "list"])

    assert result.exit_code == 0, result.output
    assert "Acme Gateway" in result.stdout
    assert "gateway-team@acme.example" in result.stdout


def test_cli_list_empty(cli_environment):
    result = CliRunner().invoke(app, ["inventory", "list"])

    assert result.exit_code == 0, result.output
    assert "the inventory is empty" in result.stdout


def test_cli_list_json(cli_environment, tmp_path):
    CliRunner().invoke(app, ["inventory", "load", str(write(tmp_path, "g.yaml", GATEWAY_MANIFEST))])

    result = CliRunner().invoke(app, ["inventory", "list", "--json"])

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document == [
        {
            "product": "Acme Gateway",
            "stream": "2.0",
            "owner": "gateway-team@acme.example",
            "compliance_priority": True,
            "components": [
                {"name": "http-framer", "version": "1.10", "purl": "pkg:npm/%40example/http-framer@1.10"},
                {"name": "zlib", "version": "1.3.1", "purl": None},
            ],
        }
    ]


def test_cli_default_database_under_home(tmp_path, monkeypatch):
    monkeypatch.setenv("IRP_HOME", str(tmp_path / "fresh" / "home"))
    monkeypatch.delenv("IRP_DATABASE_URL", raising=False)

    result = CliRunner().invoke(app, ["inventory", "list", "--json"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []
    assert (tmp_path / "fresh" / "home" / "irp.db").exists()


# ---------------------------------------------------------------- demo data


def test_demo_inventory_loads(database_url):
    inventory = DEMO / "inventory"
    load_sbom(database_url, inventory / "acme-gateway-2.x.yaml")
    load_sbom(database_url, inventory / "acme-gateway-3.x.cdx.json")
    load_sbom(database_url, inventory / "acme-portal-5.x.yaml")

    streams = {(stream.product, stream.stream): stream for stream in list_streams(database_url)}

    assert set(streams) == {("Acme Gateway", "2.x"), ("Acme Gateway", "3.x"), ("Acme Portal", "5.x")}
    framer_versions = {
        key: next(component.version for component in stream.components if component.name == "http-framer")
        for key, stream in streams.items()
        if key[0] == "Acme Gateway"
    }
    assert framer_versions == {("Acme Gateway", "2.x"): "2.3.1", ("Acme Gateway", "3.x"): "2.4.1"}
    portal_purls = {component.purl for component in streams[("Acme Portal", "5.x")].components}
    assert "pkg:maven/org.example.text/markup-sanitizer@1.8.0" in portal_purls
    assert any(purl.startswith("pkg:npm/") for purl in portal_purls)


DEMO_REPORTS = sorted((DEMO / "reports").glob("CVE-*.json"))


@pytest.mark.parametrize("path", DEMO_REPORTS, ids=[path.stem for path in DEMO_REPORTS])
def test_demo_report_scores_match_vectors(path):
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record["dataType"] == "CVE_RECORD"
    assert record["cveMetadata"]["cveId"] == path.stem

    if record["cveMetadata"]["state"] == "REJECTED":
        assert record["containers"]["cna"]["rejectedReasons"]
        return

    metrics = [metric["cvssV3_1"] for metric in record["containers"]["cna"]["metrics"]]
    assert metrics
    for metric in metrics:
        cvss = CVSS3(metric["vectorString"])
        assert float(cvss.base_score) == metric["baseScore"]
        assert cvss.severities()[0].upper() == metric["baseSeverity"]


def test_demo_reports_cover_each_case():
    states = {
        path.stem: json.loads(path.read_text(encoding="utf-8"))["cveMetadata"]["state"]
        for path in DEMO_REPORTS
    }

    assert states == {
        "CVE-2026-90001": "PUBLISHED",
        "CVE-2026-90002": "PUBLISHED",
        "CVE-2026-90003": "PUBLISHED",
        "CVE-2026-90004": "REJECTED",
    }
