"""Mandatory CSAF 2.0 tests about product and group definitions and the references to them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from packageurl import PackageURL

from irp.csaf.failure import Failure, mapping, objects, pointer, strings, text, vulnerabilities

PRODUCT_STATUS_NAMES = (
    "first_affected",
    "first_fixed",
    "fixed",
    "known_affected",
    "known_not_affected",
    "last_affected",
    "recommended",
    "under_investigation",
)

CONTRADICTING_STATUS_GROUPS = {
    "first_affected": "affected",
    "known_affected": "affected",
    "last_affected": "affected",
    "known_not_affected": "not affected",
    "first_fixed": "fixed",
    "fixed": "fixed",
    "under_investigation": "under investigation",
}

VEX_JUSTIFICATION_LABELS = frozenset(
    {
        "component_not_present",
        "inline_mitigations_already_exist",
        "vulnerable_code_cannot_be_controlled_by_adversary",
        "vulnerable_code_not_in_execute_path",
        "vulnerable_code_not_present",
    }
)

# A `product_version` branch name containing one of these operators, or one of
# these words as a whitespace-separated word in any case, is a version range.
# A word inside another word does not count, so `after-eight` names one version,
# as a valid document of the OASIS CSAF 2.0 test suite requires.
VERSION_RANGE_OPERATORS = ("<=", ">=", "<", ">")
VERSION_RANGE_WORDS = frozenset({"after", "all", "before", "earlier", "later", "prior", "versions"})

# Parts of a vulnerability item that point at products or product groups.
_REFERENCING_PARTS = ("remediations", "scores", "threats", "flags")


def branches(document: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str]]:
    """Yield every branch of the product tree at any depth, with its path."""
    tree = mapping(document.get("product_tree"))
    # An explicit stack in document order, so hostile nesting cannot exhaust the call stack.
    stack = [(branch, pointer("product_tree", "branches", index)) for index, branch in objects(tree.get("branches"))]
    stack.reverse()
    while stack:
        branch, path = stack.pop()
        yield branch, path
        children = [(child, f"{path}/branches/{index}") for index, child in objects(branch.get("branches"))]
        stack.extend(reversed(children))


def full_product_names(document: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str]]:
    """Yield every Full Product Name element, which defines a product id, with its path."""
    for branch, path in branches(document):
        if isinstance(branch.get("product"), dict):
            yield branch["product"], f"{path}/product"

    tree = mapping(document.get("product_tree"))
    for index, product in objects(tree.get("full_product_names")):
        yield product, pointer("product_tree", "full_product_names", index)
    for index, relationship in objects(tree.get("relationships")):
        if isinstance(relationship.get("full_product_name"), dict):
            yield relationship["full_product_name"], pointer("product_tree", "relationships", index, "full_product_name")


def product_id_definitions(document: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Yield every defined product id with the path of its `product_id`."""
    for product, path in full_product_names(document):
        product_id = text(product.get("product_id"))
        if product_id is not None:
            yield product_id, f"{path}/product_id"


def product_id_references(document: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Yield every reference to a product id outside a Full Product Name, with its path."""
    tree = mapping(document.get("product_tree"))
    for index, group in objects(tree.get("product_groups")):
        for position, product_id in strings(group.get("product_ids")):
            yield product_id, pointer("product_tree", "product_groups", index, "product_ids", position)
    for index, relationship in objects(tree.get("relationships")):
        for key in ("product_reference", "relates_to_product_reference"):
            if isinstance(relationship.get(key), str):
                yield relationship[key], pointer("product_tree", "relationships", index, key)

    for index, vulnerability in vulnerabilities(document):
        status = mapping(vulnerability.get("product_status"))
        for name in PRODUCT_STATUS_NAMES:
            for position, product_id in strings(status.get(name)):
                yield product_id, pointer("vulnerabilities", index, "product_status", name, position)
        for part in _REFERENCING_PARTS:
            key = "products" if part == "scores" else "product_ids"
            for item_index, item in objects(vulnerability.get(part)):
                for position, product_id in strings(item.get(key)):
                    yield product_id, pointer("vulnerabilities", index, part, item_index, key, position)


def group_id_references(document: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Yield every reference to a product group id, with its path."""
    for index, vulnerability in vulnerabilities(document):
        for part in ("remediations", "threats", "flags"):
            for item_index, item in objects(vulnerability.get(part)):
                for position, group_id in strings(item.get("group_ids")):
                    yield group_id, pointer("vulnerabilities", index, part, item_index, "group_ids", position)


def product_groups(document: dict[str, Any]) -> dict[str, set[str]]:
    """Return the product ids of every product group by group id."""
    groups: dict[str, set[str]] = defaultdict(set)
    tree = mapping(document.get("product_tree"))
    for _, group in objects(tree.get("product_groups")):
        group_id = text(group.get("group_id"))
        if group_id is not None:
            groups[group_id].update(product_id for _, product_id in strings(group.get("product_ids")))
    return groups


def covered_products(item: dict[str, Any], groups: dict[str, set[str]]) -> set[str]:
    """Return the product ids an item names directly or through its product groups."""
    covered = {product_id for _, product_id in strings(item.get("product_ids"))}
    for _, group_id in strings(item.get("group_ids")):
        covered |= groups.get(group_id, set())
    return covered


def check_missing_product_definitions(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.1: every referenced product id is defined in the product tree."""
    defined = {product_id for product_id, _ in product_id_definitions(document)}
    for product_id, path in product_id_references(document):
        if product_id not in defined:
            yield Failure("6.1.1", path, f"product id {product_id!r} is not defined in the product tree")


def check_multiple_product_definitions(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.2: no product id is defined twice."""
    seen: dict[str, str] = {}
    for product_id, path in product_id_definitions(document):
        if product_id in seen:
            yield Failure("6.1.2", path, f"product id {product_id!r} is already defined at {seen[product_id]}")
        else:
            seen[product_id] = path


def check_circular_product_definitions(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.3: a product id defined by a relationship does not refer back to itself."""
    tree = mapping(document.get("product_tree"))
    references: dict[str, list[str]] = defaultdict(list)
    defined_at: list[tuple[str, str]] = []
    for index, relationship in objects(tree.get("relationships")):
        product_id = text(mapping(relationship.get("full_product_name")).get("product_id"))
        if product_id is None:
            continue
        defined_at.append((product_id, pointer("product_tree", "relationships", index, "full_product_name", "product_id")))
        for key in ("product_reference", "relates_to_product_reference"):
            if isinstance(relationship.get(key), str):
                references[product_id].append(relationship[key])

    for product_id, path in defined_at:
        if _reaches(references, references[product_id], product_id):
            yield Failure("6.1.3", path, f"product id {product_id!r} is defined through itself")


def _reaches(references: dict[str, list[str]], start: list[str], target: str) -> bool:
    stack = list(start)
    visited: set[str] = set()
    while stack:
        product_id = stack.pop()
        if product_id == target:
            return True
        if product_id not in visited:
            visited.add(product_id)
            stack.extend(references.get(product_id, ()))
    return False


def check_missing_group_definitions(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.4: every referenced product group id is defined in the product tree."""
    defined = set(product_groups(document))
    for group_id, path in group_id_references(document):
        if group_id not in defined:
            yield Failure("6.1.4", path, f"product group id {group_id!r} is not defined in the product tree")


def check_multiple_group_definitions(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.5: no product group id is defined twice."""
    tree = mapping(document.get("product_tree"))
    seen: set[str] = set()
    for index, group in objects(tree.get("product_groups")):
        group_id = text(group.get("group_id"))
        if group_id in seen:
            yield Failure("6.1.5", pointer("product_tree", "product_groups", index, "group_id"),
                          f"product group id {group_id!r} is defined more than once")
        elif group_id is not None:
            seen.add(group_id)


def check_contradicting_product_status(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.6: within one vulnerability, a product is in at most one of affected, not affected, fixed, under investigation."""
    for index, vulnerability in vulnerabilities(document):
        status = mapping(vulnerability.get("product_status"))
        group_of: dict[str, str] = {}
        for name, group in CONTRADICTING_STATUS_GROUPS.items():
            for position, product_id in strings(status.get(name)):
                earlier = group_of.setdefault(product_id, group)
                if earlier != group:
                    yield Failure("6.1.6", pointer("vulnerabilities", index, "product_status", name, position),
                                  f"product {product_id!r} is both {earlier} and {group}")


def check_multiple_scores_per_version(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.7: within one vulnerability, a product has at most one score per CVSS version."""
    for index, vulnerability in vulnerabilities(document):
        scored: set[tuple[str, str]] = set()
        for score_index, score in objects(vulnerability.get("scores")):
            versions = [text(mapping(score.get(key)).get("version")) for key in ("cvss_v2", "cvss_v3")]
            for position, product_id in strings(score.get("products")):
                for version in filter(None, versions):
                    if (product_id, version) in scored:
                        yield Failure("6.1.7", pointer("vulnerabilities", index, "scores", score_index, "products", position),
                                      f"product {product_id!r} has more than one CVSS {version} score")
                    scored.add((product_id, version))


def check_purls(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.13: every package URL is valid."""
    for product, path in full_product_names(document):
        purl = text(mapping(product.get("product_identification_helper")).get("purl"))
        if purl is None:
            continue
        try:
            PackageURL.from_string(purl)
        except ValueError as error:
            yield Failure("6.1.13", f"{path}/product_identification_helper/purl", f"invalid package URL {purl!r}: {error}")


def check_hash_algorithms(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.25: one file's hashes use each algorithm at most once."""
    for product, path in full_product_names(document):
        helper = mapping(product.get("product_identification_helper"))
        for hash_index, file_hash in objects(helper.get("hashes")):
            seen: set[str] = set()
            for position, digest in objects(file_hash.get("file_hashes")):
                algorithm = text(digest.get("algorithm"))
                if algorithm in seen:
                    yield Failure("6.1.25", f"{path}/product_identification_helper/hashes/{hash_index}/file_hashes/{position}/algorithm",
                                  f"hash algorithm {algorithm!r} is used more than once for one file")
                elif algorithm is not None:
                    seen.add(algorithm)


def check_remediation_product_references(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.29: every remediation names products or product groups."""
    yield from _items_without_products(document, "remediations", "6.1.29", "remediation")


def check_flag_product_references(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.32: every flag names products or product groups."""
    yield from _items_without_products(document, "flags", "6.1.32", "flag")


def _items_without_products(document: dict[str, Any], part: str, test: str, noun: str) -> Iterator[Failure]:
    for index, vulnerability in vulnerabilities(document):
        for item_index, item in objects(vulnerability.get(part)):
            if "product_ids" not in item and "group_ids" not in item:
                yield Failure(test, pointer("vulnerabilities", index, part, item_index),
                              f"the {noun} names neither product_ids nor group_ids")


def check_version_ranges(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.31: a `product_version` branch names one version, not a range."""
    for branch, path in branches(document):
        name = text(branch.get("name"))
        if branch.get("category") != "product_version" or name is None:
            continue
        marker = version_range_marker(name)
        if marker is not None:
            yield Failure("6.1.31", f"{path}/name",
                          f"product_version {name!r} looks like a version range (contains {marker!r}); "
                          "use the category product_version_range")


def version_range_marker(name: str) -> str | None:
    """Return the operator or word that makes a version name a range, or None if it names one version."""
    lowered = name.lower()
    operator = next((operator for operator in VERSION_RANGE_OPERATORS if operator in lowered), None)
    if operator is not None:
        return operator
    return next((word for word in lowered.split() if word in VERSION_RANGE_WORDS), None)


def check_multiple_vex_flags(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.33: within one vulnerability, a product has at most one flag with a VEX justification code."""
    groups = product_groups(document)
    for index, vulnerability in vulnerabilities(document):
        flagged: dict[str, int] = {}
        for flag_index, flag in objects(vulnerability.get("flags")):
            if flag.get("label") not in VEX_JUSTIFICATION_LABELS:
                continue
            for product_id in sorted(covered_products(flag, groups)):
                if product_id in flagged:
                    yield Failure("6.1.33", pointer("vulnerabilities", index, "flags", flag_index),
                                  f"product {product_id!r} already has a VEX justification flag "
                                  f"(flags/{flagged[product_id]})")
                else:
                    flagged[product_id] = flag_index
