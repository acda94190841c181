"""Test helper: what a JSON Schema allows at a key path, through $ref, allOf, oneOf and anyOf.

The app tests check that every sidecar or latency key the Kotlin and Swift sources read or
write is one the shipped schema defines; both walk the schema the same way, here.
"""
from __future__ import annotations

from typing import Any


def subschemas(node: dict[str, Any], root: dict[str, Any]) -> list[dict[str, Any]]:
    """``node`` (its $ref followed) and every subschema it stands for through allOf, oneOf and anyOf."""
    while "$ref" in node:
        node = root["$defs"][node["$ref"].rsplit("/", 1)[1]]
    found = [node]
    for key in ("allOf", "oneOf", "anyOf"):
        for sub in node.get(key, []):
            found += subschemas(sub, root)
    return found


def properties(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """Every property an object node allows, first definition wins."""
    found: dict[str, Any] = {}
    for sub in subschemas(node, root):
        for key, value in sub.get("properties", {}).items():
            found.setdefault(key, value)
    return found


def allowed_values(node: dict[str, Any], root: dict[str, Any]) -> list[Any] | None:
    """The literal values a node allows (const / enum, in any of its subschemas); None when any value goes."""
    values = [v for sub in subschemas(node, root) for v in ([sub["const"]] if "const" in sub else sub.get("enum", []))]
    return values or None


def has_path(root: dict[str, Any], path: str) -> bool:
    """Whether the dotted key ``path`` (``input.quantization.scale``) is one the schema defines."""
    node: dict[str, Any] | None = root
    for key in path.split("."):
        node = properties(node, root).get(key) if node is not None else None
        if node is None:
            return False
    return True
