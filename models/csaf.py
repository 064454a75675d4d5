"""A CSAF 2.0 document in the VEX profile, as irp publishes it.

The models cover the part of the OASIS CSAF 2.0 schema that a VEX document
needs. Serialise with `model_dump(mode="json", exclude_none=True, by_alias=True)`:
every optional field defaults to None so it is left out, and the CVSS fields
carry the camelCase names of the FIRST CVSS schemas as aliases.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

CSAF_VERSION = "2.0"


class CsafModel(BaseModel):
    """Base of every CSAF model: unknown fields are rejected, aliases and names both accepted."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class DocumentCategory(StrEnum):
    """The profile a document declares in `/document/category`."""

    base = "csaf_base"
    security_incident_response = "csaf_security_incident_response"
    informational_advisory = "csaf_informational_advisory"
    security_advisory = "csaf_security_advisory"
    vex = "csaf_vex"


class PublisherCategory(StrEnum):
    """The kind of party that publishes the document."""

    coordinator = "coordinator"
    discoverer = "discoverer"
    other = "other"
    translator = "translator"
    user = "user"
    vendor = "vendor"


class NoteCategory(StrEnum):
    """The kind of text a note holds."""

    description = "description"
    details = "details"
    faq = "faq"
    general = "general"
    legal_disclaimer = "legal_disclaimer"
    other = "other"
    summary = "summary"


class TrackingStatus(StrEnum):
    """The publication state of the document."""

    draft = "draft"
    final = "final"
    interim = "interim"


class TlpLabel(StrEnum):
    """Traffic Light Protocol labels that CSAF 2.0 allows."""

    amber = "AMBER"
    green = "GREEN"
    red = "RED"
    white = "WHITE"


class BranchCategory(StrEnum):
    """The level a branch stands for in the product tree."""

    architecture = "architecture"
    host_name = "host_name"
    language = "language"
    legacy = "legacy"
    patch_level = "patch_level"
    product_family = "product_family"
    product_name = "product_name"
    product_version = "product_version"
    product_version_range = "product_version_range"
    service_pack = "service_pack"
    specification = "specification"
    vendor = "vendor"


class RelationshipCategory(StrEnum):
    """The relation between a product and another one."""

    default_component_of = "default_component_of"
    external_component_of = "external_component_of"
    installed_on = "installed_on"
    installed_with = "installed_with"
    optional_component_of = "optional_component_of"


class FlagLabel(StrEnum):
    """VEX justification codes for a product that is not affected."""

    component_not_present = "component_not_present"
    inline_mitigations_already_exist = "inline_mitigations_already_exist"
    vulnerable_code_cannot_be_controlled_by_adversary = "vulnerable_code_cannot_be_controlled_by_adversary"
    vulnerable_code_not_in_execute_path = "vulnerable_code_not_in_execute_path"
    vulnerable_code_not_present = "vulnerable_code_not_present"


class RemediationCategory(StrEnum):
    """The kind of action a remediation offers."""

    mitigation = "mitigation"
    no_fix_planned = "no_fix_planned"
    none_available = "none_available"
    vendor_fix = "vendor_fix"
    workaround = "workaround"


class ThreatCategory(StrEnum):
    """The kind of information a threat carries."""

    exploit_status = "exploit_status"
    impact = "impact"
    target_set = "target_set"


class Note(CsafModel):
    """A text attached to the document or to a vulnerability."""

    category: NoteCategory
    text: str = Field(min_length=1)
    title: str | None = None
    audience: str | None = None


class Publisher(CsafModel):
    """The party that issues the document."""

    category: PublisherCategory
    name: str = Field(min_length=1)
    namespace: str
    """A URL that identifies the publisher, such as its PSIRT web site."""
    contact_details: str | None = None
    issuing_authority: str | None = None


class Tlp(CsafModel):
    """The TLP label of the document."""

    label: TlpLabel
    url: str | None = None


class Distribution(CsafModel):
    """Rules for sharing the document."""

    tlp: Tlp | None = None
    text: str | None = None


class Engine(CsafModel):
    """The program that generated the document."""

    name: str = Field(min_length=1)
    version: str | None = None


class Generator(CsafModel):
    """When and by which program the document was generated."""

    engine: Engine
    date: AwareDatetime | None = None


class Revision(CsafModel):
    """One entry of the revision history."""

    date: AwareDatetime
    number: str
    """Integer (`1`, `2`) or semantic (`1.0.0`) version, never both in one document."""
    summary: str = Field(min_length=1)
    legacy_version: str | None = None


class Tracking(CsafModel):
    """Identity, status and history of the document."""

    id: str = Field(min_length=1)
    status: TrackingStatus
    version: str
    initial_release_date: AwareDatetime
    current_release_date: AwareDatetime
    revision_history: list[Revision] = Field(min_length=1)
    generator: Generator | None = None
    aliases: list[str] | None = None


class Document(CsafModel):
    """Document-level metadata."""

    category: str = DocumentCategory.vex.value
    csaf_version: str = CSAF_VERSION
    publisher: Publisher
    title: str = Field(min_length=1)
    tracking: Tracking
    distribution: Distribution | None = None
    lang: str | None = None
    notes: list[Note] | None = None


class ProductIdentificationHelper(CsafModel):
    """Identifiers that let a consumer match a product against its assets."""

    purl: str | None = None
    cpe: str | None = None


class FullProductName(CsafModel):
    """A product definition that assigns its product id."""

    name: str = Field(min_length=1)
    product_id: str = Field(min_length=1)
    product_identification_helper: ProductIdentificationHelper | None = None


class Branch(CsafModel):
    """A level of the product tree: either more branches or one product."""

    category: BranchCategory
    name: str = Field(min_length=1)
    branches: list[Branch] | None = None
    product: FullProductName | None = None


class Relationship(CsafModel):
    """A product made from two others, such as a component shipped in a product stream."""

    category: RelationshipCategory
    full_product_name: FullProductName
    product_reference: str
    relates_to_product_reference: str


class ProductGroup(CsafModel):
    """A named set of product ids."""

    group_id: str
    product_ids: list[str] = Field(min_length=2)
    summary: str | None = None


class ProductTree(CsafModel):
    """Every product the document speaks about."""

    branches: list[Branch] | None = None
    full_product_names: list[FullProductName] | None = None
    relationships: list[Relationship] | None = None
    product_groups: list[ProductGroup] | None = None


class Cwe(CsafModel):
    """A CWE weakness with its official name."""

    id: str
    name: str = Field(min_length=1)


class VulnerabilityId(CsafModel):
    """A tracking id of the vulnerability in a system other than CVE."""

    system_name: str = Field(min_length=1)
    text: str = Field(min_length=1)


class ProductStatus(CsafModel):
    """Product ids grouped by their status towards the vulnerability."""

    first_affected: list[str] | None = None
    first_fixed: list[str] | None = None
    fixed: list[str] | None = None
    known_affected: list[str] | None = None
    known_not_affected: list[str] | None = None
    last_affected: list[str] | None = None
    recommended: list[str] | None = None
    under_investigation: list[str] | None = None


class Flag(CsafModel):
    """A machine-readable VEX justification for some products."""

    label: FlagLabel
    product_ids: list[str] | None = None
    group_ids: list[str] | None = None
    date: AwareDatetime | None = None


class Threat(CsafModel):
    """Impact, exploit status or target set of the vulnerability for some products."""

    category: ThreatCategory
    details: str = Field(min_length=1)
    product_ids: list[str] | None = None
    group_ids: list[str] | None = None
    date: AwareDatetime | None = None


class Remediation(CsafModel):
    """An action statement for some products: fix, workaround or why there is none."""

    category: RemediationCategory
    details: str = Field(min_length=1)
    product_ids: list[str] | None = None
    group_ids: list[str] | None = None
    date: AwareDatetime | None = None
    url: str | None = None


class CvssV3(CsafModel):
    """A CVSS v3.0 or v3.1 base score in the FIRST JSON schema's field names."""

    version: str
    vector_string: str = Field(alias="vectorString")
    base_score: float = Field(alias="baseScore")
    base_severity: str = Field(alias="baseSeverity")


class Score(CsafModel):
    """A CVSS score and the products it applies to."""

    products: list[str] = Field(min_length=1)
    cvss_v3: CvssV3


class Vulnerability(CsafModel):
    """One vulnerability and the status of every product towards it."""

    cve: str | None = None
    ids: list[VulnerabilityId] | None = None
    title: str | None = None
    cwe: Cwe | None = None
    notes: list[Note] | None = None
    product_status: ProductStatus | None = None
    flags: list[Flag] | None = None
    threats: list[Threat] | None = None
    remediations: list[Remediation] | None = None
    scores: list[Score] | None = None


class CsafDocument(CsafModel):
    """A whole CSAF document."""

    document: Document
    product_tree: ProductTree | None = None
    vulnerabilities: list[Vulnerability] | None = None
