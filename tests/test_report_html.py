"""report.html in a real browser: headless Chromium with the network off loads it with no console error, every
image decodes, the table has one row per file with the verdict report.json gives, and the page is not blank."""
from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from pcarn_mobile.export import export

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    """fp32 + int8 of an untrained network, with the int8 floor raised past reach: one OK and one MISMATCH row."""
    from pcarn_mobile.export import formats

    out = tmp_path_factory.mktemp("html")
    saved = formats.PHOTO_FLOOR_DB["int8"]
    formats.PHOTO_FLOOR_DB["int8"] = 500.0
    try:
        result = export(target="tflite", precision="fp32,int8", dynamic=True, random_init=True, calib_count=4, out=str(out))
    finally:
        formats.PHOTO_FLOOR_DB["int8"] = saved
    assert not result.ok
    return out


def test_page_is_self_contained_and_small(run):
    html = (run / "report.html").read_text()
    assert (run / "report.html").stat().st_size < 3_000_000
    assert "http://" not in html and "https://" not in html and "<script" not in html
    assert html.count("<img ") == html.count('alt="') == 2 * 4 * 5  # 2 files x 4 photos x 5 panels, each with alt text
    assert "<caption>" in html and 'scope="col"' in html and 'name="viewport"' in html


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("Chromium and ChromeDriver are not installed (Debian: chromium chromium-driver; .ci/run installs them)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[dev]')")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1200,1600"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions",
                           {"offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0})
    yield driver
    driver.quit()


def test_page_in_headless_chromium_offline(run, browser):
    import numpy as np
    from PIL import Image

    browser.get((run / "report.html").as_uri())
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
    images = browser.execute_script("return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt])")
    assert len(images) == 40 and all(done and width > 0 and alt for done, width, alt in images)
    rows = browser.execute_script(
        "return Array.from(document.querySelector('table').tBodies[0].rows)"
        ".map(r => [r.cells[0].textContent, r.cells[r.cells.length - 1].textContent])")
    report = json.loads((run / "report.json").read_text())
    assert rows == [[f["file"], f["parity"]["verdict"]] for f in report["files"]]
    assert [v for _, v in rows] == ["OK", "MISMATCH"]
    shot = np.asarray(Image.open(io.BytesIO(browser.get_screenshot_as_png())).convert("L"), dtype=np.float64)
    assert shot.std() > 10  # text, tables and pictures, not a blank page
