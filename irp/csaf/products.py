"""The product tree of a VEX document: stable product ids for streams, fixed versions and components."""

from __future__ import annotations

import hashlib
import re

from models.csaf import (
    Branch,
    BranchCategory,
    FullProductName,
    ProductIdentificationHelper,
    ProductTree,
    Relationship,
    RelationshipCategory,
)
from models.incident import Affect

# Words that make a `product_version` branch name read as a version range.
_RANGE_WORDS = re.compile(r"<|>|after|all|before|earlier|later|prior|versions", re.IGNORECASE)


def slugify(name: str) -> str:
    """Return a lower-case id fragment of letters, digits, dots, plus signs and dashes."""
    slug = re.sub(r"[^a-z0-9.+]+", "-", name.lower()).strip("-")
    return slug or "x"


class ProductCatalog:
    """Collects the products a document names and gives each a unique id derived from its names.

    The same names give the same ids in every revision of a document. Names
    whose slugs collide get a short hash of the exact names appended.
    """

    def __init__(self, vendor: str) -> None:
        self.vendor = vendor
        self._ids: dict[tuple[str, ...], str] = {}
        self._taken: set[str] = set()
        self._versions: dict[str, list[FullProductName]] = {}
        self._version_names: dict[str, str] = {}
        self._components: list[FullProductName] = []
        self._relationships: list[Relationship] = []

    def _assign(self, key: tuple[str, ...], slug: str) -> tuple[str, bool]:
        """Return the id for a key and whether it was new."""
        if key in self._ids:
            return self._ids[key], False
        product_id = slug
        if product_id in self._taken:
            digest = hashlib.sha256("\x1f".join(key).encode()).hexdigest()[:8]
            product_id = f"{slug}-{digest}"
        self._ids[key] = product_id
        self._taken.add(product_id)
        return product_id, True

    def _add_version(self, product: str, version: str, product_id: str) -> None:
        self._versions.setdefault(product, []).append(FullProductName(name=f"{product} {version}", product_id=product_id))
        self._version_names[product_id] = version

    def stream(self, product: str, stream: str) -> str:
        """Return the id of a product stream, adding it to the tree."""
        product_id, new = self._assign(("stream", product, stream), f"{slugify(product)}:{slugify(stream)}")
        if new:
            self._add_version(product, stream, product_id)
        return product_id

    def fixed_version(self, product: str, version: str) -> str:
        """Return the id of a product version that contains the fix, adding it to the tree."""
        product_id, new = self._assign(("version", product, version), f"{slugify(product)}:{slugify(version)}")
        if new:
            self._add_version(product, version, product_id)
        return product_id

    def component_in_stream(self, affect: Affect, stream_id: str) -> str | None:
        """Return the id of the affect's component as shipped in its stream, or None if it names no component."""
        if affect.component is None:
            return None
        component_name = " ".join(filter(None, [affect.component, affect.version]))
        component_key = ("component", affect.component, affect.version or "", affect.purl or "")
        component_id, new = self._assign(component_key, slugify(component_name))
        if new:
            helper = ProductIdentificationHelper(purl=affect.purl) if affect.purl else None
            self._components.append(
                FullProductName(name=component_name, product_id=component_id, product_identification_helper=helper)
            )

        relationship_id, new = self._assign(("component_of", component_id, stream_id), f"{component_id}:in:{stream_id}")
        if new:
            full_name = f"{component_name} as a component of {affect.product} {affect.stream}"
            self._relationships.append(
                Relationship(
                    category=RelationshipCategory.default_component_of,
                    full_product_name=FullProductName(name=full_name, product_id=relationship_id),
                    product_reference=component_id,
                    relates_to_product_reference=stream_id,
                )
            )
        return relationship_id

    def tree(self) -> ProductTree:
        """Return the product tree: vendor, product names and versions, components and their relationships."""
        product_branches = [
            Branch(category=BranchCategory.product_name, name=product, branches=[self._version_branch(name) for name in names])
            for product, names in self._versions.items()
        ]
        return ProductTree(
            branches=[Branch(category=BranchCategory.vendor, name=self.vendor, branches=product_branches)],
            full_product_names=self._components or None,
            relationships=self._relationships or None,
        )

    def _version_branch(self, product: FullProductName) -> Branch:
        version = self._version_names[product.product_id]
        # A stream named like a range ("all", "later") would read as a version
        # range under product_version, so it becomes a product family instead.
        category = BranchCategory.product_family if _RANGE_WORDS.search(version) else BranchCategory.product_version
        return Branch(category=category, name=version, product=product)
