"""Hand-labelled triage cases: one record entry, one inventory component, the verdict a correct triager gives.

Each expected verdict follows the ecosystem's own version rules: rpm's epoch and tilde, Debian's
tilde and revision, Maven's qualifiers, semver pre-releases and build metadata, PEP 440 epochs and
dev releases, Go pseudo-versions. Ranges, status changes and default statuses follow CVE JSON 5. Where the record cannot be compared (commit ranges, free text), the right automatic
answer is `unknown`, because only an analyst can decide it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from irp.matching import match_stream
from irp.sources import parse_report
from models.inventory import ComponentPublic, StreamInventory
from models.records import AffectStatus

AFFECTED = AffectStatus.affected
NOT_AFFECTED = AffectStatus.not_affected
UNKNOWN = AffectStatus.unknown

KERNEL_FIX_COMMIT = "f5c8a9d6b2e14c7fa3d0b1e2c3d4e5f60718293a"
KERNEL_BUG_COMMIT = "1da177e4c3f41524e886b7f1b8a0c1fc7321cac2"


@dataclass(frozen=True)
class LabelledCase:
    """One record and one component, with the verdict a correct triager gives and why."""

    name: str
    ecosystem: str
    record: dict[str, Any]
    component: ComponentPublic
    expected: AffectStatus
    reason: str
    """Why the expected verdict is right, by the ecosystem's rules."""


def cve(entry: dict[str, Any], *more: dict[str, Any], state: str = "PUBLISHED") -> dict[str, Any]:
    """Build a CVE JSON 5.1 record with the given `affected` entries."""
    metadata = {"cveId": "CVE-2026-99999", "assignerOrgId": "00000000-0000-4000-8000-000000000000", "state": state}
    cna: dict[str, Any] = {"providerMetadata": {"orgId": "00000000-0000-4000-8000-000000000000"}}
    if state == "REJECTED":
        cna["rejectedReasons"] = [{"lang": "en", "value": "Duplicate of another record."}]
    else:
        cna["descriptions"] = [{"lang": "en", "value": "A labelled test flaw."}]
        cna["affected"] = [entry, *more]
    return {"dataType": "CVE_RECORD", "dataVersion": "5.1", "cveMetadata": metadata, "containers": {"cna": cna}}


def cve_range(
    package: str,
    version_type: str | None,
    start: str,
    *,
    less_than: str | None = None,
    less_than_or_equal: str | None = None,
    default: str = "unaffected",
    **entry: Any,
) -> dict[str, Any]:
    """Build a CVE record whose one entry marks `start` up to a bound as affected."""
    version: dict[str, Any] = {"version": start, "status": "affected"}
    if version_type:
        version["versionType"] = version_type
    if less_than is not None:
        version["lessThan"] = less_than
    if less_than_or_equal is not None:
        version["lessThanOrEqual"] = less_than_or_equal
    return cve({"vendor": "Example", "product": package, "packageName": package, "defaultStatus": default, "versions": [version], **entry})


def osv(ecosystem: str, package: str, *ranges: dict[str, Any], versions: list[str] | None = None) -> dict[str, Any]:
    """Build an OSV record for one package with the given ranges."""
    affected: dict[str, Any] = {"package": {"ecosystem": ecosystem, "name": package}, "ranges": list(ranges)}
    if versions:
        affected["versions"] = versions
    return {"schema_version": "1.6.0", "id": "GHSA-test-0000-0001", "modified": "2026-01-01T00:00:00Z", "affected": [affected]}


def events(range_type: str, *pairs: tuple[str, str]) -> dict[str, Any]:
    """Build one OSV range from (event kind, version) pairs."""
    return {"type": range_type, "events": [{kind: version} for kind, version in pairs]}


def component(name: str, version: str | None, purl: str | None = None) -> ComponentPublic:
    """Build an inventory component."""
    return ComponentPublic(name=name, version=version, purl=purl)


def rpm(name: str, version: str, epoch: str | None = None) -> ComponentPublic:
    """Build a Red Hat rpm component, its epoch given as a purl qualifier as SBOM tools write it."""
    qualifiers = f"?arch=x86_64&epoch={epoch}" if epoch else "?arch=x86_64"
    return component(name, version, f"pkg:rpm/redhat/{name}@{version}{qualifiers}")


KERNEL_RECORD = cve(
    {
        "vendor": "Linux",
        "product": "Linux",
        "defaultStatus": "unaffected",
        "versions": [{"version": KERNEL_BUG_COMMIT, "lessThan": KERNEL_FIX_COMMIT, "status": "affected", "versionType": "git"}],
    },
    {
        "vendor": "Linux",
        "product": "Linux",
        "defaultStatus": "affected",
        "versions": [
            {"version": "6.1", "status": "affected"},
            {"version": "0", "lessThan": "6.1", "status": "unaffected", "versionType": "semver"},
            {"version": "6.1.64", "lessThanOrEqual": "6.1.*", "status": "unaffected", "versionType": "semver"},
            {"version": "6.7", "lessThanOrEqual": "*", "status": "unaffected", "versionType": "original_commit_for_fix"},
        ],
    },
)
"""A Linux kernel record as kernel.org's CNA writes it: a commit range, then the same fix by release."""

STATUS_CHANGE_RECORD = cve(
    {
        "vendor": "Example",
        "product": "gadget",
        "packageName": "gadget",
        "defaultStatus": "unaffected",
        "versions": [
            {
                "version": "1.0.0",
                "lessThan": "2.0.0",
                "status": "affected",
                "versionType": "semver",
                "changes": [{"at": "1.5.0", "status": "unaffected"}],
            }
        ],
    }
)

CASES: list[LabelledCase] = [
    # rpm: epoch first, then version, then release, each compared segment by segment.
    LabelledCase(
        "rpm release below fix", "rpm",
        cve_range("openssl", "rpm", "0", less_than="1:3.0.7-28.el9"),
        rpm("openssl", "3.0.7-27.el9", epoch="1"), AFFECTED,
        "epochs equal (1), versions equal, release 27.el9 < 28.el9",
    ),
    LabelledCase(
        "rpm equal to fix", "rpm",
        cve_range("openssl", "rpm", "0", less_than="1:3.0.7-28.el9"),
        rpm("openssl", "3.0.7-28.el9", epoch="1"), NOT_AFFECTED,
        "the component is the fixed build, and lessThan excludes it",
    ),
    LabelledCase(
        "rpm higher epoch wins", "rpm",
        cve_range("bind", "rpm", "0", less_than="1:9.18.0-1.el9"),
        rpm("bind", "9.16.23-14.el9", epoch="32"), NOT_AFFECTED,
        "epoch 32 > epoch 1, so 32:9.16.23 sorts after 1:9.18.0 whatever the version",
    ),
    LabelledCase(
        "rpm missing epoch is zero", "rpm",
        cve_range("libxml2", "rpm", "0", less_than="1:2.9.10-1.el9"),
        rpm("libxml2", "2.9.13-5.el9"), AFFECTED,
        "no epoch means epoch 0, and 0:2.9.13 < 1:2.9.10",
    ),
    LabelledCase(
        "rpm epoch from purl qualifier", "rpm",
        cve_range("bind", "rpm", "0", less_than="32:9.16.23-15.el9"),
        rpm("bind", "9.16.23-14.el9", epoch="32"), AFFECTED,
        "the purl's epoch=32 makes the component 32:9.16.23-14.el9, below 32:9.16.23-15.el9",
    ),
    LabelledCase(
        "rpm tilde before release", "rpm",
        cve_range("curl", "rpm", "0", less_than="8.0-1.el9"),
        rpm("curl", "8.0~rc1-1.el9"), AFFECTED,
        "rpm sorts `~` before anything, so 8.0~rc1 < 8.0",
    ),
    LabelledCase(
        "rpm numeric segments", "rpm",
        cve_range("glibc", "rpm", "0", less_than="2.9-1"),
        rpm("glibc", "2.10-1"), NOT_AFFECTED,
        "rpm compares digit runs as numbers: 10 > 9",
    ),
    LabelledCase(
        "rpm caret after release", "rpm",
        cve_range("zlib", "rpm", "0", less_than="1.2.13-1"),
        rpm("zlib", "1.2.13^git20230101-1"), NOT_AFFECTED,
        "rpm sorts `^` (a snapshot after a release) after the release itself",
    ),
    # Debian: epoch, upstream version, revision; `~` sorts before everything, even the end.
    LabelledCase(
        "deb epoch above fix", "deb",
        osv("Debian:12", "glibc", events("ECOSYSTEM", ("introduced", "0"), ("fixed", "2.31-1"))),
        component("glibc", "1:2.30-1", "pkg:deb/debian/glibc@1:2.30-1"), NOT_AFFECTED,
        "epoch 1 > epoch 0, so 1:2.30-1 sorts after 2.31-1",
    ),
    LabelledCase(
        "deb tilde security upload", "deb",
        osv("Debian:12", "nginx", events("ECOSYSTEM", ("introduced", "0"), ("fixed", "1.22.1-9"))),
        component("nginx", "1.22.1-9~deb12u1", "pkg:deb/debian/nginx@1.22.1-9~deb12u1"), AFFECTED,
        "`~deb12u1` sorts before the end of the string, so 1.22.1-9~deb12u1 < 1.22.1-9",
    ),
    LabelledCase(
        "deb newer revision", "deb",
        osv("Debian:11", "openssl", events("ECOSYSTEM", ("introduced", "0"), ("fixed", "1.1.1n-0+deb11u4"))),
        component("openssl", "1.1.1n-0+deb11u5", "pkg:deb/debian/openssl@1.1.1n-0+deb11u5"), NOT_AFFECTED,
        "same upstream version, revision 0+deb11u5 > 0+deb11u4",
    ),
    LabelledCase(
        "deb later stable update", "deb",
        osv("Debian:12", "openssl", events("ECOSYSTEM", ("introduced", "0"), ("fixed", "3.0.11-1~deb12u1"))),
        component("openssl", "3.0.11-1~deb12u2", "pkg:deb/debian/openssl@3.0.11-1~deb12u2"), NOT_AFFECTED,
        "revisions 1~deb12u2 and 1~deb12u1 differ only after the tilde: u2 > u1",
    ),
    LabelledCase(
        "deb upstream below fix", "deb",
        cve_range("systemd", "deb", "0", less_than="252.19-1"),
        component("systemd", "252.17-1~deb12u1", "pkg:deb/debian/systemd@252.17-1~deb12u1"), AFFECTED,
        "upstream 252.17 < 252.19",
    ),
    # Maven: numeric items, then qualifiers alpha < beta < milestone < rc < snapshot < release.
    LabelledCase(
        "maven log4shell range", "maven",
        cve_range("org.apache.logging.log4j:log4j-core", "maven", "2.0-beta9", less_than="2.15.0"),
        component("log4j-core", "2.14.1", "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"), AFFECTED,
        "2.0-beta9 <= 2.14.1 < 2.15.0",
    ),
    LabelledCase(
        "maven release candidate", "maven",
        cve_range("org.apache.logging.log4j:log4j-core", "maven", "2.0-beta9", less_than="2.15.0"),
        component("log4j-core", "2.15.0-rc1", "pkg:maven/org.apache.logging.log4j/log4j-core@2.15.0-rc1"), AFFECTED,
        "rc1 is a pre-release, so 2.15.0-rc1 < 2.15.0",
    ),
    LabelledCase(
        "maven snapshot before release", "maven",
        osv("Maven", "com.example:parser", events("ECOSYSTEM", ("introduced", "0"), ("fixed", "1.0"))),
        component("parser", "1.0-SNAPSHOT", "pkg:maven/com.example/parser@1.0-SNAPSHOT"), AFFECTED,
        "a SNAPSHOT comes before its release: 1.0-SNAPSHOT < 1.0",
    ),
    LabelledCase(
        "maven fourth segment", "maven",
        osv("Maven", "com.fasterxml.jackson.core:jackson-databind", events("ECOSYSTEM", ("introduced", "2.9.0"), ("fixed", "2.9.10.7"))),
        component("jackson-databind", "2.9.10.8", "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.10.8"), NOT_AFFECTED,
        "2.9.10.8 > 2.9.10.7, the fixed micro-patch",
    ),
    LabelledCase(
        "maven final qualifier", "maven",
        cve_range("org.hibernate:hibernate-core", "maven", "0", less_than="5.4.24"),
        component("hibernate-core", "5.4.24.Final", "pkg:maven/org.hibernate/hibernate-core@5.4.24.Final"), NOT_AFFECTED,
        "Maven treats the `Final` qualifier as the release itself: 5.4.24.Final == 5.4.24",
    ),
    LabelledCase(
        "maven other artifact", "maven",
        cve_range("org.apache.logging.log4j:log4j-core", "maven", "2.0-beta9", less_than="2.15.0"),
        component("log4j-api", "2.14.1", "pkg:maven/org.apache.logging.log4j/log4j-api@2.14.1"), NOT_AFFECTED,
        "log4j-api is a different artifact from log4j-core, and no other component matches",
    ),
    # npm and semver: pre-releases sort before their release, build metadata is ignored.
    LabelledCase(
        "npm below fix", "npm",
        osv("npm", "lodash", events("SEMVER", ("introduced", "0"), ("fixed", "4.17.21"))),
        component("lodash", "4.17.20", "pkg:npm/lodash@4.17.20"), AFFECTED,
        "4.17.20 < 4.17.21",
    ),
    LabelledCase(
        "npm fixed version", "npm",
        osv("npm", "lodash", events("SEMVER", ("introduced", "0"), ("fixed", "4.17.21"))),
        component("lodash", "4.17.21", "pkg:npm/lodash@4.17.21"), NOT_AFFECTED,
        "the fixed version itself is outside [introduced, fixed)",
    ),
    LabelledCase(
        "npm scoped package", "npm",
        osv("npm", "@babel/traverse", events("SEMVER", ("introduced", "0"), ("fixed", "7.23.2"))),
        component("@babel/traverse", "7.23.1", "pkg:npm/%40babel/traverse@7.23.1"), AFFECTED,
        "the scope is part of the name, and 7.23.1 < 7.23.2",
    ),
    LabelledCase(
        "npm last affected", "npm",
        osv("npm", "minimist", events("SEMVER", ("introduced", "1.0.0"), ("last_affected", "1.2.5"))),
        component("minimist", "1.2.5", "pkg:npm/minimist@1.2.5"), AFFECTED,
        "last_affected includes its version",
    ),
    LabelledCase(
        "semver prerelease below release", "semver",
        cve_range("widget", "semver", "0", less_than="1.0.0"),
        component("widget", "1.0.0-alpha.1", "pkg:npm/widget@1.0.0-alpha.1"), AFFECTED,
        "semver orders 1.0.0-alpha.1 before 1.0.0",
    ),
    LabelledCase(
        "semver numeric not lexical", "semver",
        cve_range("widget", "semver", "0", less_than="1.9.0"),
        component("widget", "1.10.0", "pkg:npm/widget@1.10.0"), NOT_AFFECTED,
        "minor 10 > minor 9",
    ),
    LabelledCase(
        "semver build metadata ignored", "semver",
        cve_range("widget", "semver", "0", less_than="1.0.0"),
        component("widget", "1.0.0+build.5", "pkg:npm/widget@1.0.0+build.5"), NOT_AFFECTED,
        "build metadata has no precedence, so 1.0.0+build.5 is not below 1.0.0",
    ),
    LabelledCase(
        "semver inclusive bound", "semver",
        cve_range("widget", "semver", "0", less_than_or_equal="2.4.0"),
        component("widget", "2.4.0", "pkg:npm/widget@2.4.0"), AFFECTED,
        "lessThanOrEqual includes 2.4.0",
    ),
    LabelledCase(
        "semver above inclusive bound", "semver",
        cve_range("widget", "semver", "0", less_than_or_equal="2.4.0"),
        component("widget", "2.4.1", "pkg:npm/widget@2.4.1"), NOT_AFFECTED,
        "2.4.1 > 2.4.0 and the default status is unaffected",
    ),
    LabelledCase(
        "semver wildcard series", "semver",
        cve_range("widget", "semver", "1.0.0", less_than_or_equal="1.*"),
        component("widget", "1.99.3", "pkg:npm/widget@1.99.3"), AFFECTED,
        "`1.*` covers every 1.x release",
    ),
    LabelledCase(
        "semver after wildcard series", "semver",
        cve_range("widget", "semver", "1.0.0", less_than_or_equal="1.*"),
        component("widget", "2.0.0", "pkg:npm/widget@2.0.0"), NOT_AFFECTED,
        "2.0.0 is past the 1.x series and the default status is unaffected",
    ),
    LabelledCase(
        "semver status change fixed", "semver",
        STATUS_CHANGE_RECORD, component("gadget", "1.6.0", "pkg:npm/gadget@1.6.0"), NOT_AFFECTED,
        "the range changes to unaffected at 1.5.0, and 1.6.0 >= 1.5.0",
    ),
    LabelledCase(
        "semver status change before", "semver",
        STATUS_CHANGE_RECORD, component("gadget", "1.4.0", "pkg:npm/gadget@1.4.0"), AFFECTED,
        "1.4.0 is in [1.0.0, 2.0.0) before the change at 1.5.0",
    ),
    LabelledCase(
        "semver default unknown", "semver",
        cve_range("widget", "semver", "3.0.0", less_than="3.0.5", default="unknown"),
        component("widget", "2.9.0", "pkg:npm/widget@2.9.0"), UNKNOWN,
        "the record speaks only of 3.0.x and leaves other versions unknown",
    ),
    LabelledCase(
        "version missing in inventory", "semver",
        cve_range("widget", "semver", "0", less_than="2.0.0"),
        component("widget", None), UNKNOWN,
        "without the shipped version, the range cannot be applied",
    ),
    # PyPI: PEP 440 ordering, names compared in normal form.
    LabelledCase(
        "pypi release candidate", "pypi",
        osv("PyPI", "cryptography", events("ECOSYSTEM", ("introduced", "0"), ("fixed", "42.0.0"))),
        component("cryptography", "42.0.0rc1", "pkg:pypi/cryptography@42.0.0rc1"), AFFECTED,
        "PEP 440: 42.0.0rc1 < 42.0.0",
    ),
    LabelledCase(
        "pypi post release", "pypi",
        osv("PyPI", "example-lib", events("ECOSYSTEM", ("introduced", "0"), ("fixed", "1.0.post1"))),
        component("example-lib", "1.0", "pkg:pypi/example-lib@1.0"), AFFECTED,
        "PEP 440: 1.0 < 1.0.post1",
    ),
    LabelledCase(
        "pypi dev before alpha", "pypi",
        osv("PyPI", "example-lib", events("ECOSYSTEM", ("introduced", "1.0a1"), ("fixed", "1.1"))),
        component("example-lib", "1.0.dev1", "pkg:pypi/example-lib@1.0.dev1"), NOT_AFFECTED,
        "PEP 440: 1.0.dev1 < 1.0a1, below where the flaw was introduced",
    ),
    LabelledCase(
        "pypi name normal form", "pypi",
        osv("PyPI", "Django", events("ECOSYSTEM", ("introduced", "4.2"), ("fixed", "4.2.8"))),
        component("django", "4.2.7", "pkg:pypi/django@4.2.7"), AFFECTED,
        "PyPI names compare case-insensitively, and 4.2 <= 4.2.7 < 4.2.8",
    ),
    LabelledCase(
        "pypi epoch", "pypi",
        osv("PyPI", "example-lib", events("ECOSYSTEM", ("introduced", "0"), ("fixed", "2.0"))),
        component("example-lib", "1!1.0", "pkg:pypi/example-lib@1!1.0"), NOT_AFFECTED,
        "PEP 440 epoch 1 sorts after every epoch 0 version, so 1!1.0 > 2.0",
    ),
    LabelledCase(
        "pypi numeric minor", "pypi",
        osv("PyPI", "example-lib", events("ECOSYSTEM", ("introduced", "3.0"), ("fixed", "3.10"))),
        component("example-lib", "3.9.1", "pkg:pypi/example-lib@3.9.1"), AFFECTED,
        "3.9.1 < 3.10 numerically",
    ),
    LabelledCase(
        "pypi listed versions", "pypi",
        osv("PyPI", "example-lib", versions=["1.2.0", "1.2.1"]),
        component("example-lib", "1.2.2", "pkg:pypi/example-lib@1.2.2"), NOT_AFFECTED,
        "OSV lists exactly the affected versions and 1.2.2 is not among them",
    ),
    # Go: module versions with a `v`, pseudo-versions as pre-releases of their base.
    LabelledCase(
        "golang pseudo version", "golang",
        osv("Go", "golang.org/x/crypto", events("SEMVER", ("introduced", "0"), ("fixed", "0.17.0"))),
        component("golang.org/x/crypto", "v0.0.0-20210921155107-089bfa567519", "pkg:golang/golang.org/x/crypto@v0.0.0-20210921155107-089bfa567519"),
        AFFECTED,
        "a pseudo-version v0.0.0-... is a pre-release of v0.0.0, below 0.17.0",
    ),
    LabelledCase(
        "golang v prefix equal", "golang",
        osv("Go", "golang.org/x/net", events("SEMVER", ("introduced", "0"), ("fixed", "0.17.0"))),
        component("golang.org/x/net", "v0.17.0", "pkg:golang/golang.org/x/net@v0.17.0"), NOT_AFFECTED,
        "v0.17.0 is the fixed version; the `v` is only Go's spelling",
    ),
    LabelledCase(
        "golang incompatible major", "golang",
        osv("Go", "github.com/example/module", events("SEMVER", ("introduced", "0"), ("fixed", "2.1.0"))),
        component("github.com/example/module", "v2.0.0+incompatible", "pkg:golang/github.com/example/module@v2.0.0+incompatible"),
        AFFECTED,
        "+incompatible is build metadata, so the version is 2.0.0 < 2.1.0",
    ),
    LabelledCase(
        "golang stdlib patch", "golang",
        osv("Go", "stdlib", events("SEMVER", ("introduced", "1.21.0"), ("fixed", "1.21.5"))),
        component("stdlib", "1.21.4", "pkg:golang/stdlib@1.21.4"), AFFECTED,
        "1.21.0 <= 1.21.4 < 1.21.5",
    ),
    # Rubygems: a letter makes a pre-release.
    LabelledCase(
        "gem prerelease", "rubygems",
        osv("RubyGems", "rack", events("ECOSYSTEM", ("introduced", "0"), ("fixed", "3.0.0"))),
        component("rack", "3.0.0.beta1", "pkg:gem/rack@3.0.0.beta1"), AFFECTED,
        "RubyGems orders 3.0.0.beta1 before 3.0.0",
    ),
    # Commit ranges have no order without the repository.
    LabelledCase(
        "git range alone", "git",
        cve({"vendor": "Example", "product": "sprocket", "defaultStatus": "unaffected",
             "versions": [{"version": KERNEL_BUG_COMMIT, "lessThan": KERNEL_FIX_COMMIT, "status": "affected", "versionType": "git"}]}),
        component("sprocket", "5.10.0", "pkg:generic/sprocket@5.10.0"), UNKNOWN,
        "a release number cannot be placed in a commit range without the repository's history",
    ),
    LabelledCase(
        "osv git range alone", "git",
        osv("GIT", "sprocket", events("GIT", ("introduced", KERNEL_BUG_COMMIT), ("fixed", KERNEL_FIX_COMMIT))),
        component("sprocket", "5.10.0"), UNKNOWN,
        "the OSV range lists commits only",
    ),
    LabelledCase(
        "kernel stable below fix", "git",
        KERNEL_RECORD, component("linux", "6.1.63", "pkg:generic/linux@6.1.63"), AFFECTED,
        "the release list marks 6.1 affected by default and fixed from 6.1.64 in the 6.1 series",
    ),
    LabelledCase(
        "kernel stable fixed", "git",
        KERNEL_RECORD, component("linux", "6.1.64", "pkg:generic/linux@6.1.64"), NOT_AFFECTED,
        "6.1.64 <= version <= 6.1.* is listed unaffected",
    ),
    LabelledCase(
        "kernel before bug", "git",
        KERNEL_RECORD, component("linux", "5.15.140", "pkg:generic/linux@5.15.140"), NOT_AFFECTED,
        "0 <= version < 6.1 is listed unaffected: the flaw came in 6.1",
    ),
    # Free text and placeholders cannot be compared.
    LabelledCase(
        "free text before", "free text",
        cve({"vendor": "Acme", "product": "Widget Server", "versions": [{"version": "before 2.3", "status": "affected"}]}),
        component("Widget Server", "2.2"), UNKNOWN,
        "`before 2.3` is prose, not a version, and the entry gives no default status",
    ),
    LabelledCase(
        "placeholder n/a", "free text",
        cve({"vendor": "n/a", "product": "gizmo", "versions": [{"version": "n/a", "status": "affected"}]}),
        component("gizmo", "1.0.0", "pkg:npm/gizmo@1.0.0"), UNKNOWN,
        "`n/a` names no version, so which versions are affected is not stated",
    ),
    LabelledCase(
        "free text custom type", "free text",
        cve({"vendor": "Acme", "product": "Widget Server", "defaultStatus": "unaffected",
             "versions": [{"version": "2.x", "lessThan": "2.3 and later", "status": "affected", "versionType": "custom"}]}),
        component("Widget Server", "2.2"), UNKNOWN,
        "a custom range written in prose cannot be compared, and it could make 2.2 affected",
    ),
    LabelledCase(
        "apache product name", "maven",
        cve({"vendor": "Apache Software Foundation", "product": "Apache Tomcat", "defaultStatus": "unaffected",
             "versions": [{"version": "9.0.0-M1", "lessThan": "9.0.83", "status": "affected", "versionType": "maven"}]}),
        component("tomcat", "9.0.82", "pkg:maven/org.apache.tomcat/tomcat@9.0.82"), AFFECTED,
        "Apache Tomcat is the tomcat component, and 9.0.0-M1 <= 9.0.82 < 9.0.83",
    ),
    LabelledCase(
        "unrelated component", "npm",
        osv("npm", "lodash", events("SEMVER", ("introduced", "0"), ("fixed", "4.17.21"))),
        component("left-pad", "1.3.0", "pkg:npm/left-pad@1.3.0"), NOT_AFFECTED,
        "the inventory does not ship lodash",
    ),
    LabelledCase(
        "rejected record", "semver",
        cve({}, state="REJECTED"),
        component("widget", "1.0.0", "pkg:npm/widget@1.0.0"), NOT_AFFECTED,
        "a REJECTED CVE describes no vulnerability",
    ),
]


def verdict_for(case: LabelledCase) -> AffectStatus:
    """Run the case's record through parsing and matching against a one-component stream."""
    report = parse_report(json.dumps(case.record).encode(), case.name)
    stream = StreamInventory(product="Labelled", stream="1", components=[case.component])
    return match_stream(report, stream).status
