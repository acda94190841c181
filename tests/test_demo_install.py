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
