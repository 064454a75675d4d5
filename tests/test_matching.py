"""Tests for matching records against the inventory, on real records and small ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from irp.matching import match_affects, match_entry
from irp.sources.cve5 import parse_cve5
from models.inventory import ComponentPublic, StreamInventory
from models.records import (
    AffectedProduct,
    AffectStatus,
    RecordState,
    Report,
    VersionChange,
    VersionRange,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "cve5"

AFFECTED = AffectStatus.affected
NOT_AFFECTED = AffectStatus.not_affected
UNKNOWN = AffectStatus.unknown


def load_real(name: str) -> Report:
    """Parse one of the real records, skipping the test when the data folder is absent."""
    path = DATA / f"{name}.json"
    if not path.exists():
        pytest.skip(f"real CVE records not found at {DATA}")
    return parse_cve5(path.read_bytes(), path.name)


def stream(*components: ComponentPublic, name: str = "1.0") -> StreamInventory:
    """Build a stream of the demo product with the given components."""
    return StreamInventory(product="Demo Appliance", stream=name, owner="team-demo", components=list(components))


def component(name: str, version: str | None = None, purl: str | None = None, cpe: str | None = None) -> ComponentPublic:
    """Build an inventory component."""
    return ComponentPublic(name=name, version=version, purl=purl, cpe=cpe)


def report(*entries: AffectedProduct) -> Report:
    """Build a published report with the given affected entries."""
    return Report(id="CVE-2099-0001", format="cve5", affected=list(entries))


def semver_range(start: str, status: AffectStatus = AFFECTED, **bounds) -> VersionRange:
    """Build a semver range entry."""
    return VersionRange(version=start, status=status, version_type="semver", **bounds)


def decide(record: Report, *components: ComponentPublic):
    """Match one stream holding the components and return its `Affect`."""
    affects = match_affects(record, [stream(*components)])
    assert len(affects) == 1
    return affects[0]


MATCH_CASES = [
    # id, component, entry, expected match kind
    (
        "purl ignores version and qualifiers",
        component("log4j", purl="pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar"),
        AffectedProduct(purl="pkg:maven/org.apache.logging.log4j/log4j-core"),
        "purl",
    ),
    ("package name", component("openssh", "8.7p1"), AffectedProduct(product="Red Hat Enterprise Linux 9", package_name="openssh"), "package name"),
    ("package name any case", component("openssh", "8.7p1"), AffectedProduct(package_name="OpenSSH"), "package name"),
    (
        "maven coordinates as package name",
        component("log4j", purl="pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"),
        AffectedProduct(package_name="org.apache.logging.log4j:log4j-core"),
        "package name",
    ),
    ("product name", component("Tokio", "1.18.0"), AffectedProduct(vendor="tokio-rs", product="tokio"), "product name"),
    ("product as purl name", component("rust-tokio", purl="pkg:cargo/tokio@1.18.0"), AffectedProduct(product="tokio"), "product name"),
    (
        "cpe vendor and product",
        component("libc", "2.39", cpe="cpe:2.3:a:gnu:glibc:2.39:*:*:*:*:*:*:*"),
        AffectedProduct(product="GNU C Library", cpes=["cpe:2.3:a:gnu:glibc:-:*:*:*:*:*:*:*"]),
        "CPE",
    ),
    ("similar product name", component("log4j-core", "2.14.1"), AffectedProduct(vendor="Apache Software Foundation", product="Apache Log4j2"), "similar name"),
    ("similar package name", component("openssh-server", "8.7p1"), AffectedProduct(package_name="openssh"), "similar name"),
    ("different purl", component("log4j-api", purl="pkg:maven/org.apache.logging.log4j/log4j-api@2.14.1"), AffectedProduct(purl="pkg:maven/org.apache.logging.log4j/log4j-core"), None),
    ("unrelated name", component("zlib", "1.3"), AffectedProduct(vendor="tokio-rs", product="tokio"), None),
    (
        "distribution product ignored",
        component("Red Hat Enterprise Linux 9", "9.4"),
        AffectedProduct(vendor="Red Hat", product="Red Hat Enterprise Linux 9", package_name="openssh"),
        None,
    ),
    ("vague product name", component("http-parser", "2.9"), AffectedProduct(vendor="Apache", product="Apache HTTP Server"), None),
]


@pytest.mark.parametrize(
    ("item", "entry", "expected"),
    [case[1:] for case in MATCH_CASES],
    ids=[case[0] for case in MATCH_CASES],
)
def test_match_entry_kind(item, entry, expected):
    assert match_entry(item, entry) == expected


def test_match_affects_one_per_stream():
    record = report(AffectedProduct(product="demo", default_status=AFFECTED))
    streams = [
        stream(component("demo", "1.0"), name="1.0"),
        stream(component("other", "1.0"), name="2.0"),
        StreamInventory(product="Other Product", stream="main", components=[component("demo", "2.0")]),
    ]

    affects = match_affects(record, streams)

    assert [(affect.product, affect.stream) for affect in affects] == [
        ("Demo Appliance", "1.0"),
        ("Demo Appliance", "2.0"),
        ("Other Product", "main"),
    ]
    assert [affect.status for affect in affects] == [AFFECTED, NOT_AFFECTED, AFFECTED]
    assert [affect.owner for affect in affects] == ["team-demo", "team-demo", None]
    assert all(affect.decided_by == "automatic" for affect in affects)


def test_match_affects_names_deciding_component():
    record = report(AffectedProduct(package_name="demo", versions=[semver_range("1.0.0", less_than="2.0.0")], default_status=NOT_AFFECTED))
    deciding = component("demo", "1.5.0", purl="pkg:generic/demo@1.5.0")

    affect = decide(record, component("other", "9.9"), deciding)

    assert affect.status is AFFECTED
    assert affect.component == "demo"
    assert affect.version == "1.5.0"
    assert affect.purl == "pkg:generic/demo@1.5.0"
    assert affect.reason == "demo 1.5.0: affected by semver range 1.0.0 <= version < 2.0.0 (CNA entry for demo)"


def test_match_affects_no_matching_component():
    record = report(AffectedProduct(package_name="demo", default_status=AFFECTED))

    affect = decide(record, component("other", "1.0"), component("zlib", "1.3"))

    assert affect.status is NOT_AFFECTED
    assert affect.component is None
    assert affect.reason.startswith("no component of the stream matches the record")
    assert "checked 2 components against 1 record entries" in affect.reason


def test_match_affects_empty_stream():
    record = report(AffectedProduct(package_name="demo", default_status=AFFECTED))

    affect = decide(record)

    assert affect.status is UNKNOWN
    assert "no components" in affect.reason


def test_match_affects_record_without_products():
    affect = decide(report(), component("demo", "1.0"))

    assert affect.status is UNKNOWN
    assert "lists no affected products" in affect.reason


def test_match_affects_rejected_record():
    record = Report(id="CVE-2099-0001", format="cve5", state=RecordState.rejected, replaced_by=["CVE-2099-0002"])

    affect = decide(record, component("demo", "1.0"))

    assert affect.status is NOT_AFFECTED
    assert "REJECTED and replaced by CVE-2099-0002" in affect.reason


RULE_CASES = [
    # id, entries, components, expected status
    (
        "affected wins over not affected",
        [
            AffectedProduct(package_name="demo", default_status=NOT_AFFECTED),
            AffectedProduct(package_name="demo", default_status=AFFECTED, container="CISA-ADP"),
        ],
        [component("demo", "1.0.0")],
        AFFECTED,
    ),
    (
        "unknown wins over not affected",
        [
            AffectedProduct(package_name="demo", default_status=NOT_AFFECTED),
            AffectedProduct(package_name="demo", versions=[semver_range("2.0.0", less_than="3.0.0")], container="CISA-ADP"),
        ],
        [component("demo", "1.0.0")],
        UNKNOWN,
    ),
    (
        "affected component wins in stream",
        [AffectedProduct(package_name="demo", versions=[semver_range("1.0.0", less_than="2.0.0")], default_status=NOT_AFFECTED)],
        [component("demo", "2.5.0"), component("demo", "1.5.0")],
        AFFECTED,
    ),
    (
        "unknown component wins in stream",
        [AffectedProduct(package_name="demo", versions=[semver_range("1.0.0", less_than="2.0.0")], default_status=NOT_AFFECTED)],
        [component("demo", "2.5.0"), component("demo")],
        UNKNOWN,
    ),
    (
        "missing version is unknown",
        [AffectedProduct(package_name="demo", versions=[semver_range("1.0.0", less_than="2.0.0")], default_status=NOT_AFFECTED)],
        [component("demo")],
        UNKNOWN,
    ),
    (
        "missing version without ranges",
        [AffectedProduct(package_name="demo", default_status=NOT_AFFECTED)],
        [component("demo")],
        NOT_AFFECTED,
    ),
    (
        "missing version beats other entry",
        [
            AffectedProduct(package_name="demo", versions=[semver_range("1.0.0", less_than="2.0.0")], default_status=NOT_AFFECTED),
            AffectedProduct(product="Distro 9", package_name="demo", default_status=NOT_AFFECTED),
        ],
        [component("demo")],
        UNKNOWN,
    ),
    (
        "same product semver decides",
        [
            AffectedProduct(
                vendor="Linux",
                product="Linux",
                versions=[VersionRange(version="1da177e4c3f41524e886b7f1b8a0c1fc7321cac2", status=AFFECTED, version_type="git", less_than="a3e77da9f843e4ab93917d30c314f0283e28c124")],
                default_status=NOT_AFFECTED,
            ),
            AffectedProduct(
                vendor="Linux",
                product="Linux",
                versions=[semver_range("6.1.129", NOT_AFFECTED, less_than_or_equal="6.1.*")],
                default_status=AFFECTED,
            ),
        ],
        [component("linux", "6.1.130")],
        NOT_AFFECTED,
    ),
    (
        "other product git stays unknown",
        [
            AffectedProduct(
                vendor="Linux",
                product="Linux",
                versions=[VersionRange(version="1da177e4c3f41524e886b7f1b8a0c1fc7321cac2", status=AFFECTED, version_type="git", less_than="a3e77da9f843e4ab93917d30c314f0283e28c124")],
                default_status=NOT_AFFECTED,
            ),
            AffectedProduct(package_name="linux", product="Distro 9", default_status=NOT_AFFECTED),
        ],
        [component("linux", "6.1.130")],
        UNKNOWN,
    ),
    (
        "free text stays unknown",
        [AffectedProduct(vendor="tokio-rs", product="tokio", versions=[VersionRange(version=">= 1.7.0, < 1.18.4", status=AFFECTED)], default_status=NOT_AFFECTED)],
        [component("tokio", "1.30.0", purl="pkg:cargo/tokio@1.30.0")],
        UNKNOWN,
    ),
    (
        "changes inside maven range",
        [
            AffectedProduct(
                product="log4j-core",
                versions=[
                    VersionRange(
                        version="2.0-beta9",
                        status=AFFECTED,
                        version_type="maven",
                        less_than="*",
                        changes=[VersionChange(at="2.15.0", status=NOT_AFFECTED), VersionChange(at="2.3.1", status=NOT_AFFECTED), VersionChange(at="2.4", status=AFFECTED)],
                    )
                ],
            )
        ],
        [component("log4j-core", "2.3.2")],
        NOT_AFFECTED,
    ),
]


@pytest.mark.parametrize(
    ("entries", "components", "expected"),
    [case[1:] for case in RULE_CASES],
    ids=[case[0] for case in RULE_CASES],
)
def test_match_affects_rule(entries, components, expected):
    affect = decide(report(*entries), *components)

    assert affect.status is expected, affect.reason


LOG4J_CORE = "pkg:maven/org.apache.logging.log4j/log4j-core@{}"
OPENSSH_RPM = "pkg:rpm/redhat/openssh@{}?arch=x86_64"

REAL_CASES = [
    # id, record, component, expected status, words the reason must contain
    ("log4shell 2.14.1", "CVE-2021-44228", component("log4j-core", purl=LOG4J_CORE.format("2.14.1")), AFFECTED, "changes to affected at 2.13.0"),
    ("log4shell 2.17.1", "CVE-2021-44228", component("log4j-core", purl=LOG4J_CORE.format("2.17.1")), NOT_AFFECTED, "changes to not affected at 2.15.0"),
    ("log4shell 2.12.2", "CVE-2021-44228", component("log4j-core", purl=LOG4J_CORE.format("2.12.2")), NOT_AFFECTED, "at 2.12.2"),
    ("log4shell 2.3.1", "CVE-2021-44228", component("log4j-core", purl=LOG4J_CORE.format("2.3.1")), NOT_AFFECTED, "at 2.3.1"),
    ("log4shell 2.0-beta9", "CVE-2021-44228", component("log4j-core", purl=LOG4J_CORE.format("2.0-beta9")), AFFECTED, "2.0-beta9 <= version"),
    ("log4shell before range", "CVE-2021-44228", component("log4j-core", purl=LOG4J_CORE.format("2.0-alpha1")), UNKNOWN, "default status"),
    ("log4shell no purl", "CVE-2021-44228", component("log4j-core", "2.14.1"), UNKNOWN, "no purl of a known type"),
    ("log4shell log4j 1", "CVE-2021-44228", component("log4j", purl="pkg:maven/log4j/log4j@1.2.17"), UNKNOWN, "default status"),
    (
        "regresshion rpm before fix",
        "CVE-2024-6387",
        component("openssh", purl=OPENSSH_RPM.format("8.7p1-34.el9")),
        AFFECTED,
        "rpm range 8.5p1 <= version <= 9.7p1",
    ),
    (
        "regresshion rhel 9 entry",
        "CVE-2024-6387",
        component("openssh", purl=OPENSSH_RPM.format("8.7p1-34.el9")),
        AFFECTED,
        "openssh in Red Hat Enterprise Linux 9",
    ),
    (
        "regresshion fixed rpm still listed",
        "CVE-2024-6387",
        component("openssh", purl=OPENSSH_RPM.format("8.7p1-38.el9_4.1")),
        AFFECTED,
        "Red Hat Ceph Storage 6",
    ),
    ("regresshion unversioned", "CVE-2024-6387", component("openssh"), AFFECTED, "entry lists no versions"),
    ("kernel git only", "CVE-2025-21772", component("linux", "6.1.100"), UNKNOWN, "commit hashes"),
    ("kernel stable fixed", "CVE-2025-21772", component("linux", purl="pkg:generic/linux@6.1.129"), NOT_AFFECTED, "semver range 6.1.129 <= version <= 6.1.*"),
    ("kernel stable later", "CVE-2025-21772", component("linux", purl="pkg:generic/linux@6.6.80"), NOT_AFFECTED, "6.6.*"),
    ("kernel stable before fix", "CVE-2025-21772", component("linux", purl="pkg:generic/linux@6.1.100"), AFFECTED, "default status"),
    ("kernel mainline fixed", "CVE-2025-21772", component("linux", purl="pkg:generic/linux@6.15"), NOT_AFFECTED, "6.14-rc3 <= version"),
    ("tokio free text", "CVE-2023-22466", component("tokio", purl="pkg:cargo/tokio@1.18.0"), UNKNOWN, "'>= 1.7.0, < 1.18.4' is not a version string"),
    ("tokio free text fixed", "CVE-2023-22466", component("tokio", purl="pkg:cargo/tokio@1.30.0"), UNKNOWN, "not a version string"),
    ("glibc before fix", "CVE-2024-2961", component("glibc", purl="pkg:rpm/redhat/glibc@2.39-1"), AFFECTED, "rpm range 2.1.93 <= version < 2.40"),
    ("glibc after fix", "CVE-2024-2961", component("glibc", purl="pkg:rpm/redhat/glibc@2.41-1"), UNKNOWN, "CISA-ADP entry for glibc"),
    ("xz any version", "CVE-2024-3094", component("xz", "5.2.5"), AFFECTED, "CNA entry for xz"),
    ("xz libs similar", "CVE-2024-3094", component("xz-libs", "5.6.1"), AFFECTED, "matched by similar name"),
    ("log4j core before fix", "CVE-2025-68161", component("log4j-core", purl=LOG4J_CORE.format("2.25.2")), AFFECTED, "maven range 2.0-beta9 <= version < 2.25.3"),
    ("log4j core fixed", "CVE-2025-68161", component("log4j-core", purl=LOG4J_CORE.format("2.25.3")), NOT_AFFECTED, "default status"),
    ("log4j core 3 beta", "CVE-2025-68161", component("core", purl=LOG4J_CORE.format("3.0.0-beta3")), AFFECTED, "3.0.0-alpha1 <= version <= 3.0.0-beta3"),
    ("log4j api unrelated", "CVE-2025-68161", component("log4j-api", purl="pkg:maven/org.apache.logging.log4j/log4j-api@2.25.2"), NOT_AFFECTED, "no component"),
    ("rejected record", "CVE-2023-5129", component("libwebp", "1.3.1"), NOT_AFFECTED, "replaced by CVE-2023-4863"),
]


@pytest.mark.parametrize(
    ("cve_id", "item", "expected", "words"),
    [case[1:] for case in REAL_CASES],
    ids=[case[0] for case in REAL_CASES],
)
def test_match_affects_real_record(cve_id, item, expected, words):
    affect = decide(load_real(cve_id), item)

    assert affect.status is expected, affect.reason
    assert words in affect.reason


def test_match_affects_regresshion_reason():
    record = load_real("CVE-2024-6387")

    affect = decide(record, component("openssh", purl=OPENSSH_RPM.format("8.7p1-34.el9")))

    assert affect.reason.startswith("openssh 8.7p1-34.el9: affected by rpm range 8.5p1 <= version <= 9.7p1 (CNA entry for OpenSSH)")
    assert affect.component == "openssh"
    assert affect.version == "8.7p1-34.el9"


def test_match_affects_rpm_epoch_from_purl():
    # The RHEL 9 entry marks 0:8.7p1-38.el9_4.1 and later unaffected; epoch 1 sorts above it.
    rhel9 = [entry for entry in load_real("CVE-2024-6387").affected if entry.product == "Red Hat Enterprise Linux 9"]
    record = report(*rhel9)

    older = decide(record, component("openssh", purl="pkg:rpm/redhat/openssh@8.7p1-34.el9?epoch=0"))
    newer_epoch = decide(record, component("openssh", purl="pkg:rpm/redhat/openssh@8.7p1-34.el9?epoch=1"))

    assert older.status is AFFECTED
    assert older.version == "0:8.7p1-34.el9"
    assert newer_epoch.status is NOT_AFFECTED
    assert "rpm range 0:8.7p1-38.el9_4.1 <= version < *" in newer_epoch.reason
