"""The iOS harness (benchmarks/ios, a Swift package) checked on Linux, where it cannot be built.

Every Swift file parses, and every JSON key the Swift code can write is one the latency schema
defines: the keys are the raw values of the enums in ResultKeys.swift (JSONObject takes no other
key), each enum is checked against the part of the schema it fills, and no other source file
writes a string-literal key of its own.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.results import SCHEMA
from syntax import parse, syntax_errors

PACKAGE = Path(__file__).resolve().parent.parent / "benchmarks" / "ios"
KEYS = PACKAGE / "Sources" / "CoreMLBench" / "ResultKeys.swift"
SWIFT = sorted(PACKAGE.rglob("*.swift"))


def schema() -> dict:
    return json.loads(SCHEMA.read_text())


def allowed() -> dict[str, tuple[set[str], set[str]]]:
    """Enum name in ResultKeys.swift -> (what the schema allows there, what it requires there)."""
    s = schema()
    result, stats = s["$defs"]["result"], s["$defs"]["stats"]
    delegation = result["properties"]["delegation"]
    return {
        "DocumentKey": (set(s["properties"]), set(s["required"])),
        "DeviceKey": (set(s["properties"]["device"]["properties"]), set(s["properties"]["device"]["required"])),
        "ResultKey": (set(result["properties"]), set(result["required"])),
        "StatsKey": (set(stats["properties"]), set(stats["required"])),
        "DelegationKey": (set(delegation["properties"]), set(delegation["required"])),
        "ComputeUnitName": (set(result["properties"]["backend"]["enum"]), set()),
        "DelegationStatus": (set(delegation["properties"]["status"]["enum"]), set()),
        "Harness": (set(s["properties"]["harness"]["enum"]), set()),
        "CoreMLName": (set(result["properties"]["format"]["enum"]) & set(result["properties"]["runtime"]["enum"]),
                       set()),
        "ToolName": (None, set()),  # names under `tools`: any string is allowed there
    }


def nodes(path: Path):
    """Every node of ``path``'s Swift syntax tree, in source order."""
    stack = [parse(path, "swift").root_node]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children))


def swift_enums(path: Path) -> dict[str, list[str]]:
    """enum name -> raw values of its cases (the case name when no raw value is written)."""
    enums: dict[str, list[str]] = {}
    for node in nodes(path):
        if node.type != "class_declaration" or not any(c.type == "enum" for c in node.children):
            continue
        name = next(c.text.decode() for c in node.children if c.type == "type_identifier")
        body = next(c for c in node.children if c.type == "enum_class_body")
        values = enums.setdefault(name, [])
        for entry in (c for c in body.children if c.type == "enum_entry"):
            parts = entry.children
            for i, part in enumerate(parts):
                if part.type == "simple_identifier":
                    raw = parts[i + 2] if i + 2 < len(parts) and parts[i + 1].type == "=" else None
                    values.append(raw.text.decode().strip('"') if raw is not None else part.text.decode())
    return enums


def string_keys_written(path: Path) -> list[str]:
    """String literals used as dictionary-literal keys (``["k": v]``) or assigned through a subscript
    (``object["k"] = v``) in ``path``."""
    found = []
    for node in nodes(path):
        kids = node.children
        if node.type == "dictionary_literal":
            found += [kids[i - 1].text.decode() for i, kid in enumerate(kids)
                      if kid.type == ":" and kids[i - 1].type == "line_string_literal"]
        elif node.type == "value_arguments" and kids[0].type == "[" and _assigned_to(node):
            found += [arg.children[0].text.decode() for arg in kids
                      if arg.type == "value_argument" and arg.children[0].type == "line_string_literal"]
    return found


def _assigned_to(node) -> bool:
    while node is not None and node.type not in ("directly_assignable_expression", "statements", "source_file"):
        node = node.parent
    return node is not None and node.type == "directly_assignable_expression"


@pytest.mark.parametrize("path", SWIFT, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_swift_file_parses(path: Path):
    assert syntax_errors(path, "swift") == []


def test_the_package_is_there():
    files = {p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*") if p.is_file()}
    assert {"Package.swift", "Sources/coreml-bench/main.swift", "Sources/CoreMLBench/ResultKeys.swift",
            "Tests/CoreMLBenchTests/DeviceBenchmarkTests.swift", "Tests/CoreMLBenchTests/Models/README.md"} <= files
    manifest = (PACKAGE / "Package.swift").read_text()
    assert '.testTarget(name: "CoreMLBenchTests"' in manifest and '.copy("Models")' in manifest


def test_every_key_the_swift_code_writes_is_in_the_schema():
    enums, rules = swift_enums(KEYS), allowed()
    assert set(enums) == set(rules), "every enum in ResultKeys.swift must be checked here"
    for name, values in enums.items():
        permitted, required = rules[name]
        if permitted is not None:
            assert set(values) <= permitted, f"{name}: {sorted(set(values) - permitted)} not in the schema"
        assert required <= set(values), f"{name}: the schema requires {sorted(required - set(values))}"
    assert set(enums["ComputeUnitName"]) == {"cpuOnly", "cpuAndGPU", "cpuAndNeuralEngine", "all"}


def test_no_other_file_writes_keys_of_its_own():
    for path in (PACKAGE / "Sources").rglob("*.swift"):  # what writes results (tests only feed it data)
        if path != KEYS:
            assert string_keys_written(path) == [], f"{path.name}: string-literal JSON keys; add them to ResultKeys.swift"


def test_the_key_checks_can_fail(tmp_path: Path):
    bad = tmp_path / "Bad.swift"
    bad.write_text('enum ResultKey: String { case model, latency = "latency_s" }\n'
                   'let d = ["speed": 1]\nvar o: [String: Any] = [:]\no["fast"] = 2\n')
    assert swift_enums(bad) == {"ResultKey": ["model", "latency_s"]}
    assert string_keys_written(bad) == ['"speed"', '"fast"']
