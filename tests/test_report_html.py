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


@pytest.fixture(scope="module")
def evaluation_page(tmp_path_factory) -> tuple[Path, dict]:
    """``evaluate --html`` on three real photos (HR-only folder, x2, untrained network): the page and the JSON."""
    import subprocess
    import sys

    from pcarn_mobile.imageio import write_image
    from pcarn_mobile.photos import sample_photos

    folder = tmp_path_factory.mktemp("photos")
    for name, img in sample_photos()[:3]:
        write_image(folder / f"{name}.png", img[:96, :120])
    page = folder.parent / "eval.html"
    done = subprocess.run([sys.executable, "-m", "pcarn_mobile.evaluate", "--random-init", "--data", str(folder),
                           "--scale", "2", "--json", "--html", str(page)], capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr[-2000:]
    return page, json.loads(done.stdout)


def test_evaluation_page_lists_every_image_worst_first(evaluation_page):
    page, result = evaluation_page
    html = page.read_text()
    worst_first = [im["name"] for im in sorted(result["images"], key=lambda im: im["psnr_y"])]
    positions = [html.index(f'<th scope="row">{name}</th>') for name in worst_first]
    assert positions == sorted(positions) and html.count("<img ") == 3 * 5 and "ground truth" in html
    assert "http://" not in html and "https://" not in html and "<script" not in html


def test_evaluation_page_in_headless_chromium_offline(evaluation_page, browser):
    browser.get(evaluation_page[0].as_uri())
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    widths = browser.execute_script("return Array.from(document.images).map(i => i.naturalWidth)")
    assert len(widths) == 15 and min(widths) > 0


def test_html_path_is_checked_before_scoring(tmp_path, capsys):
    from clitools import cli_error
    from pcarn_mobile.evaluate import main

    err = cli_error(main, ["--random-init", "--data", str(tmp_path), "--scale", "2", "--html", str(tmp_path / "x.txt")],
                    capsys)
    assert "must end in .html" in err
