"""The iOS demo app (ios_demo/), checked on Linux where no Xcode exists.

The app's Foundation-only logic is the local Swift package ios_demo/PCARNCore, which
tests/test_ios_core.py builds and tests with Swift 6; here:

- every Swift file parses (tree-sitter);
- the hand-written Xcode project loads (pbxproj), compiles every app Swift file in the app target,
  links the PCARNCore package product instead of compiling the core itself, takes its signing team
  from Config/Signing.xcconfig, has the Models buildable folder the installed packages compile
  from, and its shared scheme builds and runs the app and tests the package;
- every sidecar key the Swift code decodes exists where it reads it in the sidecar schema, and every
  latency key (and fixed value) it writes in the latency schema; the JSON fixtures the Swift tests
  compare against validate against those schemas;
- the tile plans the Swift tests expect are the ones pcarn_mobile.tiling computes, run through
  ``upscale_array`` itself where the size allows, so the Swift literals cannot drift from Python.
"""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from itertools import product
from pathlib import Path

import numpy as np
import pytest

from benchmarks.results import SCHEMA as LATENCY_SCHEMA
from benchmarks.results import schema_errors as latency_errors
from pcarn_mobile.tiling import _tiles
from schemawalk import allowed_values, properties, subschemas
from syntax import syntax_errors
from tileplan import run_plan

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "ios_demo"
APP = DEMO / "PCARNDemo"
CORE_PACKAGE = DEMO / "PCARNCore"
CORE = CORE_PACKAGE / "Sources" / "PCARNCore"
TESTS = CORE_PACKAGE / "Tests" / "PCARNCoreTests"
PROJECT = DEMO / "PCARNDemo.xcodeproj"
SIGNING = DEMO / "Config" / "Signing.xcconfig"
SIDECAR_SCHEMA = REPO / "pcarn_mobile" / "export" / "schema" / "sidecar-v1.schema.json"
INSTALL_COMMAND = "python -m pcarn_mobile.convert --target coreml --ios-demo"
SWIFT_FILES = sorted(DEMO.rglob("*.swift"))


@pytest.mark.parametrize("path", SWIFT_FILES, ids=lambda p: str(p.relative_to(DEMO)))
def test_swift_parses(path: Path) -> None:
    assert syntax_errors(path, "swift") == []


def test_core_is_plain_swift() -> None:
    """The plan, sidecar, budget and latency code imports Foundation only, so it builds on Linux."""
    sources = sorted((CORE_PACKAGE / "Sources").rglob("*.swift"))
    assert {p.name for p in sources} >= {"TilePlan.swift", "TileShape.swift", "Sidecar.swift", "OutputBudget.swift",
                                        "PixelQuantization.swift", "LatencyReport.swift", "main.swift"}
    for path in sources:
        imports = set(re.findall(r"^import (\w+)", path.read_text(), re.M))
        assert imports <= {"Foundation", "PCARNCore"} and "Foundation" in imports, f"{path.name} imports {imports}"
    assert not (APP / "Core").exists(), "the core lives in the package only"


# --- the Xcode project ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def xcode():
    pbxproj = pytest.importorskip("pbxproj", reason="pbxproj is not installed (pip install -e '.[dev]')")
    return pbxproj.XcodeProject.load(str(PROJECT / "project.pbxproj"))


def _paths(project) -> dict[str, str]:
    """Object id -> path below ios_demo/ of every file reference and group, walking the group tree."""
    objects, found = project.objects, {}

    def walk(node_id: str, parent: str) -> None:
        node = objects[node_id]
        path = f"{parent}/{node['path']}".lstrip("/") if "path" in node else parent
        found[str(node_id)] = path
        for child in node["children"] if "children" in node else []:
            walk(child, path)

    walk(objects[project.rootObject].mainGroup, "")
    return found


def _target(project, name: str):
    (target,) = [t for t in project.objects.get_objects_in_section("PBXNativeTarget") if t.name == name]
    return target


def _phase_files(project, paths: dict[str, str], target, isa: str) -> list[str]:
    (phase,) = [project.objects[p] for p in target.buildPhases if project.objects[p].isa == isa]
    return [paths[str(project.objects[f].fileRef)] for f in phase.files]


def test_the_app_compiles_its_own_files_and_links_the_core_package(xcode) -> None:
    assert xcode.objectVersion == "77"
    paths = _paths(xcode)
    app_target = _target(xcode, "PCARNDemo")
    app = _phase_files(xcode, paths, app_target, "PBXSourcesBuildPhase")
    assert sorted(app) == sorted(p.relative_to(DEMO).as_posix() for p in APP.rglob("*.swift"))
    assert not any(p.startswith("PCARNCore/") for p in paths.values()), "the package's files are the package's"
    assert all((DEMO / p).is_file() for p in paths.values() if p.endswith((".swift", ".json", ".xcconfig")))
    (package,) = xcode.objects.get_objects_in_section("XCLocalSwiftPackageReference")
    assert package.relativePath == "PCARNCore" and (DEMO / package.relativePath / "Package.swift").is_file()
    project = xcode.objects[xcode.rootObject]
    assert list(project.packageReferences) == [package.get_id()]
    (product,) = xcode.objects.get_objects_in_section("XCSwiftPackageProductDependency")
    assert product.productName == "PCARNCore" and '.library(name: "PCARNCore"' in (CORE_PACKAGE / "Package.swift").read_text()
    assert list(app_target.packageProductDependencies) == [product.get_id()]
    (frameworks,) = [xcode.objects[p] for p in app_target.buildPhases if xcode.objects[p].isa == "PBXFrameworksBuildPhase"]
    assert [str(xcode.objects[f].productRef) for f in frameworks.files] == [product.get_id()]
    app_sources = "".join(p.read_text() for p in APP.rglob("*.swift"))
    assert "import PCARNCore" in app_sources


def test_models_is_a_buildable_folder_of_the_app_without_its_readme(xcode) -> None:
    app = _target(xcode, "PCARNDemo")
    (group_id,) = app["fileSystemSynchronizedGroups"]
    group = xcode.objects[group_id]
    assert group.isa == "PBXFileSystemSynchronizedRootGroup"
    assert _paths(xcode)[str(group_id)] == "PCARNDemo/Models" and (APP / "Models").is_dir()
    (exceptions,) = [xcode.objects[e] for e in group.exceptions]
    assert exceptions.isa == "PBXFileSystemSynchronizedBuildFileExceptionSet"
    assert list(exceptions.membershipExceptions) == ["README.md"] and str(exceptions.target) == app.get_id()
    assert INSTALL_COMMAND in (APP / "Models" / "README.md").read_text()
    ignored = (REPO / ".gitignore").read_text().split()
    assert {"ios_demo/PCARNDemo/Models/*.mlpackage/", "ios_demo/PCARNDemo/Models/*.json"} <= set(ignored)


def test_build_settings(xcode) -> None:
    targets = xcode.objects.get_objects_in_section("PBXNativeTarget")
    lists = {t.name: xcode.objects[t.buildConfigurationList] for t in targets}
    lists["project"] = xcode.objects[xcode.objects[xcode.rootObject].buildConfigurationList]
    for configurations in lists.values():
        assert sorted(xcode.objects[c].name for c in configurations.buildConfigurations) == ["Debug", "Release"]
    for c in lists["project"].buildConfigurations:
        assert xcode.objects[c].buildSettings["IPHONEOS_DEPLOYMENT_TARGET"] == "16.0"
    for c in lists["PCARNDemo"].buildConfigurations:
        settings = xcode.objects[c].buildSettings
        assert settings["GENERATE_INFOPLIST_FILE"] == "YES"
        assert settings["INFOPLIST_KEY_NSPhotoLibraryAddUsageDescription"]
        assert settings["COREML_CODEGEN_LANGUAGE"] == "None"  # models are loaded by URL, whatever is installed
    for c in lists["project"].buildConfigurations:
        settings = xcode.objects[c].buildSettings
        # Swift 6 language mode, and Xcode 26's defaults for new apps: main-actor isolation by default
        # and nonisolated async functions that run on their caller's actor unless @concurrent.
        assert settings["SWIFT_VERSION"] == "6.0"
        assert settings["SWIFT_DEFAULT_ACTOR_ISOLATION"] == "MainActor"
        assert settings["SWIFT_APPROACHABLE_CONCURRENCY"] == "YES"


def test_the_signing_team_is_one_documented_setting(xcode) -> None:
    """Automatic signing; the team comes from Config/Signing.xcconfig (a git-ignored local override)."""
    assert "DEVELOPMENT_TEAM" not in (PROJECT / "project.pbxproj").read_text()
    paths = _paths(xcode)
    for c in xcode.objects[_target(xcode, "PCARNDemo").buildConfigurationList].buildConfigurations:
        configuration = xcode.objects[c]
        assert paths[str(configuration.baseConfigurationReference)] == "Config/Signing.xcconfig"
        assert configuration.buildSettings["CODE_SIGN_STYLE"] == "Automatic"
    settings = SIGNING.read_text()
    assert re.search(r"^DEVELOPMENT_TEAM =\s*$", settings, re.M) and '#include? "Signing.local.xcconfig"' in settings
    assert "ios_demo/Config/Signing.local.xcconfig" in (REPO / ".gitignore").read_text().split()
    assert "Signing.local.xcconfig" in (DEMO / "README.md").read_text()


def test_shared_scheme_builds_and_runs_the_app_and_tests_the_core(xcode) -> None:
    scheme = ET.parse(PROJECT / "xcshareddata" / "xcschemes" / "PCARNDemo.xcscheme").getroot()
    targets = {t.get_id(): t.name for t in xcode.objects.get_objects_in_section("PBXNativeTarget")}

    def named(xpath: str) -> set[str]:
        refs = scheme.findall(xpath)
        assert refs, xpath
        assert all(targets.get(r.get("BlueprintIdentifier")) == r.get("BlueprintName") for r in refs)
        return {r.get("BlueprintName") for r in refs}

    assert named("./BuildAction//BuildableReference") == {"PCARNDemo"}
    assert named("./LaunchAction//BuildableReference") == {"PCARNDemo"}
    (test,) = scheme.findall("./TestAction/Testables//BuildableReference")
    assert test.get("ReferencedContainer") == "container:PCARNCore"
    assert test.get("BlueprintName") == test.get("BlueprintIdentifier") == "PCARNCoreTests"
    assert '.testTarget(name: "PCARNCoreTests"' in (CORE_PACKAGE / "Package.swift").read_text()


# --- the contract keys ------------------------------------------------------------------------------


def _text(node, source: bytes) -> str:
    return source[node.start_byte:node.end_byte].decode()


class SwiftTypes:
    """Type declarations of Swift files: stored properties (type, literal default) and enum cases
    (raw values). A nested `CodingKeys` enum is filed as '<Outer>.CodingKeys'; extensions are skipped."""

    LITERALS = {"integer_literal", "line_string_literal", "boolean_literal"}

    def __init__(self, *paths: Path) -> None:
        from syntax import _parser

        self.types: dict[str, dict] = {}
        for path in paths:
            source = path.read_bytes()
            self._walk(_parser("swift").parse(source).root_node, source, None)

    def _walk(self, node, source: bytes, outer: str | None) -> None:
        for child in node.children:
            if child.type != "class_declaration":
                self._walk(child, source, outer)
            elif _text(child.child_by_field_name("declaration_kind"), source) != "extension":
                name = _text(child.child_by_field_name("name"), source)
                self.types[f"{outer}.{name}" if name == "CodingKeys" and outer else name] = self._members(child, source)
                self._walk(child.child_by_field_name("body"), source, name)

    def _members(self, declaration, source: bytes) -> dict:
        props, cases = {}, {}
        for member in declaration.child_by_field_name("body").children:
            if member.type == "property_declaration" and not self._static_or_computed(member):
                annotation = next((c for c in member.children if c.type == "type_annotation"), None)
                value = member.child_by_field_name("value")
                props[_text(member.child_by_field_name("name"), source)] = {
                    "type": _text(annotation.children[-1], source) if annotation else None,
                    "literal": json.loads(_text(value, source)) if value and value.type in self.LITERALS else None}
            elif member.type == "enum_entry":
                raw = member.child_by_field_name("raw_value")
                for case in (c for c in member.children if c.type == "simple_identifier"):
                    cases[_text(case, source)] = json.loads(_text(raw, source)) if raw else _text(case, source)
        return {"props": props, "cases": cases}

    @staticmethod
    def _static_or_computed(member) -> bool:
        return any(c.type == "computed_property" or (c.type == "modifiers" and b"static" in c.text)
                   for c in member.children)

    def coding_keys(self, name: str) -> dict[str, str]:
        """Property name -> JSON key of a Codable type (its nested CodingKeys)."""
        return self.types[f"{name}.CodingKeys"]["cases"]


def _check_type(types: SwiftTypes, name: str, schema: dict, root: dict, where: str) -> list[str]:
    """Every JSON key `name` reads or writes, and every fixed value, against its schema node."""
    problems = []
    allowed_keys = properties(schema, root)
    keys = types.coding_keys(name)
    props = types.types[name]["props"]
    for prop, key in keys.items():
        at = f"{where}.{key}"
        if key not in allowed_keys:
            problems.append(f"{name}.{prop}: key {at!r} is not in the schema")
            continue
        node = allowed_keys[key]
        info = props.get(prop)
        if info is None:
            problems.append(f"{name}.CodingKeys.{prop} names no stored property")
            continue
        if info["literal"] is not None and info["literal"] not in (allowed_values(node, root) or [info["literal"]]):
            problems.append(f"{name}.{prop} = {info['literal']!r}: not allowed at {at}")
        swift_type = (info["type"] or "").rstrip("?")
        if swift_type.startswith("[") and ":" not in swift_type:  # an array: its items
            swift_type, node = swift_type[1:-1], next(sub["items"] for sub in subschemas(node, root) if "items" in sub)
        if f"{swift_type}.CodingKeys" in types.types:
            problems += _check_type(types, swift_type, node, root, at)
        elif swift_type in types.types and types.types[swift_type]["cases"]:  # a String enum
            allowed = allowed_values(node, root) or []
            problems += [f"{swift_type}.{case} = {raw!r}: not allowed at {at}"
                         for case, raw in types.types[swift_type]["cases"].items() if raw not in allowed]
    missing = set(props) - set(keys)
    problems += [f"{name}.{prop} has no CodingKeys case" for prop in sorted(missing)]
    return problems


def test_coding_keys_live_in_the_two_contract_files() -> None:
    holders = {p.name for p in (*APP.rglob("*.swift"), *CORE.rglob("*.swift")) if "CodingKey" in p.read_text()}
    assert holders == {"Sidecar.swift", "LatencyReport.swift"}


def test_every_sidecar_key_read_is_in_the_sidecar_schema() -> None:
    schema = json.loads(SIDECAR_SCHEMA.read_text())
    types = SwiftTypes(CORE / "Sidecar.swift")
    assert _check_type(types, "Sidecar", schema, schema, "sidecar") == []
    versions = re.search(r"static let supportedSchemaVersions = (\d+)\.\.\.(\d+)", (CORE / "Sidecar.swift").read_text())
    assert versions and int(versions[2]) == 2, "the app reads sidecar schema version 2"
    assert int(versions[1]) <= schema["properties"]["schema_version"]["const"] <= int(versions[2])


def test_every_latency_key_written_is_in_the_latency_schema() -> None:
    schema = json.loads(LATENCY_SCHEMA.read_text())
    types = SwiftTypes(CORE / "LatencyReport.swift", CORE / "ComputeUnit.swift")
    assert _check_type(types, "LatencyReport", schema, schema, "latency") == []
    assert types.types["ComputeUnit"]["cases"], "ComputeUnit's raw values are checked as backends"


def test_the_key_check_catches_a_wrong_key_or_value(tmp_path: Path) -> None:
    def check(name: str, schema_path: Path, old: str, new: str, *others: Path) -> list[str]:
        edited = tmp_path / f"{name}.swift"
        edited.write_text((CORE / f"{name}.swift").read_text().replace(old, new))
        schema = json.loads(schema_path.read_text())
        return _check_type(SwiftTypes(edited, *others), name, schema, schema, "doc")

    assert check("Sidecar", SIDECAR_SCHEMA, 'sizeRange = "size_range"', 'sizeRange = "sizeRange"') == [
        "Tensor.sizeRange: key 'doc.input.sizeRange' is not in the schema",
        "Tensor.sizeRange: key 'doc.output.sizeRange' is not in the schema"]
    units = CORE / "ComputeUnit.swift"
    assert check("LatencyReport", LATENCY_SCHEMA, 'harness = "ios-app"', 'harness = "ios"', units) == []
    assert check("LatencyReport", LATENCY_SCHEMA, 'harness = "ios-app"', 'harness = "iphone"', units) == [
        "LatencyReport.harness = 'iphone': not allowed at doc.harness"]
    assert check("LatencyReport", LATENCY_SCHEMA, 'cpuFallback = "none"', 'cpuFallback = "cpu"', units) == [
        "DelegationStatus.cpuFallback = 'cpu': not allowed at doc.results.delegation.status"]


@pytest.mark.parametrize("name", ["pcarn_m_g4_x4_dyn_fp16.mlpackage.json",
                                  "pcarn_m_g4_x2_128x128_fp16.mlpackage.json"])
def test_sidecar_fixtures_are_real_image_io_sidecars(name: str) -> None:
    from jsonschema import Draft202012Validator

    sidecar = json.loads((TESTS / "Fixtures" / name).read_text())
    assert list(Draft202012Validator(json.loads(SIDECAR_SCHEMA.read_text())).iter_errors(sidecar)) == []
    assert sidecar["file"] + ".json" == name and sidecar["format"] == "coreml"
    assert sidecar["input"]["layout"] == sidecar["output"]["layout"] == "image"


def test_latency_fixture_validates() -> None:
    document = json.loads((TESTS / "Fixtures" / "latency-ios-app-example.json").read_text())
    assert latency_errors(document) == []
    assert document["harness"] == "ios-app" and {r["backend"] for r in document["results"]} <= {
        "cpuOnly", "cpuAndGPU", "cpuAndNeuralEngine", "all"}


def test_the_app_and_readmes_give_the_install_command() -> None:
    catalog = (CORE / "ModelCatalog.swift").read_text()
    assert f'public static let installCommand = "{INSTALL_COMMAND}"' in catalog
    assert INSTALL_COMMAND in (REPO / "README.md").read_text()


# --- the tile plan ----------------------------------------------------------------------------------

EXPECTED = re.compile(
    r"Expected\(height: (\d+), width: (\d+), sizing: \.(fixed|flexible)\(\w+: (\d+), \w+: (\d+)(?:, \w+: (\d+))?\), "
    r"overlap: (\d+), tile: \[(\d+), (\d+)\],\s*rows: (\[\[.*?\]\]),\s*columns: (\[\[.*?\]\])\)", re.S)


def _swift_plans() -> list[dict]:
    plans = []
    for m in EXPECTED.finditer((TESTS / "TilePlanTests.swift").read_text()):
        h, w, kind, a, b, minimum, overlap, th, tw = m.groups()[:9]
        plans.append({"h": int(h), "w": int(w), "kind": kind, "a": int(a), "b": int(b), "overlap": int(overlap),
                      "min": int(minimum or 0), "tile": [int(th), int(tw)], "rows": json.loads(m[10]),
                      "columns": json.loads(m[11])})
    return plans


SWIFT_PLANS = _swift_plans()


def _id(plan: dict) -> str:
    return f"{plan['h']}x{plan['w']}-{plan['kind']}{plan['a']}x{plan['b']}-m{plan['min']}-o{plan['overlap']}"


def test_the_swift_plans_cover_the_edge_cases() -> None:
    fixed = [p for p in SWIFT_PLANS if p["kind"] == "fixed"]
    assert len(SWIFT_PLANS) >= 10
    assert any(1 in (p["h"], p["w"]) for p in SWIFT_PLANS), "a 1-px-wide or -tall photo"
    assert any(p["h"] == p["a"] and p["w"] == p["b"] for p in fixed), "exactly tile-sized"
    assert any(p["h"] < p["a"] and p["w"] < p["b"] for p in fixed), "smaller than a fixed tile"
    assert any(len(p["rows"]) > 10 for p in SWIFT_PLANS), "a phone photo"


def _padded(plan: dict) -> tuple[int, int, int, int]:
    """Padded height and width, tile height and width: a fixed tile pads up to itself, a range to its minimum."""
    th, tw = plan["a"], plan["b"]
    low_h, low_w = (th, tw) if plan["kind"] == "fixed" else (plan["min"], plan["min"])
    return max(plan["h"], low_h), max(plan["w"], low_w), th, tw


@pytest.mark.parametrize("plan", SWIFT_PLANS, ids=_id)
def test_swift_plan_is_pythons(plan: dict) -> None:
    height, width, th, tw = _padded(plan)
    rows, cols = plan["rows"], plan["columns"]
    python = list(_tiles(height, width, th, tw, plan["overlap"]))
    swift = [(r[0], c[0], (r[1], r[2]), (c[1], c[2])) for r, c in product(rows, cols)]
    assert swift == python
    assert plan["tile"] == [min(th, height), min(tw, width)]


@pytest.mark.parametrize("plan", [p for p in SWIFT_PLANS if p["h"] * p["w"] <= 1_000_000], ids=_id)
def test_upscale_array_runs_the_swift_plan(plan: dict) -> None:
    """The same tiles, windows and kept regions as upscale_array, padding and crop included."""
    h, w, s = plan["h"], plan["w"], 2
    if plan["kind"] == "fixed":
        tiles, source = run_plan(h, w, s, plan["overlap"], fixed=(plan["a"], plan["b"]))
    else:  # the app edge-pads a side below the range's minimum, then tiles any-size
        height, width, _, _ = _padded(plan)
        assert plan["a"] == plan["b"], "upscale_array takes a square tile for any-size models"
        tiles, source = run_plan(height, width, s, plan["overlap"], tile=plan["a"])
        source = source[: s * h, : s * w]
    source = source[..., 0]  # which tile wrote each output pixel
    swift = list(product(plan["rows"], plan["columns"]))
    assert tiles == [(r[0], c[0], *plan["tile"]) for r, c in swift]
    owner = np.full((s * h, s * w), -1, np.int64)
    for index, (r, c) in enumerate(swift):
        owner[s * r[1]:s * min(r[2], h), s * c[1]:s * min(c[2], w)] = index
    assert source.shape == (s * h, s * w) and (owner >= 0).all()
    np.testing.assert_array_equal(source, owner)
