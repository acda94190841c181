"""--android-demo / --ios-demo put files exactly where the apps load them (the apps' own sources say where)."""
from __future__ import annotations

import re

from pcarn_mobile.export.install import DEMO_APPS
from pcarn_mobile.shared import REPO_ROOT


def test_android_installs_into_the_asset_folder_the_app_lists():
    folder, suffix, fmt = DEMO_APPS["android_demo"]
    catalog = (REPO_ROOT / "android_demo/app/src/main/java/com/pcarnmobile/demo/inference/ModelCatalog.kt").read_text()
    (asset_dir,) = re.findall(r'const val DIR = "([^"]+)"', catalog)
    assert folder == REPO_ROOT / "android_demo" / "app" / "src" / "main" / "assets" / asset_dir
    assert (suffix, fmt) == (".tflite", "tflite") and ".tflite.json" in catalog


def test_ios_installs_into_the_buildable_folder_xcode_compiles():
    folder, suffix, fmt = DEMO_APPS["ios_demo"]
    project = (REPO_ROOT / "ios_demo/PCARNDemo.xcodeproj/project.pbxproj").read_text()
    group = re.search(r"/\* (\w+) \*/ = \{\s*isa = PBXFileSystemSynchronizedRootGroup;.*?path = (\w+);", project, re.S)
    assert group and folder == REPO_ROOT / "ios_demo" / "PCARNDemo" / group[2]
    assert (suffix, fmt) == (".mlpackage", "coreml") and (folder / "README.md").is_file()


def test_ios_demo_installs_the_enumerated_and_the_range_package_side_by_side(tmp_path, monkeypatch):
    """One --ios-demo run hands install() both packages of the network: both land, with their sidecars,
    and only the models of an older run go (a second install no longer drops the range package)."""
    from pcarn_mobile.export import install as module
    from pcarn_mobile.export.options import ExportOptions, plan

    models = tmp_path / "Models"
    monkeypatch.setitem(module.DEMO_APPS, "ios_demo", (models, ".mlpackage", "coreml"))
    models.mkdir()
    (models / "old_x4_dyn_fp16.mlpackage").mkdir()
    (models / "old_x4_dyn_fp16.mlpackage.json").write_text("{}")
    (models / "README.md").write_text("kept")
    packages = plan(ExportOptions(target="coreml", ios_demo=True)).coreml.packages()  # type: ignore[union-attr]
    assert [bool(p.sizes) for p in packages] == [True, False] and packages[1].range is not None
    written = []
    for tag in ("128x128-184x184-304x304", "dyn"):
        package = tmp_path / "out" / f"pcarn_m_g4_x4_{tag}_fp16.mlpackage"
        (package / "Data").mkdir(parents=True)
        (package / "Manifest.json").write_text(tag)
        package.with_name(package.name + ".json").write_text(f'{{"file": "{package.name}"}}')
        written.append(package)
    installed, removed = module.install("ios_demo", written)
    assert installed == [p.name for p in written] and removed == ["old_x4_dyn_fp16.mlpackage"]
    assert sorted(p.name for p in models.iterdir()) == sorted(
        [*installed, *(f"{n}.json" for n in installed), "README.md"])
    assert (models / installed[1] / "Manifest.json").read_text() == "dyn"
