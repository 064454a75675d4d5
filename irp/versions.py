"""Compare versions and evaluate a CVE record's version ranges, through `univers`."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from packageurl import PackageURL
from univers.versions import (
    AlpineLinuxVersion,
    ArchLinuxVersion,
    ComposerVersion,
    DebianVersion,
    GenericVersion,
    GolangVersion,
    InvalidVersion,
    MavenVersion,
    NugetVersion,
    PypiVersion,
    RpmVersion,
    RubygemsVersion,
    SemverVersion,
    Version,
)

from models.records import AffectedProduct, AffectStatus, VersionChange, VersionRange

SCHEMES: dict[str, type[Version]] = {
    "semver": SemverVersion,
    "rpm": RpmVersion,
    "maven": MavenVersion,
    "debian": DebianVersion,
    "pypi": PypiVersion,
    "golang": GolangVersion,
    "rubygems": RubygemsVersion,
    "nuget": NugetVersion,
    "composer": ComposerVersion,
    "alpine": AlpineLinuxVersion,
    "arch": ArchLinuxVersion,
    "generic": GenericVersion,
}
"""Version schemes by the name reasons use."""

VERSION_TYPE_SCHEMES = {
    "semver": "semver",
    "npm": "semver",
    "rpm": "rpm",
    "maven": "maven",
    "deb": "debian",
    "debian": "debian",
    "pypi": "pypi",
    "python": "pypi",
    "golang": "golang",
    "go": "golang",
    "gem": "rubygems",
    "rubygems": "rubygems",
    "nuget": "nuget",
    "composer": "composer",
    "cargo": "semver",
    "alpine": "alpine",
    "generic": "generic",
}
"""Schemes for the `versionType` values CNAs use."""

PURL_TYPE_SCHEMES = {
    "maven": "maven",
    "rpm": "rpm",
    "deb": "debian",
    "npm": "semver",
    "cargo": "semver",
    "pypi": "pypi",
    "golang": "golang",
    "gem": "rubygems",
    "nuget": "nuget",
    "composer": "composer",
    "apk": "alpine",
    "alpm": "arch",
    "generic": "generic",
}
"""Schemes for purl types, used when a record's `versionType` is `custom` or absent."""

UNCOMPARABLE_VERSION_TYPES = {"git"}

LOWEST_VERSIONS = {"0", "*"}
"""Range starts that CVE records use for "from the first version on"."""

VERSION_SYNTAX = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+~:_^-]*")
COMMIT_HASH = re.compile(r"(?=.*[a-f])(?=.*\d)[0-9a-f]{12,64}")
VERSION_PREFIX = re.compile(r"v?\d+(\.\d+)*")


class UncomparableVersion(ValueError):
    """A version or range that cannot be compared; the message gives the reason."""


@dataclass(frozen=True)
class VersionScheme:
    """A named `univers` version class."""

    name: str
    version_class: type[Version]

    def parse(self, text: str, role: str) -> Version:
        """Parse a version string; raise `UncomparableVersion` naming the role on failure."""
        if not VERSION_SYNTAX.fullmatch(text):
            raise UncomparableVersion(f"{role} {text!r} is not a version string")
        if COMMIT_HASH.fullmatch(text):
            raise UncomparableVersion(f"{role} {text!r} is a commit hash, not a version")
        try:
            return self.version_class(text)
        except (InvalidVersion, ValueError, TypeError) as error:
            raise UncomparableVersion(f"{role} {text!r} is not a valid {self.name} version") from error


@dataclass(frozen=True)
class VersionVerdict:
    """The status a record's version list gives one version, and why."""

    status: AffectStatus
    decided: bool
    """False when a range that could change the status could not be compared, and `status` is then `unknown`."""
    reason: str


def choose_scheme(
    version_type: str | None, component_purl: str | None, entry_purl: str | None = None
) -> VersionScheme:
    """Choose the version scheme for a range; raise `UncomparableVersion` when none fits."""
    normalized = (version_type or "").strip().lower()
    if normalized in UNCOMPARABLE_VERSION_TYPES:
        raise UncomparableVersion(f"versionType {version_type!r} ranges use commit hashes, which have no order")
    if normalized in VERSION_TYPE_SCHEMES:
        return _scheme(VERSION_TYPE_SCHEMES[normalized])

    # `custom`, absent and unfamiliar version types all leave the ordering to the package's ecosystem.
    for purl in (component_purl, entry_purl):
        purl_type = purl_type_of(purl)
        if purl_type in PURL_TYPE_SCHEMES:
            return _scheme(PURL_TYPE_SCHEMES[purl_type])

    described = f"versionType {version_type!r}" if version_type else "no versionType"
    raise UncomparableVersion(
        f"{described} and no purl of a known type to choose a version scheme from"
    )


def purl_type_of(purl: str | None) -> str | None:
    """Return the type of a purl string, or None when it is absent or invalid."""
    parsed = parse_purl(purl)
    return parsed.type.lower() if parsed is not None else None


@functools.lru_cache(maxsize=65_536)
def parse_purl(purl: str | None) -> PackageURL | None:
    """Parse a purl string, returning None when it is absent or invalid.

    Cached because matching compares every component with every record entry, and
    PackageURL values are immutable.
    """
    if not purl:
        return None
    try:
        return PackageURL.from_string(purl)
    except ValueError:
        return None


def component_version(version: str | None, purl: str | None) -> str | None:
    """Return a component's version, taking it from the purl when absent and adding an rpm epoch."""
    parsed = parse_purl(purl)
    if version is None and parsed is not None:
        version = parsed.version
    if version is None:
        return None

    # An rpm purl carries the epoch as a qualifier, while CVE records write it as `epoch:version`.
    epoch = parsed.qualifiers.get("epoch") if parsed is not None and parsed.type == "rpm" else None
    if epoch and ":" not in version:
        return f"{epoch}:{version}"
    return version


def evaluate_versions(
    version: str, product: AffectedProduct, component_purl: str | None
) -> VersionVerdict:
    """Apply a record entry's version list and default status to one version."""
    possible: set[AffectStatus] = set()
    problems: list[str] = []
    outcome: tuple[AffectStatus, str] | None = None

    for entry in product.versions:
        try:
            outcome = _status_in_entry(version, entry, component_purl, product.purl)
        except UncomparableVersion as error:
            problems.append(str(error))
            possible.update(_statuses_of(entry))
            continue
        if outcome is not None:
            break

    if outcome is None:
        outcome = (product.default_status, _default_reason(product))
    possible.add(outcome[0])

    # An entry that could not be compared matters only if it could give another status.
    if len(possible) == 1:
        return VersionVerdict(status=outcome[0], decided=True, reason=outcome[1])
    return VersionVerdict(
        status=AffectStatus.unknown,
        decided=False,
        reason=f"{'; '.join(dict.fromkeys(problems))}, so the status could be {_words(possible)}",
    )


def _status_in_entry(
    version: str, entry: VersionRange, component_purl: str | None, entry_purl: str | None
) -> tuple[AffectStatus, str] | None:
    """Return the status and its reason when the entry covers the version, else None."""
    if entry.less_than is None and entry.less_than_or_equal is None:
        return _status_if_equal(version, entry, component_purl, entry_purl)

    scheme = choose_scheme(entry.version_type, component_purl, entry_purl)
    current = scheme.parse(version, "component version")
    if not _at_or_above_start(current, entry.version, scheme):
        return None
    if not _below_bound(current, entry, scheme):
        return None

    status = entry.status
    described = _describe_range(entry, scheme)
    last_change = None
    for change_at, change in _sorted_changes(entry, scheme):
        if change_at <= current:
            status = change.status
            last_change = change
    if last_change is not None:
        described = f"{described}, whose status changes to {_word(status)} at {last_change.at}"
    return status, f"{_word(status)} by {described}"


def _status_if_equal(
    version: str, entry: VersionRange, component_purl: str | None, entry_purl: str | None
) -> tuple[AffectStatus, str] | None:
    """Return the status of a single-version entry when it names this version."""
    reason = f"{_word(entry.status)} as listed version {entry.version}"
    if version == entry.version:
        return entry.status, reason

    scheme = choose_scheme(entry.version_type, component_purl, entry_purl)
    listed = scheme.parse(entry.version, "listed version")
    if scheme.parse(version, "component version") == listed:
        return entry.status, reason
    return None


def _at_or_above_start(current: Version, start: str, scheme: VersionScheme) -> bool:
    """Tell whether a version is at or above a range's start."""
    if start.strip() in LOWEST_VERSIONS:
        return True
    return scheme.parse(start, "range start") <= current


def _below_bound(current: Version, entry: VersionRange, scheme: VersionScheme) -> bool:
    """Tell whether a version is below a range's upper bound, reading `*` wildcards."""
    inclusive = entry.less_than is None
    bound = (entry.less_than if not inclusive else entry.less_than_or_equal).strip()
    if bound == "*":
        return True

    if bound.endswith("*"):
        prefix = bound[:-1].rstrip(".")
        if VERSION_PREFIX.fullmatch(prefix):
            # `1.*` stands for an arbitrarily large 1.x version, so the range ends below 2.
            return current < scheme.parse(_next_series(prefix), "range end")
        if prefix[:1].isalpha():
            # NOTE: some CNAs put the package name before the asterisk (Log4Shell has
            # `lessThan: "log4j-core*"`); it is read as "every later version", unbounded.
            return True
        raise UncomparableVersion(f"range end {bound!r} is not a version pattern")

    limit = scheme.parse(bound, "range end")
    return current <= limit if inclusive else current < limit


def _next_series(prefix: str) -> str:
    """Return the first version after a series prefix: `5.4` gives `5.5`."""
    parts = prefix.lstrip("v").split(".")
    parts[-1] = str(int(parts[-1]) + 1)
    return ".".join(parts)


def _sorted_changes(entry: VersionRange, scheme: VersionScheme) -> list[tuple[Version, VersionChange]]:
    """Parse a range's status changes and sort them, since records need not keep them in order."""
    parsed = [(scheme.parse(change.at, "status change version"), change) for change in entry.changes]
    return sorted(parsed, key=lambda pair: pair[0])


def _describe_range(entry: VersionRange, scheme: VersionScheme) -> str:
    """Describe a range as `scheme range start <= version < end`."""
    if entry.less_than is not None:
        return f"{scheme.name} range {entry.version} <= version < {entry.less_than}"
    return f"{scheme.name} range {entry.version} <= version <= {entry.less_than_or_equal}"


def _default_reason(product: AffectedProduct) -> str:
    """Explain that the default status applies, and to what."""
    if product.default_status is AffectStatus.unknown:
        verdict = "unknown, which is the default status"
    else:
        verdict = f"{_word(product.default_status)} by the default status"
    if not product.versions:
        return f"{verdict}, since the entry lists no versions"
    return f"{verdict}, since no listed version or range covers it"


def _statuses_of(entry: VersionRange) -> set[AffectStatus]:
    """Return every status a range entry can give."""
    return {entry.status, *(change.status for change in entry.changes)}


def _scheme(name: str) -> VersionScheme:
    """Return the scheme registered under a name."""
    return VersionScheme(name=name, version_class=SCHEMES[name])


def _word(status: AffectStatus) -> str:
    """Return the plain word for a status."""
    return "not affected" if status is AffectStatus.not_affected else status.value


def _words(statuses: set[AffectStatus]) -> str:
    """Join statuses as `affected or not affected`, in a fixed order."""
    order = [AffectStatus.affected, AffectStatus.unknown, AffectStatus.not_affected]
    return " or ".join(_word(status) for status in order if status in statuses)
