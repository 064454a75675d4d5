"""Load product inventories from CycloneDX and SPDX SBOMs and YAML manifests, and list them.

A YAML manifest describes one product stream by hand:

    product: Acme Gateway
    stream: "2.x"
    owner: gateway-team@acme.example      # optional
    compliance_priority: true             # optional, default false
    components:
      - name: openssl
        version: 3.0.13                   # optional; always read as text
        purl: pkg:generic/openssl@3.0.13  # optional
        cpe: cpe:2.3:a:openssl:openssl:3.0.13:*:*:*:*:*:*:*  # optional

`product` and `stream` may be left out of the file when the caller names them.

A CycloneDX SBOM may name its stream with `metadata.properties` entries `irp:product`,
`irp:stream` and `irp:owner`; otherwise the caller must give product and stream.

An SPDX 2.x JSON document gives one component per package: its `name`, `versionInfo`, first
`purl` and first `cpe23Type` or `cpe22Type` external reference. The caller names its stream.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from packageurl import PackageURL
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from irp.db import session_scope
from models.inventory import Component, ComponentPublic, Product, Stream, StreamInventory

MAX_INVENTORY_BYTES = 50 * 1024 * 1024

# Components of type `file` name single files rather than packages, so matching cannot use them.
SKIPPED_COMPONENT_TYPES = frozenset({"file"})


STREAM_PROPERTIES = frozenset({"irp:product", "irp:stream", "irp:owner"})


class InvalidInventory(ValueError):
    """An inventory file that cannot be loaded; the message names the file and the problem."""


class MissingStreamName(InvalidInventory):
    """An inventory file that names no product and stream, loaded without them."""


@dataclass
class ParsedInventory:
    """The stream and components read from one inventory file."""

    format: str
    product: str | None = None
    stream: str | None = None
    owner: str | None = None
    compliance_priority: bool | None = None
    components: list[ComponentPublic] = field(default_factory=list)


def load_sbom(
    url: str,
    path: str | Path,
    product: str | None = None,
    stream: str | None = None,
    owner: str | None = None,
    compliance_priority: bool | None = None,
) -> int:
    """Replace a stream's components with those of a CycloneDX or SPDX JSON SBOM or YAML manifest.

    Returns the number of components stored; `load_inventory` describes the arguments.
    """
    inventory = load_inventory(url, path, product, stream, owner, compliance_priority)
    return len(inventory.components)


def load_inventory(
    url: str,
    path: str | Path,
    product: str | None = None,
    stream: str | None = None,
    owner: str | None = None,
    compliance_priority: bool | None = None,
) -> StreamInventory:
    """Replace a stream's components with those of an inventory file and return the stream.

    Arguments given here win over the values a manifest names. An owner or compliance
    priority that neither gives keeps its stored value. Raises InvalidInventory for bad
    input, before anything in the database changes.
    """
    path = Path(path)
    parsed = read_inventory(path)

    product = clean_name(product) or parsed.product
    stream = clean_name(stream) or parsed.stream
    if not product or not stream:
        raise MissingStreamName(
            f"{path}: the {parsed.format} names no product and stream, so both must be given"
        )

    if compliance_priority is None:
        compliance_priority = parsed.compliance_priority
    inventory = StreamInventory(
        product=product,
        stream=stream,
        owner=owner if owner is not None else parsed.owner,
        compliance_priority=bool(compliance_priority),
        components=parsed.components,
    )
    return store_with_retry(url, inventory, keep_compliance_priority=compliance_priority is None)


def list_streams(url: str) -> list[StreamInventory]:
    """List every stream with its components, ordered by product and stream name."""
    with session_scope(url) as session:
        streams = session.exec(
            select(Stream, Product)
            .join(Product, Product.id == Stream.product_id)
            .order_by(Product.name, Stream.name)
        ).all()
        components = session.exec(
            select(Component).order_by(Component.name, Component.version, Component.id)
        ).all()

    by_stream: dict[int, list[ComponentPublic]] = {}
    for component in components:
        public = ComponentPublic.model_validate(component, from_attributes=True)
        by_stream.setdefault(component.stream_id, []).append(public)

    return [
        StreamInventory(
            product=product.name,
            stream=stream.name,
            owner=stream.owner,
            compliance_priority=stream.compliance_priority,
            components=by_stream.get(stream.id, []),
        )
        for stream, product in streams
    ]


def read_inventory(path: Path) -> ParsedInventory:
    """Read and validate an inventory file, detecting its format from the content."""
    text = read_text(path)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as json_error:
        return parse_manifest(path, load_yaml(path, text, json_error))
    except ValueError as error:
        # Valid JSON syntax that Python will not convert, such as an integer of 5,000 digits.
        raise InvalidInventory(f"{path}: invalid JSON: {error}") from None
    except RecursionError:
        raise InvalidInventory(f"{path}: the JSON is nested too deeply") from None

    if isinstance(document, dict) and "spdxVersion" in document:
        return parse_spdx(path, document)
    return parse_cyclonedx(path, document)


def read_text(path: Path) -> str:
    """Read a file as UTF-8 text of at most MAX_INVENTORY_BYTES."""
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_INVENTORY_BYTES + 1)
    except OSError as error:
        raise InvalidInventory(f"{path}: cannot be read: {error.strerror or error}") from None

    if len(data) > MAX_INVENTORY_BYTES:
        limit_mb = MAX_INVENTORY_BYTES // (1024 * 1024)
        raise InvalidInventory(f"{path}: the file is larger than {limit_mb} MB")
    if not data.strip():
        raise InvalidInventory(f"{path}: the file is empty")

    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInventory(
            f"{path}: not UTF-8 text (invalid byte at offset {error.start}). "
            "Expected a CycloneDX JSON SBOM or a YAML manifest."
        ) from None


# ---------------------------------------------------------------- CycloneDX


def parse_cyclonedx(path: Path, document: Any) -> ParsedInventory:
    """Read the components of a CycloneDX JSON document, nested ones included."""
    check_cyclonedx(path, document)

    components: list[ComponentPublic] = []
    seen: set[tuple[str | None, ...]] = set()
    for location, entry in walk_components(path, document):
        if entry.get("type") in SKIPPED_COMPONENT_TYPES:
            continue

        component = cyclonedx_component(path, location, entry)
        key = (component.name, component.version, component.purl, component.cpe)
        if key not in seen:
            seen.add(key)
            components.append(component)

    properties = stream_properties(path, document)
    return ParsedInventory(
        format="CycloneDX SBOM",
        product=properties.get("irp:product"),
        stream=properties.get("irp:stream"),
        owner=properties.get("irp:owner"),
        components=components,
    )


def check_cyclonedx(path: Path, document: Any) -> None:
    """Raise InvalidInventory unless the JSON document is a CycloneDX BOM."""
    if isinstance(document, dict) and document.get("bomFormat") == "CycloneDX":
        return
    raise InvalidInventory(f'{path}: JSON but not a CycloneDX SBOM (no "bomFormat": "CycloneDX")')


def stream_properties(path: Path, document: dict[str, Any]) -> dict[str, str]:
    """Return the `irp:` properties of the SBOM's metadata, which name its product stream."""
    metadata = document.get("metadata")
    if not isinstance(metadata, dict) or metadata.get("properties") is None:
        return {}

    entries = metadata["properties"]
    if not isinstance(entries, list):
        raise InvalidInventory(f"{path}: metadata.properties must be an array")

    properties = {}
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or entry.get("name") not in STREAM_PROPERTIES:
            continue
        value = optional_text(path, f"metadata.properties[{index}].value", entry.get("value"))
        if value:
            properties[entry["name"]] = value
    return properties


def walk_components(path: Path, document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield each component with its JSON location, depth first, without recursion."""
    pending: list[tuple[str, Any]] = []

    metadata = document.get("metadata")
    if isinstance(metadata, dict) and metadata.get("component") is not None:
        pending.append(("metadata.component", metadata["component"]))
    pending.extend(reversed(child_components(path, "components", document.get("components"))))

    while pending:
        location, entry = pending.pop()
        if not isinstance(entry, dict):
            raise InvalidInventory(f"{path}: {location} must be an object")
        yield location, entry

        children = child_components(path, f"{location}.components", entry.get("components"))
        pending.extend(reversed(children))


def child_components(path: Path, location: str, value: Any) -> list[tuple[str, Any]]:
    """Return the entries of a `components` array with their locations."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidInventory(f"{path}: {location} must be an array")
    return [(f"{location}[{index}]", entry) for index, entry in enumerate(value)]


def cyclonedx_component(path: Path, location: str, entry: dict[str, Any]) -> ComponentPublic:
    """Convert one CycloneDX component object, normalising its purl."""
    name = optional_text(path, f"{location}.name", entry.get("name"))
    if not name:
        raise InvalidInventory(f"{path}: {location} is missing a name")

    # NOTE: the CycloneDX `group` (Maven groupId, npm scope) is not stored, so it survives
    # only inside the purl, and a component without a purl loses it.
    purl = optional_text(path, f"{location}.purl", entry.get("purl"))
    cpe = optional_text(path, f"{location}.cpe", entry.get("cpe")) or evidence_cpe(entry)
    return ComponentPublic(
        name=name,
        version=optional_text(path, f"{location}.version", entry.get("version")),
        purl=normalise_purl(path, f"{location}.purl", purl),
        cpe=cpe,
    )


def evidence_cpe(entry: dict[str, Any]) -> str | None:
    """Return the first CPE in a component's identity evidence, as Red Hat SBOMs give it."""
    evidence = entry.get("evidence")
    if not isinstance(evidence, dict):
        return None

    # `identity` is one object in some CycloneDX versions and an array in others.
    identity = evidence.get("identity")
    candidates = identity if isinstance(identity, list) else [identity]
    for candidate in candidates:
        if not isinstance(candidate, dict) or candidate.get("field") != "cpe":
            continue
        value = candidate.get("concludedValue")
        if isinstance(value, str) and value.strip() and "\x00" not in value:
            return value.strip()
    return None


# ---------------------------------------------------------------- SPDX

SPDX_CPE_TYPES = frozenset({"cpe23Type", "cpe22Type"})
NO_ASSERTION = frozenset({"NOASSERTION", "NONE"})


def parse_spdx(path: Path, document: dict[str, Any]) -> ParsedInventory:
    """Read the packages of an SPDX 2.x JSON document as components."""
    version = document.get("spdxVersion")
    if not isinstance(version, str) or not version.startswith("SPDX-2."):
        raise InvalidInventory(f"{path}: spdxVersion {version!r} is not supported, expected SPDX-2.2 or SPDX-2.3")

    packages = document.get("packages")
    if packages is None:
        packages = []
    if not isinstance(packages, list):
        raise InvalidInventory(f"{path}: packages must be an array")

    components: list[ComponentPublic] = []
    seen: set[tuple[str | None, ...]] = set()
    for index, entry in enumerate(packages):
        component = spdx_component(path, f"packages[{index}]", entry)
        key = (component.name, component.version, component.purl, component.cpe)
        if key not in seen:
            seen.add(key)
            components.append(component)
    return ParsedInventory(format="SPDX SBOM", components=components)


def spdx_component(path: Path, location: str, entry: Any) -> ComponentPublic:
    """Convert one SPDX package, taking its purl and CPE from the external references."""
    if not isinstance(entry, dict):
        raise InvalidInventory(f"{path}: {location} must be an object")
    name = optional_text(path, f"{location}.name", entry.get("name"))
    if not name:
        raise InvalidInventory(f"{path}: {location} is missing a name")
    version = optional_text(path, f"{location}.versionInfo", entry.get("versionInfo"))

    references = spdx_references(path, location, entry.get("externalRefs"))
    # NOTE: a component keeps one purl, so a package listing several (an image in two
    # registries, say) is matched by its first one only.
    purl = next((locator for kind, locator in references if kind == "purl"), None)
    cpe = next((locator for kind, locator in references if kind in SPDX_CPE_TYPES), None)
    return ComponentPublic(
        name=name,
        version=None if version in NO_ASSERTION else version,
        purl=normalise_purl(path, f"{location}.externalRefs purl", purl),
        cpe=cpe,
    )


def spdx_references(path: Path, location: str, value: Any) -> list[tuple[str, str]]:
    """Return a package's external references as (referenceType, referenceLocator) pairs."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidInventory(f"{path}: {location}.externalRefs must be an array")

    references = []
    for index, reference in enumerate(value):
        reference_location = f"{location}.externalRefs[{index}]"
        if not isinstance(reference, dict):
            raise InvalidInventory(f"{path}: {reference_location} must be an object")
        kind = optional_text(path, f"{reference_location}.referenceType", reference.get("referenceType"))
        locator = optional_text(path, f"{reference_location}.referenceLocator", reference.get("referenceLocator"))
        if kind and locator:
            references.append((kind, locator))
    return references


# ---------------------------------------------------------------- YAML manifest


class ManifestLoader(yaml.SafeLoader):
    """A safe YAML loader that reads numbers and dates as text, so `1.10` stays `1.10`."""


TEXT_TAGS = {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp"}
ManifestLoader.yaml_implicit_resolvers = {
    first_character: [(tag, pattern) for tag, pattern in resolvers if tag not in TEXT_TAGS]
    for first_character, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def strip_manifest_text(value: str | None) -> str | None:
    """Strip a manifest string, treat blank as absent, and reject NUL characters."""
    if value is None:
        return None
    if "\x00" in value:
        # PostgreSQL text columns cannot store NUL.
        raise ValueError("contains a NUL character")
    return value.strip() or None


class ManifestComponent(BaseModel):
    """A component entry of a YAML manifest."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str
    version: str | None = None
    purl: str | None = None
    cpe: str | None = None

    @field_validator("name", "version", "purl", "cpe")
    @classmethod
    def check_text(cls, value: str | None) -> str | None:
        """Strip the text and reject NUL characters."""
        return strip_manifest_text(value)


class Manifest(BaseModel):
    """A hand-written inventory of one product stream."""

    model_config = ConfigDict(extra="forbid", strict=True)

    product: str | None = None
    stream: str | None = None
    owner: str | None = None
    compliance_priority: bool | None = None
    components: list[ManifestComponent]

    @field_validator("product", "stream", "owner")
    @classmethod
    def check_text(cls, value: str | None) -> str | None:
        """Strip the text and reject NUL characters."""
        return strip_manifest_text(value)


def load_yaml(path: Path, text: str, json_error: json.JSONDecodeError) -> Any:
    """Parse text that is not JSON as YAML; report the JSON error if it looked like JSON."""
    try:
        return yaml.load(text, Loader=ManifestLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as yaml_error:
        if text.lstrip().startswith(("{", "[")):
            raise InvalidInventory(
                f"{path}: invalid JSON at line {json_error.lineno} column {json_error.colno}: "
                f"{json_error.msg}"
            ) from None
        mark = getattr(yaml_error, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(yaml_error, "problem", None) or str(yaml_error)
        raise InvalidInventory(
            f"{path}: neither JSON nor valid YAML{where}: {problem}"
        ) from None
    except RecursionError:
        raise InvalidInventory(f"{path}: the YAML is nested too deeply") from None


def parse_manifest(path: Path, document: Any) -> ParsedInventory:
    """Validate a YAML manifest and read its stream and components."""
    if not isinstance(document, dict) or "components" not in document:
        raise InvalidInventory(
            f"{path}: not an inventory. Expected a CycloneDX JSON SBOM or a YAML manifest "
            "with a components list."
        )

    try:
        manifest = Manifest.model_validate(document)
    except ValidationError as error:
        raise InvalidInventory(f"{path}: invalid manifest: {describe_errors(error)}") from None

    components: list[ComponentPublic] = []
    for index, entry in enumerate(manifest.components):
        location = f"components[{index}]"
        if not entry.name:
            raise InvalidInventory(f"{path}: {location} is missing a name")
        components.append(
            ComponentPublic(
                name=entry.name,
                version=entry.version,
                purl=normalise_purl(path, f"{location}.purl", entry.purl),
                cpe=entry.cpe,
            )
        )

    return ParsedInventory(
        format="YAML manifest",
        product=manifest.product,
        stream=manifest.stream,
        owner=manifest.owner,
        compliance_priority=manifest.compliance_priority,
        components=components,
    )


def describe_errors(error: ValidationError) -> str:
    """Summarise pydantic validation errors as `location: message` pairs."""
    problems = []
    for detail in error.errors()[:5]:
        location = "".join(
            f"[{part}]" if isinstance(part, int) else f".{part}" for part in detail["loc"]
        ).lstrip(".")
        problems.append(f"{location or 'document'}: {detail['msg']}")

    more = len(error.errors()) - len(problems)
    if more > 0:
        problems.append(f"and {more} more")
    return "; ".join(problems)


# ---------------------------------------------------------------- shared checks


def optional_text(path: Path, location: str, value: Any) -> str | None:
    """Return a stripped string field, None when absent, or raise for any other type."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInventory(f"{path}: {location} must be a string, not {type(value).__name__}")
    if "\x00" in value:
        raise InvalidInventory(f"{path}: {location} contains a NUL character")
    return value.strip() or None


def normalise_purl(path: Path, location: str, purl: str | None) -> str | None:
    """Return the canonical form of a package URL, percent-encoding included."""
    if purl is None:
        return None
    try:
        return PackageURL.from_string(purl).to_string()
    except ValueError as error:
        raise InvalidInventory(f"{path}: {location} {purl!r} is not a valid purl: {error}") from None


def clean_name(name: str | None) -> str | None:
    """Strip a product or stream name given by the caller, treating blank as absent."""
    if name is None:
        return None
    return name.strip() or None


# ---------------------------------------------------------------- storage


def store_with_retry(
    url: str, inventory: StreamInventory, keep_compliance_priority: bool
) -> StreamInventory:
    """Store a stream, running the transaction once more if a concurrent load created a row."""
    try:
        return store_stream(url, inventory, keep_compliance_priority)
    except IntegrityError:
        # The other load created the product or stream first, so now both exist.
        return store_stream(url, inventory, keep_compliance_priority)


def store_stream(
    url: str, inventory: StreamInventory, keep_compliance_priority: bool
) -> StreamInventory:
    """Replace a stream's components and settings in one transaction and return the stream."""
    with session_scope(url) as session:
        product = get_or_add_product(session, inventory.product)
        stream = get_or_add_stream(session, product, inventory.stream)

        if inventory.owner is not None:
            stream.owner = inventory.owner
        if not keep_compliance_priority:
            stream.compliance_priority = inventory.compliance_priority
        session.add(stream)

        session.execute(delete(Component).where(Component.stream_id == stream.id))
        session.add_all(
            Component(stream_id=stream.id, **component.model_dump())
            for component in inventory.components
        )

        return inventory.model_copy(
            update={"owner": stream.owner, "compliance_priority": stream.compliance_priority}
        )


def get_or_add_product(session: Session, name: str) -> Product:
    """Return the product with this name, adding it when missing."""
    product = session.exec(select(Product).where(Product.name == name)).first()
    if product is None:
        product = Product(name=name)
        session.add(product)
        session.flush()
    return product


def get_or_add_stream(session: Session, product: Product, name: str) -> Stream:
    """Return the product's stream with this name, adding it when missing."""
    stream = session.exec(
        select(Stream).where(Stream.product_id == product.id, Stream.name == name)
    ).first()
    if stream is None:
        stream = Stream(product_id=product.id, name=name)
        session.add(stream)
        session.flush()
    return stream
