"""Tests for version schemes and the evaluation of CVE version ranges."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from irp.versions import (
    UncomparableVersion,
    choose_scheme,
    component_version,
    evaluate_versions,
)
from models.records import AffectedProduct, AffectStatus, VersionChange, VersionRange

AFFECTED = AffectStatus.affected
NOT_AFFECTED = AffectStatus.not_affected
UNKNOWN = AffectStatus.unknown


def product(*versions: VersionRange, default: AffectStatus = UNKNOWN, purl: str | None = None) -> AffectedProduct:
    """Build a record entry with the given version list and default status."""
    return AffectedProduct(product="demo", versions=list(versions), default_status=default, purl=purl)


def version_range(
    version: str,
    status: AffectStatus = AFFECTED,
    version_type: str | None = "semver",
    less_than: str | None = None,
    less_than_or_equal: str | None = None,
    changes: Sequence[tuple[str, AffectStatus]] = (),
) -> VersionRange:
    """Build one entry of a version list."""
    return VersionRange(
        version=version,
        status=status,
        version_type=version_type,
        less_than=less_than,
        less_than_or_equal=less_than_or_equal,
        changes=[VersionChange(at=at, status=change_status) for at, change_status in changes],
    )


@pytest.mark.parametrize(
    ("version_type", "purl", "expected"),
    [
        ("semver", None, "semver"),
        ("npm", None, "semver"),
        ("rpm", None, "rpm"),
        ("maven", None, "maven"),
        ("deb", None, "debian"),
        ("debian", None, "debian"),
        ("pypi", None, "pypi"),
        ("python", None, "pypi"),
        ("golang", None, "golang"),
        ("go", None, "golang"),
        ("generic", None, "generic"),
        ("RPM", None, "rpm"),
        ("maven", "pkg:rpm/redhat/openssh@8.7p1", "maven"),
        ("custom", "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", "maven"),
        (None, "pkg:rpm/redhat/openssh@8.7p1-34.el9", "rpm"),
        ("custom", "pkg:deb/debian/openssl@3.0.11-1", "debian"),
        ("custom", "pkg:npm/lodash@4.17.20", "semver"),
        ("custom", "pkg:pypi/django@4.2", "pypi"),
        ("custom", "pkg:golang/golang.org/x/net@v0.17.0", "golang"),
        ("custom", "pkg:generic/linux@6.1.100", "generic"),
        ("original_commit_for_fix", "pkg:generic/linux@6.1.100", "generic"),
    ],
)
def test_choose_scheme_picks_expected(version_type, purl, expected):
    assert choose_scheme(version_type, purl).name == expected


@pytest.mark.parametrize(
    ("version_type", "purl", "message"),
    [
        ("git", "pkg:generic/linux@6.1", "commit hashes"),
        ("custom", None, "no purl of a known type"),
        (None, None, "no versionType"),
        ("custom", "pkg:unheardof/thing@1.0", "no purl of a known type"),
        ("custom", "not a purl", "no purl of a known type"),
    ],
)
def test_choose_scheme_rejects_uncomparable(version_type, purl, message):
    with pytest.raises(UncomparableVersion, match=message):
        choose_scheme(version_type, purl)


def test_choose_scheme_falls_back_to_entry_purl():
    scheme = choose_scheme("custom", None, "pkg:maven/org.apache.logging.log4j/log4j-core")

    assert scheme.name == "maven"


@pytest.mark.parametrize(
    ("text", "scheme", "message"),
    [
        (">= 1.7.0, < 1.18.4", "rpm", "not a version string"),
        (">= 1.7.0, < 1.18.4", "generic", "not a version string"),
        ("1da177e4c3f41524e886b7f1b8a0c1fc7321cac2", "semver", "commit hash"),
        ("abc", "pypi", "not a valid pypi version"),
        ("", "semver", "not a version string"),
    ],
)
def test_scheme_parse_rejects_non_versions(text, scheme, message):
    with pytest.raises(UncomparableVersion, match=message):
        choose_scheme(scheme, None).parse(text, "listed version")


@pytest.mark.parametrize(
    ("version", "purl", "expected"),
    [
        ("8.7p1-34.el9", None, "8.7p1-34.el9"),
        (None, "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", "2.14.1"),
        (None, "pkg:rpm/redhat/openssh@8.7p1-34.el9?epoch=1", "1:8.7p1-34.el9"),
        ("8.7p1-34.el9", "pkg:rpm/redhat/openssh?epoch=2", "2:8.7p1-34.el9"),
        ("0:8.7p1-34.el9", "pkg:rpm/redhat/openssh?epoch=2", "0:8.7p1-34.el9"),
        (None, "pkg:rpm/redhat/openssh", None),
        (None, None, None),
    ],
)
def test_component_version_reads_purl(version, purl, expected):
    assert component_version(version, purl) == expected


RANGE_CASES = [
    # id, version, component purl, entry, expected status
    ("exact match", "2.3.0", None, product(version_range("2.3.0")), AFFECTED),
    ("exact same semver", "2.3", None, product(version_range("2.3.0")), AFFECTED),
    ("exact other version", "2.3.1", None, product(version_range("2.3.0"), default=NOT_AFFECTED), NOT_AFFECTED),
    ("exact without scheme", "2.3.1", None, product(version_range("2.3.0", version_type=None), default=NOT_AFFECTED), UNKNOWN),
    ("exact same text without scheme", "2.3.0", None, product(version_range("2.3.0", version_type=None)), AFFECTED),
    ("less than inside", "1.9.9", None, product(version_range("1.0.0", less_than="2.0.0")), AFFECTED),
    ("less than at bound", "2.0.0", None, product(version_range("1.0.0", less_than="2.0.0"), default=NOT_AFFECTED), NOT_AFFECTED),
    ("below start", "0.9.0", None, product(version_range("1.0.0", less_than="2.0.0"), default=NOT_AFFECTED), NOT_AFFECTED),
    ("zero start", "0.0.1", None, product(version_range("0", less_than="2.0.0")), AFFECTED),
    ("less or equal at bound", "2.0.0", None, product(version_range("1.0.0", less_than_or_equal="2.0.0")), AFFECTED),
    ("less or equal star", "99.0.0", None, product(version_range("1.0.0", less_than_or_equal="*")), AFFECTED),
    ("less than star", "99.0.0", None, product(version_range("1.0.0", less_than="*")), AFFECTED),
    ("series wildcard inside", "5.4.300", None, product(version_range("5.4.291", NOT_AFFECTED, less_than_or_equal="5.4.*"), default=AFFECTED), NOT_AFFECTED),
    ("series wildcard above", "5.5.0", None, product(version_range("5.4.291", NOT_AFFECTED, less_than_or_equal="5.4.*"), default=AFFECTED), AFFECTED),
    ("package name wildcard", "2.17.1", None, product(version_range("2.0.0", less_than="log4j-core*")), AFFECTED),
    ("default absent", "3.0.0", None, product(version_range("1.0.0", less_than="2.0.0")), UNKNOWN),
    ("default affected", "3.0.0", None, product(version_range("1.0.0", NOT_AFFECTED, less_than="2.0.0"), default=AFFECTED), AFFECTED),
    ("no versions listed", "3.0.0", None, product(default=NOT_AFFECTED), NOT_AFFECTED),
    (
        "change switches off",
        "2.15.0",
        None,
        product(version_range("2.0.0", less_than="*", changes=[("2.15.0", NOT_AFFECTED)])),
        NOT_AFFECTED,
    ),
    (
        "unsorted changes",
        "2.12.5",
        None,
        product(
            version_range(
                "2.0.0",
                less_than="*",
                changes=[("2.15.0", NOT_AFFECTED), ("2.12.2", NOT_AFFECTED), ("2.4.0", AFFECTED), ("2.3.1", NOT_AFFECTED)],
            )
        ),
        NOT_AFFECTED,
    ),
    (
        "before first change",
        "2.1.0",
        None,
        product(version_range("2.0.0", less_than="*", changes=[("2.3.1", NOT_AFFECTED)])),
        AFFECTED,
    ),
    (
        "first match wins",
        "1.5.0",
        None,
        product(
            version_range("1.5.0", NOT_AFFECTED),
            version_range("1.0.0", less_than="2.0.0"),
        ),
        NOT_AFFECTED,
    ),
    (
        "git range",
        "6.1.100",
        None,
        product(version_range("1da177e4c3f41524e886b7f1b8a0c1fc7321cac2", version_type="git", less_than="a3e77da9f843e4ab93917d30c314f0283e28c124"), default=NOT_AFFECTED),
        UNKNOWN,
    ),
    (
        "git range agreeing default",
        "6.1.100",
        None,
        product(version_range("1da177e4c3f41524e886b7f1b8a0c1fc7321cac2", version_type="git", less_than="a3e77da9f843e4ab93917d30c314f0283e28c124"), default=AFFECTED),
        AFFECTED,
    ),
    (
        "free text version",
        "1.18.0",
        "pkg:cargo/tokio@1.18.0",
        product(version_range(">= 1.7.0, < 1.18.4", version_type=None), default=NOT_AFFECTED),
        UNKNOWN,
    ),
    (
        "commit hash in semver entry",
        "1.0.0",
        None,
        product(version_range("1da177e4c3f41524e886b7f1b8a0c1fc7321cac2", less_than="2.0.0"), default=NOT_AFFECTED),
        UNKNOWN,
    ),
    (
        "unparsable component version",
        "not a version",
        None,
        product(version_range("1.0.0", less_than="2.0.0"), default=NOT_AFFECTED),
        UNKNOWN,
    ),
    (
        "rpm epoch in bound",
        "8.7p1-34.el9",
        None,
        product(version_range("0:8.7p1-38.el9_4.1", NOT_AFFECTED, "rpm", less_than="*"), default=AFFECTED),
        AFFECTED,
    ),
    (
        "rpm fixed release",
        "8.7p1-38.el9_4.1",
        None,
        product(version_range("0:8.7p1-38.el9_4.1", NOT_AFFECTED, "rpm", less_than="*"), default=AFFECTED),
        NOT_AFFECTED,
    ),
    (
        "rpm higher epoch wins",
        "1:1.0-1",
        None,
        product(version_range("0", AFFECTED, "rpm", less_than="0:9.9-1"), default=NOT_AFFECTED),
        NOT_AFFECTED,
    ),
    (
        "maven beta before release",
        "2.0-beta9",
        None,
        product(version_range("2.0-beta9", AFFECTED, "maven", less_than="2.25.3"), default=NOT_AFFECTED),
        AFFECTED,
    ),
    (
        "maven alpha below beta",
        "2.0-alpha1",
        None,
        product(version_range("2.0-beta9", AFFECTED, "maven", less_than="2.25.3"), default=NOT_AFFECTED),
        NOT_AFFECTED,
    ),
    (
        "semver prerelease below release",
        "1.0.0-rc.1",
        None,
        product(version_range("1.0.0", AFFECTED, less_than="2.0.0"), default=NOT_AFFECTED),
        NOT_AFFECTED,
    ),
    (
        "custom through purl",
        "2.14.1",
        "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
        product(version_range("2.0-beta9", AFFECTED, "custom", less_than="2.15.0"), default=NOT_AFFECTED),
        AFFECTED,
    ),
    (
        "custom without purl",
        "2.14.1",
        None,
        product(version_range("2.0-beta9", AFFECTED, "custom", less_than="2.15.0"), default=NOT_AFFECTED),
        UNKNOWN,
    ),
]


@pytest.mark.parametrize(
    ("version", "purl", "entry", "expected"),
    [case[1:] for case in RANGE_CASES],
    ids=[case[0] for case in RANGE_CASES],
)
def test_evaluate_versions_status(version, purl, entry, expected):
    verdict = evaluate_versions(version, entry, purl)

    assert verdict.status is expected, verdict.reason


def test_evaluate_versions_git_reason():
    entry = product(
        version_range("1da177e4c3f41524e886b7f1b8a0c1fc7321cac2", version_type="git", less_than="a3e77da9f843e4ab93917d30c314f0283e28c124"),
        default=NOT_AFFECTED,
    )

    verdict = evaluate_versions("6.1.100", entry, None)

    assert not verdict.decided
    assert "commit hashes" in verdict.reason
    assert "affected or not affected" in verdict.reason


def test_evaluate_versions_range_reason():
    entry = product(version_range("0:8.7p1-38.el9_4.1", NOT_AFFECTED, "rpm", less_than="*"), default=AFFECTED)

    verdict = evaluate_versions("8.7p1-38.el9_4.1", entry, None)

    assert verdict.decided
    assert verdict.reason == "not affected by rpm range 0:8.7p1-38.el9_4.1 <= version < *"


def test_evaluate_versions_change_reason():
    entry = product(version_range("2.0.0", less_than="*", changes=[("2.15.0", NOT_AFFECTED), ("2.13.0", AFFECTED)]))

    verdict = evaluate_versions("2.14.1", entry, None)

    assert verdict.reason.endswith("whose status changes to affected at 2.13.0")


def test_evaluate_versions_bad_wildcard():
    entry = product(version_range("1.0.0", less_than="1.x*"), default=NOT_AFFECTED)

    verdict = evaluate_versions("1.2.0", entry, None)

    assert verdict.status is UNKNOWN
    assert "not a version pattern" in verdict.reason
