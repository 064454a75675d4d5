"""Generated benchmark inputs: an inventory over several ecosystems and CVE JSON 5 and OSV records against it."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

from models.inventory import ComponentPublic, StreamInventory

ECOSYSTEMS = ("npm", "pypi", "maven", "golang", "deb", "rpm")
CONSONANTS = "bcdfghjklmnprstvwxz"
VOWELS = "aeiou"
MISS_SHARE = 0.3
"""Share of record packages that no inventory component ships, as most published records are."""


@dataclass(frozen=True)
class Package:
    """A generated package: its ecosystem, name and the version the inventory ships."""

    ecosystem: str
    name: str
    version: tuple[int, int, int]


def word(generator: random.Random, syllables: int = 3) -> str:
    """Return a pronounceable made-up word, so names rarely share a stem."""
    return "".join(generator.choice(CONSONANTS) + generator.choice(VOWELS) for _ in range(syllables))


def make_packages(count: int, generator: random.Random) -> list[Package]:
    """Generate packages spread evenly over the ecosystems, with unique names."""
    names: set[str] = set()
    packages = []
    while len(packages) < count:
        name = f"{word(generator)}-{word(generator, 2)}"
        if name in names:
            continue
        names.add(name)
        version = (generator.randint(0, 12), generator.randint(0, 30), generator.randint(0, 40))
        packages.append(Package(ECOSYSTEMS[len(packages) % len(ECOSYSTEMS)], name, version))
    return packages


def version_text(package: Package, version: tuple[int, int, int]) -> str:
    """Write a version the way the package's ecosystem spells it."""
    major, minor, patch = version
    if package.ecosystem == "deb":
        return f"{major}.{minor}.{patch}-1~deb12u1"
    if package.ecosystem == "rpm":
        return f"{major}.{minor}.{patch}-{patch % 5 + 1}.el9"
    if package.ecosystem == "golang":
        return f"v{major}.{minor}.{patch}"
    return f"{major}.{minor}.{patch}"


def purl(package: Package) -> str:
    """Return the package's purl with the shipped version."""
    version = version_text(package, package.version)
    return {
        "npm": f"pkg:npm/{package.name}@{version}",
        "pypi": f"pkg:pypi/{package.name}@{version}",
        "maven": f"pkg:maven/org.{package.name.split('-')[0]}/{package.name}@{version}",
        "golang": f"pkg:golang/github.com/{package.name.split('-')[0]}/{package.name}@{version}",
        "deb": f"pkg:deb/debian/{package.name}@{version}?distro=debian-12",
        "rpm": f"pkg:rpm/redhat/{package.name}@{version}?arch=x86_64&epoch=1",
    }[package.ecosystem]


def make_streams(packages: list[Package], stream_count: int) -> list[StreamInventory]:
    """Spread the packages over product streams, one component per package."""
    streams = [
        StreamInventory(product=f"Product {index // 2 + 1}", stream=f"{index % 2 + 1}.x", components=[])
        for index in range(stream_count)
    ]
    for index, package in enumerate(packages):
        component = ComponentPublic(name=package.name, version=version_text(package, package.version), purl=purl(package))
        streams[index % stream_count].components.append(component)
    return streams


def cyclonedx(stream: StreamInventory) -> dict[str, Any]:
    """Write a stream as a CycloneDX 1.5 SBOM, the way `irp inventory load` takes it in."""
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "components": [
            {"type": "library", "name": component.name, "version": component.version, "purl": component.purl}
            for component in stream.components
        ],
    }


def make_records(count: int, packages: list[Package], generator: random.Random) -> list[bytes]:
    """Generate records, alternating CVE JSON 5 and OSV, each naming one to three packages."""
    unknown = make_packages(max(10, count // 4), random.Random(generator.random()))
    records = []
    for index in range(count):
        chosen = [
            generator.choice(unknown) if generator.random() < MISS_SHARE else generator.choice(packages)
            for _ in range(generator.randint(1, 3))
        ]
        ranges = [(package, _fix_version(package, generator)) for package in chosen]
        identifier = f"CVE-2027-{100000 + index}"
        document = _cve_record(identifier, ranges) if index % 2 == 0 else _osv_record(index, identifier, ranges)
        records.append(json.dumps(document).encode())
    return records


def _fix_version(package: Package, generator: random.Random) -> tuple[int, int, int]:
    """Pick a fixed version near the shipped one, so about half the matches are affected."""
    major, minor, patch = package.version
    return (major, minor, max(0, patch + generator.randint(-3, 3)))


OSV_ECOSYSTEMS = {"npm": "npm", "pypi": "PyPI", "maven": "Maven", "golang": "Go", "deb": "Debian:12", "rpm": "Red Hat"}
CVE_VERSION_TYPES = {"npm": "semver", "pypi": "pypi", "maven": "maven", "golang": "golang", "deb": "deb", "rpm": "rpm"}


def _cve_record(identifier: str, ranges: list[tuple[Package, tuple[int, int, int]]]) -> dict[str, Any]:
    """Build a CVE JSON 5.1 record with one `affected` entry per package."""
    affected = []
    for package, fixed in ranges:
        fixed_text = version_text(package, fixed)
        if package.ecosystem == "rpm":
            fixed_text = f"1:{fixed_text}"
        affected.append(
            {
                "vendor": "Example",
                "product": package.name,
                "packageName": _package_name(package),
                "defaultStatus": "unaffected",
                "versions": [
                    {"version": "0", "lessThan": fixed_text, "status": "affected", "versionType": CVE_VERSION_TYPES[package.ecosystem]}
                ],
            }
        )
    return {
        "dataType": "CVE_RECORD",
        "dataVersion": "5.1",
        "cveMetadata": {
            "cveId": identifier,
            "assignerOrgId": "00000000-0000-4000-8000-000000000000",
            "state": "PUBLISHED",
            "datePublished": "2027-01-15T10:00:00.000Z",
        },
        "containers": {
            "cna": {
                "providerMetadata": {"orgId": "00000000-0000-4000-8000-000000000000"},
                "title": f"Out-of-bounds read in {ranges[0][0].name}",
                "descriptions": [{"lang": "en", "value": f"An out-of-bounds read in {ranges[0][0].name} allows a crafted input to crash the parser."}],
                "affected": affected,
                "metrics": [{"cvssV3_1": {"version": "3.1", "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", "baseScore": 7.5, "baseSeverity": "HIGH"}}],
                "problemTypes": [{"descriptions": [{"lang": "en", "cweId": "CWE-125", "description": "CWE-125 Out-of-bounds Read", "type": "CWE"}]}],
                "references": [{"url": f"https://example.org/advisories/{identifier}"}],
            }
        },
    }


def _osv_record(index: int, identifier: str, ranges: list[tuple[Package, tuple[int, int, int]]]) -> dict[str, Any]:
    """Build an OSV record, aliasing a CVE id, with one `affected` package per range."""
    affected = []
    for package, fixed in ranges:
        range_type = "SEMVER" if package.ecosystem in {"npm", "golang"} else "ECOSYSTEM"
        fixed_text = version_text(package, fixed).removeprefix("v")
        affected.append(
            {
                "package": {"ecosystem": OSV_ECOSYSTEMS[package.ecosystem], "name": _package_name(package)},
                "ranges": [{"type": range_type, "events": [{"introduced": "0"}, {"fixed": fixed_text}]}],
            }
        )
    return {
        "schema_version": "1.6.0",
        "id": f"GHSA-{index:04x}-bnch-{index % 9973:04d}",
        "modified": "2027-01-15T10:00:00Z",
        "published": "2027-01-15T10:00:00Z",
        "aliases": [identifier],
        "summary": f"Denial of service in {ranges[0][0].name}",
        "details": "A crafted request exhausts memory.",
        "affected": affected,
        "references": [{"type": "ADVISORY", "url": f"https://example.org/advisories/{identifier}"}],
    }


def _package_name(package: Package) -> str:
    """Return the name a record uses: Maven's group:artifact, Go's module path, else the plain name."""
    if package.ecosystem == "maven":
        return f"org.{package.name.split('-')[0]}:{package.name}"
    if package.ecosystem == "golang":
        return f"github.com/{package.name.split('-')[0]}/{package.name}"
    return package.name
