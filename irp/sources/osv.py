"""Parse OSV records (the Open Source Vulnerability format, every ecosystem) into a `Report`."""

from __future__ import annotations

import re
from typing import Any

from packageurl import PackageURL

from irp.sources.cve5 import (
    MAX_RECORD_BYTES,
    InvalidReport,
    _json_type,
    _load_object,
    _optional,
    _Problem,
    _required,
    _text,
    _timestamp,
)
from models.records import (
    AffectedProduct,
    AffectStatus,
    CvssMetric,
    RecordState,
    Report,
    VersionRange,
)

OSV_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
"""Ids become Temporal workflow ids, so they are kept to a short set of safe characters."""

ECOSYSTEM_VERSION_TYPES = {
    "maven": "maven",
    "npm": "npm",
    "pypi": "pypi",
    "go": "golang",
    "debian": "deb",
    "ubuntu": "deb",
    "rubygems": "gem",
    "crates.io": "cargo",
    "nuget": "nuget",
    "packagist": "composer",
    "alpine": "alpine",
    "red hat": "rpm",
    "rocky linux": "rpm",
    "almalinux": "rpm",
    "opensuse": "rpm",
    "suse": "rpm",
    "mageia": "rpm",
    "openeuler": "rpm",
}
"""`versionType` values for OSV ecosystems, by lower-case ecosystem name without suffix."""

ECOSYSTEM_PURL_TYPES = {
    "maven": ("maven", None),
    "npm": ("npm", None),
    "pypi": ("pypi", None),
    "go": ("golang", None),
    "debian": ("deb", "debian"),
    "ubuntu": ("deb", "ubuntu"),
    "rubygems": ("gem", None),
    "crates.io": ("cargo", None),
    "nuget": ("nuget", None),
    "packagist": ("composer", None),
    "hex": ("hex", None),
    "pub": ("pub", None),
    "alpine": ("apk", "alpine"),
    "red hat": ("rpm", "redhat"),
    "rocky linux": ("rpm", "rocky-linux"),
    "almalinux": ("rpm", "almalinux"),
    "opensuse": ("rpm", "opensuse"),
    "suse": ("rpm", "suse"),
}
"""Purl type and fixed namespace for the ecosystems whose package names map onto a purl."""

RANGE_TYPES = {"ECOSYSTEM", "SEMVER", "GIT"}
EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")
CVSS_TYPES = {"CVSS_V2": "2.0", "CVSS_V3": "3.1", "CVSS_V4": "4.0"}
CVSS_PREFIX = re.compile(r"CVSS:(\d\.\d)/")


def parse_osv(data: bytes | str, file: str) -> Report:
    """Parse one OSV record; raise `InvalidReport` naming the problem."""
    if isinstance(data, (bytes, str)) and len(data) > MAX_RECORD_BYTES:
        raise InvalidReport(
            file, f"record is {len(data)} bytes, larger than the {MAX_RECORD_BYTES} byte limit for one OSV record"
        )
    try:
        record = _load_object(data)
        return _build_report(record)
    except _Problem as problem:
        raise InvalidReport(file, str(problem)) from None


def _build_report(record: dict[str, Any]) -> Report:
    """Build a `Report` from a decoded OSV record."""
    record_id = _required(record, "id", str, "")
    if not OSV_ID_PATTERN.fullmatch(record_id):
        raise _Problem(f"id {record_id[:80]!r} is not an OSV id such as GHSA-xxxx-xxxx-xxxx or PYSEC-2023-74")
    modified_at = _timestamp(record, "modified", "")
    if modified_at is None:
        raise _Problem("missing modified")
    withdrawn_at = _timestamp(record, "withdrawn", "")

    return Report(
        id=record_id,
        format="osv",
        state=RecordState.rejected if withdrawn_at else RecordState.published,
        title=_text(_optional(record, "summary", str, "", None)),
        description=_text(_optional(record, "details", str, "", None)),
        published_at=_timestamp(record, "published", ""),
        modified_at=modified_at,
        withdrawn_at=withdrawn_at,
        affected=_affected(record, record_id),
        metrics=_metrics(record, record_id),
        references=_references(record),
        aliases=[alias for alias in _ids(record, "aliases") if alias != record_id],
        related=_related(record, record_id),
    )


def _affected(record: dict[str, Any], record_id: str) -> list[AffectedProduct]:
    """Map every `affected` package to the entries that matching evaluates."""
    products: list[AffectedProduct] = []
    for index, entry in enumerate(_optional(record, "affected", list, "", [])):
        path = f"affected[{index}]"
        if not isinstance(entry, dict):
            raise _Problem(f"{path} must be an object, found {_json_type(entry)}")
        for product in _affected_products(entry, record_id, path):
            if product not in products:
                products.append(product)
    return products


def _affected_products(entry: dict[str, Any], record_id: str, path: str) -> list[AffectedProduct]:
    """Build the entries of one affected package: its comparable ranges, then its GIT ranges apart."""
    package = _required(entry, "package", dict, path)
    ecosystem = _required(package, "ecosystem", str, f"{path}.package")
    name = _required(package, "name", str, f"{path}.package")
    purl = _optional(package, "purl", str, f"{path}.package", None) or _package_purl(ecosystem, name)
    version_type = _version_type(ecosystem)

    comparable: list[VersionRange] = []
    git: list[VersionRange] = []
    for index, item in enumerate(_optional(entry, "ranges", list, path, [])):
        range_path = f"{path}.ranges[{index}]"
        if not isinstance(item, dict):
            raise _Problem(f"{range_path} must be an object, found {_json_type(item)}")
        range_type = _required(item, "type", str, range_path)
        if range_type not in RANGE_TYPES:
            raise _Problem(f"{range_path}.type {range_type!r} is unknown, expected ECOSYSTEM, SEMVER or GIT")
        if range_type == "GIT":
            git.extend(_version_ranges(item, "git", range_path))
        else:
            comparable.extend(_version_ranges(item, version_type, range_path))

    for index, version in enumerate(_optional(entry, "versions", list, path, [])):
        if not isinstance(version, str):
            raise _Problem(f"{path}.versions[{index}] must be a string, found {_json_type(version)}")
        comparable.append(VersionRange(version=version, status=AffectStatus.affected, version_type=version_type))

    def product(versions: list[VersionRange]) -> AffectedProduct:
        # OSV lists what is affected, so a version outside every range and list is not.
        return AffectedProduct(
            package_name=name,
            purl=purl,
            default_status=AffectStatus.not_affected if versions else AffectStatus.unknown,
            versions=versions,
            container=record_id,
        )

    # Matching lets a comparable entry outrank an uncomparable one for the same package,
    # so the GIT ranges go in an entry of their own.
    products = [product(comparable)] if comparable or not git else []
    if git:
        products.append(product(git))
    return products


def _version_ranges(item: dict[str, Any], version_type: str, path: str) -> list[VersionRange]:
    """Turn a range's events into `version` + `less_than` / `less_than_or_equal` ranges."""
    ranges: list[VersionRange] = []
    start: str | None = None

    # NOTE: events are paired in the order listed, as producers write them. The OSV spec
    # sorts them by version first, so two `introduced` in a row read wider (more affected).
    for kind, value in _events(item, path):
        if kind == "introduced":
            if start is not None:
                ranges.append(_affected_range(start, version_type, less_than="*"))
            start = value
        elif start is None:
            continue
        elif kind == "last_affected":
            ranges.append(_affected_range(start, version_type, less_than_or_equal=value))
            start = None
        else:
            ranges.append(_affected_range(start, version_type, less_than=value))
            start = None

    if start is not None:
        ranges.append(_affected_range(start, version_type, less_than="*"))
    return ranges


def _events(item: dict[str, Any], path: str) -> list[tuple[str, str]]:
    """Read a range's events as (kind, version) pairs; each event has exactly one kind."""
    events = _required(item, "events", list, path)
    pairs: list[tuple[str, str]] = []
    for index, event in enumerate(events):
        event_path = f"{path}.events[{index}]"
        if not isinstance(event, dict):
            raise _Problem(f"{event_path} must be an object, found {_json_type(event)}")
        kinds = [kind for kind in EVENT_KINDS if kind in event]
        if len(kinds) != 1:
            raise _Problem(f"{event_path} must have exactly one of {', '.join(EVENT_KINDS)}")
        pairs.append((kinds[0], _required(event, kinds[0], str, event_path)))

    if not any(kind == "introduced" for kind, _ in pairs):
        raise _Problem(f"{path}.events has no introduced event")
    return pairs


def _affected_range(start: str, version_type: str, **bound: str) -> VersionRange:
    """Build one affected range from its start and upper bound."""
    return VersionRange(version=start, status=AffectStatus.affected, version_type=version_type, **bound)


def _version_type(ecosystem: str) -> str:
    """Return the `versionType` for an ecosystem such as `Debian:12` or `PyPI`."""
    base = ecosystem.split(":", 1)[0].strip().lower()
    return ECOSYSTEM_VERSION_TYPES.get(base, base or "custom")


def _package_purl(ecosystem: str, name: str) -> str | None:
    """Build the purl of an ecosystem's package, or None where the ecosystem has no purl type."""
    base = ecosystem.split(":", 1)[0].strip().lower()
    if base not in ECOSYSTEM_PURL_TYPES or not name.strip():
        return None
    purl_type, namespace = ECOSYSTEM_PURL_TYPES[base]

    if purl_type == "maven" and ":" in name:
        namespace, name = name.split(":", 1)
    elif purl_type == "pypi":
        # PyPI compares names by their PEP 503 normal form, and purl uses the same.
        name = re.sub(r"[-_.]+", "-", name).lower()
    elif purl_type in {"npm", "golang", "composer"} and "/" in name:
        namespace, name = name.rsplit("/", 1)

    try:
        return PackageURL(type=purl_type, namespace=namespace, name=name).to_string()
    except ValueError:
        return None


def _metrics(record: dict[str, Any], record_id: str) -> list[CvssMetric]:
    """Collect the CVSS vectors of the record and of each affected package."""
    lists = [("", record)]
    for index, entry in enumerate(_optional(record, "affected", list, "", [])):
        lists.append((f"affected[{index}]", entry))

    metrics: list[CvssMetric] = []
    for path, container in lists:
        for index, severity in enumerate(_optional(container, "severity", list, path, [])):
            metric = _cvss(severity, record_id, f"{_dotted(path)}severity[{index}]")
            if metric is not None and metric not in metrics:
                metrics.append(metric)
    return metrics


def _cvss(severity: Any, record_id: str, path: str) -> CvssMetric | None:
    """Build a `CvssMetric` from a severity entry, or None for a non-CVSS type such as `Ubuntu`."""
    if not isinstance(severity, dict):
        raise _Problem(f"{path} must be an object, found {_json_type(severity)}")
    severity_type = _required(severity, "type", str, path)
    score = _required(severity, "score", str, path).strip()
    if severity_type not in CVSS_TYPES:
        return None

    prefix = CVSS_PREFIX.match(score)
    if prefix:
        version = prefix.group(1)
    elif severity_type == "CVSS_V2":
        version = "2.0"
    else:
        raise _Problem(f"{path}.score {score[:120]!r} is not a CVSS vector: it lacks the CVSS:x.y/ prefix")
    return CvssMetric(version=version, vector=score, container=record_id)


def _references(record: dict[str, Any]) -> list[str]:
    """Collect the reference URLs, without repeats."""
    urls: list[str] = []
    for index, reference in enumerate(_optional(record, "references", list, "", [])):
        path = f"references[{index}]"
        if not isinstance(reference, dict):
            raise _Problem(f"{path} must be an object, found {_json_type(reference)}")
        url = _required(reference, "url", str, path)
        if url not in urls:
            urls.append(url)
    return urls


def _related(record: dict[str, Any], record_id: str) -> list[str]:
    """Collect `related` and `upstream` ids: other records about nearby or underlying flaws."""
    related: list[str] = []
    for key in ("related", "upstream"):
        for value in _ids(record, key):
            if value != record_id and value not in related:
                related.append(value)
    return related


def _ids(record: dict[str, Any], key: str) -> list[str]:
    """Read a list of ids, without repeats."""
    ids: list[str] = []
    for index, value in enumerate(_optional(record, key, list, "", [])):
        if not isinstance(value, str) or not value.strip():
            raise _Problem(f"{key}[{index}] must be a non-empty string")
        if value.strip() not in ids:
            ids.append(value.strip())
    return ids


def _dotted(path: str) -> str:
    """Return a path ready for a key to be appended."""
    return f"{path}." if path else ""
