"""Building a CSAF 2.0 VEX document from an incident."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata

from cvss import CVSS3
from cvss.exceptions import CVSSError

from irp.csaf.document_checks import cwe_name
from irp.csaf.products import ProductCatalog
from irp.csaf.revision_checks import parse_version
from models.csaf import (
    CsafDocument,
    CvssV3,
    Cwe,
    Distribution,
    Document,
    Engine,
    Flag,
    FlagLabel,
    Generator,
    Note,
    NoteCategory,
    ProductStatus,
    Publisher,
    PublisherCategory,
    Remediation,
    RemediationCategory,
    Revision,
    Score,
    Threat,
    ThreatCategory,
    Tlp,
    TlpLabel,
    Tracking,
    TrackingStatus,
    Vulnerability,
    VulnerabilityId,
)
from models.incident import Affect, EngineeringDecision, IncidentStatus, Phase, Tracker, TriageOutcome
from models.records import AffectStatus

logger = logging.getLogger(__name__)

CVE_ID = re.compile(r"^CVE-[0-9]{4}-[0-9]{4,}$")

# Words in a justification that name a VEX justification code.
_LABEL_HINTS: tuple[tuple[FlagLabel, tuple[str, ...]], ...] = (
    (FlagLabel.component_not_present, ("component_not_present", "component not present", "not shipped", "not included")),
    (FlagLabel.vulnerable_code_not_in_execute_path, ("not_in_execute_path", "execute path", "not reachable", "unreachable")),
    (FlagLabel.vulnerable_code_cannot_be_controlled_by_adversary, ("cannot_be_controlled", "controlled by", "adversary")),
    (FlagLabel.inline_mitigations_already_exist, ("inline_mitigations", "inline mitigation", "mitigations already exist")),
    (FlagLabel.vulnerable_code_not_present, ("vulnerable_code_not_present", "code not present", "not present")),
)


class NothingToPublish(ValueError):
    """The incident names no product stream, so a VEX document would state nothing."""


@dataclass
class Stream:
    """One product stream with the affects and tracker the incident records for it."""

    product: str
    stream: str
    affects: list[Affect] = field(default_factory=list)
    tracker: Tracker | None = None

    @property
    def key(self) -> str:
        """Return the `product/stream` key that decisions use."""
        return f"{self.product}/{self.stream}"


@dataclass
class Statements:
    """Product statuses, flags, threats and remediations gathered stream by stream."""

    status: dict[str, list[str]] = field(default_factory=dict)
    flags: dict[FlagLabel, list[str]] = field(default_factory=dict)
    threats: list[Threat] = field(default_factory=list)
    remediations: list[Remediation] = field(default_factory=list)

    def add_status(self, name: str, product_ids: list[str]) -> None:
        """Add product ids to one product status list, keeping the first occurrence only."""
        listed = self.status.setdefault(name, [])
        listed.extend(product_id for product_id in product_ids if product_id not in listed)

    def add_remediation(self, category: RemediationCategory, details: str, product_ids: list[str]) -> None:
        """Add a remediation for the given products."""
        self.remediations.append(Remediation(category=category, details=details, product_ids=product_ids))


def build_vex(
    incident: IncidentStatus,
    *,
    publisher_name: str,
    publisher_namespace: str,
    revision_history: list[Revision] | None,
    now: datetime,
) -> dict:
    """Build the CSAF 2.0 VEX document of an incident, as a JSON-ready dict.

    `revision_history` is the complete history to publish, this revision
    included; None publishes a first version dated `now`. Raises
    NothingToPublish when the incident names no product stream.
    """
    now = _aware(now)
    streams = _streams(incident)
    if not streams:
        raise NothingToPublish(f"incident {incident.id} names no product stream to state a status for")

    catalog = ProductCatalog(publisher_name)
    statements = Statements()
    for stream in streams:
        _state_stream(incident, stream, catalog, statements)

    document = CsafDocument(
        document=_document_meta(incident, publisher_name, publisher_namespace, revision_history, now),
        product_tree=catalog.tree(),
        vulnerabilities=[_vulnerability(incident, statements)],
    )
    return document.model_dump(mode="json", exclude_none=True, by_alias=True)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _streams(incident: IncidentStatus) -> list[Stream]:
    """Return every stream an affect or a tracker names, in the order the incident first names them."""
    streams: dict[tuple[str, str], Stream] = {}
    for affect in incident.affects:
        streams.setdefault((affect.product, affect.stream), Stream(affect.product, affect.stream)).affects.append(affect)
    for tracker in incident.trackers:
        streams.setdefault((tracker.product, tracker.stream), Stream(tracker.product, tracker.stream)).tracker = tracker
    return list(streams.values())


def _stream_status(incident: IncidentStatus, stream: Stream) -> AffectStatus:
    """Return whether a stream is affected, from the triage outcome, its tracker, then its affects."""
    if incident.triage in (TriageOutcome.not_affected, TriageOutcome.false_positive):
        return AffectStatus.not_affected
    if stream.tracker is not None:
        # Trackers are filed for affected streams; only an engineering decision can clear one.
        if stream.tracker.decision == EngineeringDecision.not_affected:
            return AffectStatus.not_affected
        return AffectStatus.affected
    statuses = {affect.status for affect in stream.affects}
    for status in (AffectStatus.affected, AffectStatus.unknown):
        if status in statuses:
            return status
    return AffectStatus.not_affected


def _state_stream(incident: IncidentStatus, stream: Stream, catalog: ProductCatalog, statements: Statements) -> None:
    """Add the statements of one stream: its status, and the flag, threat or remediations that status needs."""
    status = _stream_status(incident, stream)
    stream_id = catalog.stream(stream.product, stream.stream)
    component_ids = [
        component_id
        for affect in stream.affects
        if status == AffectStatus.not_affected or affect.status == status
        if (component_id := catalog.component_in_stream(affect, stream_id)) is not None
    ]
    product_ids = [stream_id, *component_ids]

    if status == AffectStatus.not_affected:
        _state_not_affected(incident, stream, product_ids, statements)
    elif status == AffectStatus.unknown:
        statements.add_status("under_investigation", product_ids)
    else:
        statements.add_status("known_affected", product_ids)
        _state_affected(stream, product_ids, catalog, statements)

    product_impact = incident.product_impacts.get(stream.key)
    if product_impact is not None:
        details = f"{product_impact.impact.value} impact: {product_impact.justification}"
        statements.threats.append(Threat(category=ThreatCategory.impact, details=details, product_ids=product_ids))


def _state_not_affected(incident: IncidentStatus, stream: Stream, product_ids: list[str], statements: Statements) -> None:
    statements.add_status("known_not_affected", product_ids)
    reason = _not_affected_reason(incident, stream)
    label = _justification_label(reason, stream)
    if label is not None:
        statements.flags.setdefault(label, []).extend(product_ids)
    statements.threats.append(Threat(category=ThreatCategory.impact, details=reason, product_ids=product_ids))


def _not_affected_reason(incident: IncidentStatus, stream: Stream) -> str:
    if incident.triage in (TriageOutcome.not_affected, TriageOutcome.false_positive):
        return f"Triage found the report does not affect the product ({incident.triage.value})."
    if stream.tracker is not None and stream.tracker.justification:
        return stream.tracker.justification
    reasons = [affect.reason for affect in stream.affects if affect.reason]
    return " ".join(reasons) or "The product is not affected."


def _justification_label(reason: str, stream: Stream) -> FlagLabel | None:
    """Pick the VEX justification code a reason names, or `component_not_present` when the stream ships no match.

    A stream that ships the component gets no code unless the reason names one: the
    impact statement then carries the reason, and no claim is made the analyst did not make.
    """
    lowered = reason.lower()
    for label, hints in _LABEL_HINTS:
        if any(hint in lowered for hint in hints):
            return label
    if any(affect.component for affect in stream.affects):
        return None
    return FlagLabel.component_not_present


def _state_affected(stream: Stream, product_ids: list[str], catalog: ProductCatalog, statements: Statements) -> None:
    """Add the action statement of an affected stream, from its tracker's engineering decision."""
    tracker = stream.tracker
    decision = tracker.decision if tracker is not None else None

    if tracker is not None and decision == EngineeringDecision.fixed and tracker.fixed_in:
        fixed_id = catalog.fixed_version(stream.product, tracker.fixed_in)
        statements.add_status("fixed", [fixed_id])
        details = f"Fixed in {stream.product} {tracker.fixed_in}. Update to {tracker.fixed_in} or later."
        statements.add_remediation(RemediationCategory.vendor_fix, details, product_ids)
    elif decision == EngineeringDecision.fixed:
        statements.add_remediation(RemediationCategory.vendor_fix, "A fix is available from the vendor.", product_ids)
    elif tracker is not None and decision == EngineeringDecision.wont_fix:
        details = tracker.justification or "The vendor does not plan to fix this product."
        statements.add_remediation(RemediationCategory.no_fix_planned, details, product_ids)
    elif tracker is not None and decision == EngineeringDecision.defer:
        details = "The fix is deferred." + (f" {tracker.justification}" if tracker.justification else "")
        statements.add_remediation(RemediationCategory.none_available, details, product_ids)
    elif tracker is not None and decision == EngineeringDecision.fix:
        planned = f" for {tracker.target_date.isoformat()}" if tracker.target_date else ""
        statements.add_remediation(RemediationCategory.none_available, f"A fix is planned{planned} and not yet available.", product_ids)
    else:
        statements.add_remediation(RemediationCategory.none_available, "No fix is available yet; the fix decision is pending.", product_ids)


def _vulnerability(incident: IncidentStatus, statements: Statements) -> Vulnerability:
    status = statements.status
    remediations = list(statements.remediations)
    if incident.mitigation:
        exposed = [*status.get("known_affected", []), *status.get("under_investigation", [])]
        if exposed:
            remediations.append(Remediation(category=RemediationCategory.workaround, details=incident.mitigation, product_ids=exposed))

    threats = list(statements.threats)
    if incident.impact is not None:
        threats.insert(0, Threat(category=ThreatCategory.impact, details=incident.impact.value))

    is_cve = CVE_ID.match(incident.id) is not None
    return Vulnerability(
        cve=incident.id if is_cve else None,
        ids=None if is_cve else [VulnerabilityId(system_name="irp", text=incident.id)],
        title=incident.title,
        cwe=_cwe(incident.cwe),
        notes=_notes(incident),
        product_status=ProductStatus(**status),
        flags=[Flag(label=label, product_ids=ids) for label, ids in statements.flags.items()] or None,
        threats=threats or None,
        remediations=remediations or None,
        scores=_scores(incident, status.get("known_affected", [])),
    )


def _cwe(cwe_id: str | None) -> Cwe | None:
    if not cwe_id:
        return None
    name = cwe_name(cwe_id.strip().upper())
    if name is None:
        logger.warning("CWE %s is not in the CWE catalogue; the VEX document leaves it out", cwe_id)
        return None
    return Cwe(id=cwe_id.strip().upper(), name=name)


def _notes(incident: IncidentStatus) -> list[Note]:
    description = incident.description or incident.title or f"Vulnerability {incident.id}."
    notes = [Note(category=NoteCategory.description, text=description, title="Vulnerability description")]
    if incident.statement:
        notes.append(Note(category=NoteCategory.general, text=incident.statement, title="Statement"))
    return notes


def _scores(incident: IncidentStatus, affected_ids: list[str]) -> list[Score] | None:
    """Return the incident's CVSS v3 score for the affected products; CSAF 2.0 cannot carry CVSS v4."""
    if incident.cvss is None or not affected_ids:
        return None
    # NOTE: a CVSS v4.0 assessment is left out, because CSAF 2.0 scores hold CVSS v2 and v3 only.
    try:
        parsed = CVSS3(incident.cvss.vector)
    except (CVSSError, ValueError, KeyError):
        logger.info("incident %s: CVSS vector %s is not CVSS v3; no score is published", incident.id, incident.cvss.vector)
        return None
    cvss = CvssV3(
        version=incident.cvss.vector.split("/", 1)[0].removeprefix("CVSS:"),
        vector_string=incident.cvss.vector,
        base_score=parsed.scores()[0],
        base_severity=parsed.severities()[0].upper(),
    )
    return [Score(products=affected_ids, cvss_v3=cvss)]


def _document_meta(
    incident: IncidentStatus,
    publisher_name: str,
    publisher_namespace: str,
    revision_history: list[Revision] | None,
    now: datetime,
) -> Document:
    history = revision_history or [Revision(date=now, number="1", summary="Initial version.")]
    ordered = sorted(history, key=_revision_order)
    title = f"{incident.id}: {incident.title}" if incident.title else incident.id
    tracking = Tracking(
        id=incident.id,
        status=TrackingStatus.final if _settled(incident) else TrackingStatus.interim,
        version=ordered[-1].number,
        initial_release_date=ordered[0].date,
        current_release_date=max(now, ordered[-1].date),
        revision_history=history,
        generator=Generator(engine=Engine(name="irp", version=_irp_version()), date=now),
    )
    return Document(
        publisher=Publisher(category=PublisherCategory.vendor, name=publisher_name, namespace=publisher_namespace),
        title=title,
        tracking=tracking,
        distribution=Distribution(tlp=Tlp(label=TlpLabel.red if incident.embargo.embargoed else TlpLabel.white)),
        lang="en",
    )


def _revision_order(revision: Revision) -> tuple:
    version = parse_version(revision.number)
    return (revision.date, version.precedence if version else ())


def _irp_version() -> str | None:
    try:
        return metadata.version("irp")
    except metadata.PackageNotFoundError:
        return None


def _settled(incident: IncidentStatus) -> bool:
    """Tell whether the facts are final: the incident closed, or every tracker resolved, or a dismissal."""
    if incident.phase == Phase.closed:
        return True
    if incident.triage in (TriageOutcome.not_affected, TriageOutcome.false_positive):
        return True
    return bool(incident.trackers) and all(tracker.resolved for tracker in incident.trackers)
