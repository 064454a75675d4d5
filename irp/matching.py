"""Decide which inventory streams a parsed record affects."""

from __future__ import annotations

import re
from dataclasses import dataclass

from packageurl import PackageURL

from irp.versions import component_version, evaluate_versions, parse_purl
from models.incident import Affect
from models.inventory import ComponentPublic, StreamInventory
from models.records import AffectedProduct, AffectStatus, RecordState, Report

STATUS_PRIORITY = (AffectStatus.affected, AffectStatus.unknown, AffectStatus.not_affected)
"""When entries disagree about one component, the earlier status wins."""

MAX_REASONS_LISTED = 3
PLACEHOLDER_VENDORS = {"n/a", "na", "unknown", ""}


@dataclass(frozen=True)
class EntryVerdict:
    """The status one record entry gives one component."""

    entry: AffectedProduct
    status: AffectStatus
    decided: bool
    """False when the entry's versions could not be compared with the component's."""
    reason: str


@dataclass(frozen=True)
class ComponentVerdict:
    """The status of one component against the whole record."""

    component: ComponentPublic
    version: str | None
    status: AffectStatus
    reason: str


def match_affects(report: Report, streams: list[StreamInventory]) -> list[Affect]:
    """Decide one `Affect` per stream from the record's affected entries."""
    return [match_stream(report, stream) for stream in streams]


def match_stream(report: Report, stream: StreamInventory) -> Affect:
    """Decide whether one stream is affected, naming the deciding component."""
    if report.state is RecordState.rejected:
        return _affect(stream, AffectStatus.not_affected, _rejected_reason(report))
    if not report.affected:
        reason = f"{report.id} lists no affected products, so the stream cannot be checked"
        return _affect(stream, AffectStatus.unknown, reason)
    if not stream.components:
        return _affect(stream, AffectStatus.unknown, "the inventory lists no components for this stream")

    verdicts = [
        verdict
        for component in stream.components
        if (verdict := match_component(report, component)) is not None
    ]
    if not verdicts:
        reason = (
            f"no component of the stream matches the record (checked {len(stream.components)}"
            f" components against {len(report.affected)} record entries)"
        )
        return _affect(stream, AffectStatus.not_affected, reason)

    for status in STATUS_PRIORITY:
        chosen = [verdict for verdict in verdicts if verdict.status is status]
        if chosen:
            reasons = [verdict.reason for verdict in chosen]
            return _affect(stream, status, _join_reasons(reasons), chosen[0])
    raise AssertionError("every status is in STATUS_PRIORITY")


def match_component(report: Report, component: ComponentPublic) -> ComponentVerdict | None:
    """Evaluate one component against every entry that names it, or return None if none does."""
    version = component_version(component.version, component.purl)
    verdicts = [
        _entry_verdict(component, version, entry, how)
        for entry in report.affected
        if (how := match_entry(component, entry)) is not None
    ]
    if not verdicts:
        return None

    chosen = _combine(verdicts)
    label = f"{component.name} {version}" if version else component.name
    return ComponentVerdict(
        component=component,
        version=version,
        status=chosen[0].status,
        reason=f"{label}: {_join_reasons([verdict.reason for verdict in chosen])}",
    )


def match_entry(component: ComponentPublic, entry: AffectedProduct) -> str | None:
    """Return how a record entry names the component (purl, package name...), or None."""
    component_purl = parse_purl(component.purl)
    entry_purl = parse_purl(entry.purl)
    if component_purl and entry_purl and _purl_key(component_purl) == _purl_key(entry_purl):
        return "purl"

    names = _component_names(component, component_purl)
    if entry.package_name and entry.package_name.casefold() in names:
        return "package name"

    # Entries that name a package (Red Hat's, say) use `product` for the distribution
    # shipping it, so only entries without a package are matched by product name or CPE.
    names_package = entry.package_name or entry_purl
    if not names_package and entry.product and entry.product.casefold() in names:
        return "product name"
    if not names_package and component.cpe and _cpe_key(component.cpe) in _entry_cpe_keys(entry):
        return "CPE"

    entry_stem = _entry_stem(entry, entry_purl)
    if entry_stem and entry_stem in _component_stems(component, component_purl):
        return "similar name"
    return None


def _entry_verdict(
    component: ComponentPublic, version: str | None, entry: AffectedProduct, how: str
) -> EntryVerdict:
    """Evaluate one matching entry for a component's version."""
    source = _describe_entry(entry, how)
    # Decided, so that no other entry for the same product can outrank this unknown.
    if version is None and entry.versions:
        reason = f"unknown, the inventory lists no version ({source})"
        return EntryVerdict(entry=entry, status=AffectStatus.unknown, decided=True, reason=reason)

    # An entry without versions gives its default status to every version, even an unknown one.
    verdict = evaluate_versions(version or "", entry, component.purl)
    reason = verdict.reason if verdict.decided else f"unknown, {verdict.reason}"
    return EntryVerdict(
        entry=entry, status=verdict.status, decided=verdict.decided, reason=f"{reason} ({source})"
    )


def _combine(verdicts: list[EntryVerdict]) -> list[EntryVerdict]:
    """Pick the verdicts that decide a component's status, in priority order."""
    # Entries describing the same product (the kernel's git and semver lists, say) are one
    # statement, so an entry that could be compared outranks one that could not.
    # NOTE: this trusts a record's lists for one product to agree with each other.
    groups: dict[tuple[str, ...], list[EntryVerdict]] = {}
    for verdict in verdicts:
        groups.setdefault(_entry_identity(verdict.entry), []).append(verdict)

    counted: list[EntryVerdict] = []
    for group in groups.values():
        decided = [verdict for verdict in group if verdict.decided]
        counted.extend(decided or group)

    for status in STATUS_PRIORITY:
        chosen = [verdict for verdict in counted if verdict.status is status]
        if chosen:
            return chosen
    raise AssertionError("every status is in STATUS_PRIORITY")


def _affect(
    stream: StreamInventory,
    status: AffectStatus,
    reason: str,
    deciding: ComponentVerdict | None = None,
) -> Affect:
    """Build the `Affect` of a stream."""
    return Affect(
        product=stream.product,
        stream=stream.stream,
        owner=stream.owner,
        compliance_priority=stream.compliance_priority,
        status=status,
        reason=reason,
        component=deciding.component.name if deciding else None,
        version=deciding.version if deciding else None,
        purl=deciding.component.purl if deciding else None,
    )


def _rejected_reason(report: Report) -> str:
    """Explain that a REJECTED or withdrawn record affects nothing, naming its replacements."""
    if report.withdrawn_at is not None:
        return f"{report.id} was withdrawn on {report.withdrawn_at.date().isoformat()}, so it describes no vulnerability"
    if report.replaced_by:
        return (
            f"{report.id} is REJECTED and replaced by {', '.join(report.replaced_by)}."
            " Assess the replacement records instead"
        )
    return f"{report.id} is REJECTED, so it describes no vulnerability"


def _describe_entry(entry: AffectedProduct, how: str) -> str:
    """Name a record entry for a reason: its container and what it covers."""
    container = "CNA" if entry.container == "cna" else entry.container
    subject = entry.package_name or entry.purl or entry.product or "an unnamed product"
    if entry.package_name and entry.product:
        subject = f"{entry.package_name} in {entry.product}"
    described = f"{container} entry for {subject}"
    if how == "similar name":
        described = f"{described}, matched by similar name"
    return described


def _join_reasons(reasons: list[str]) -> str:
    """Join reasons with semicolons, listing at most a few."""
    unique = list(dict.fromkeys(reasons))
    listed = "; ".join(unique[:MAX_REASONS_LISTED])
    hidden = len(unique) - MAX_REASONS_LISTED
    return f"{listed}; and {hidden} more" if hidden > 0 else listed


def _entry_identity(entry: AffectedProduct) -> tuple[str, ...]:
    """Return what an entry describes: vendor, product, package and purl without version."""
    purl = parse_purl(entry.purl)
    return (
        (entry.vendor or "").casefold(),
        (entry.product or "").casefold(),
        (entry.package_name or "").casefold(),
        "/".join(_purl_key(purl)) if purl else "",
    )


def _component_names(component: ComponentPublic, purl: PackageURL | None) -> set[str]:
    """Return the names a record may use for a component, case-folded."""
    names = {component.name.casefold()}
    if purl is not None:
        names.add(purl.name.casefold())
        if purl.namespace:
            names.add(f"{purl.namespace}/{purl.name}".casefold())
            names.add(f"{purl.namespace}:{purl.name}".casefold())
    return names


def _component_stems(component: ComponentPublic, purl: PackageURL | None) -> set[str]:
    """Return the name stems of a component and of its purl name."""
    names = [component.name] + ([purl.name] if purl is not None else [])
    return {stem for name in names if (stem := _stem(name))}


def _entry_stem(entry: AffectedProduct, purl: PackageURL | None) -> str | None:
    """Return the stem of the loose name an entry gives its software, if it gives one."""
    # A purl or a namespaced package name (`group:artifact`) names one exact package,
    # so `log4j-core` must not stand for `log4j-api`.
    if purl is not None or (entry.package_name and re.search(r"[:/]", entry.package_name)):
        return None
    if entry.package_name:
        return _stem(entry.package_name)
    if not entry.product:
        return None

    # NOTE: a stem also matches sibling packages (`log4j-api` for "Apache Log4j2"),
    # which errs towards a false affected rather than a missed one.
    words = _words(entry.product)
    vendor = (entry.vendor or "").casefold()
    vendor_words = set() if vendor in PLACEHOLDER_VENDORS else set(_words(vendor))
    remaining = [word for word in words if word not in vendor_words] or words
    # Several words ("HTTP Server") are too vague to match by their first word alone.
    return _stem(remaining[0]) if len(remaining) == 1 else None


def _stem(name: str) -> str | None:
    """Return the first word of a name without its trailing digits: `Log4j2` gives `log4j`."""
    words = _words(name)
    if not words:
        return None
    stem = words[0].rstrip("0123456789")
    return stem if len(stem) >= 2 else None


def _words(text: str) -> list[str]:
    """Split text into lower-case alphanumeric words."""
    return re.findall(r"[a-z0-9]+", text.casefold())


def _purl_key(purl: PackageURL) -> tuple[str, str, str]:
    """Return a purl's type, namespace and name, case-folded, ignoring version and qualifiers."""
    return (purl.type.casefold(), (purl.namespace or "").casefold(), purl.name.casefold())


def _entry_cpe_keys(entry: AffectedProduct) -> set[tuple[str, str, str]]:
    """Return the part, vendor and product of each of an entry's CPEs."""
    return {key for cpe in entry.cpes if (key := _cpe_key(cpe)) is not None}


def _cpe_key(cpe: str) -> tuple[str, str, str] | None:
    """Return the part, vendor and product of a CPE 2.2 URI or 2.3 string."""
    if cpe.startswith("cpe:2.3:"):
        fields = cpe[len("cpe:2.3:") :].split(":")
    elif cpe.startswith("cpe:/"):
        fields = cpe[len("cpe:/") :].split(":")
    else:
        return None
    if len(fields) < 3 or "*" in fields[1:3]:
        return None
    return (fields[0].casefold(), fields[1].casefold(), fields[2].casefold())
