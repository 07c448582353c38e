"""The dashboard in a real headless Chromium (Debian's, driven by selenium) against the running demo.

``mpm-demo`` prints the dashboard's display link first; the browser opens it, the page loads, a point
award made through the API appears without a reload within a second, the sign preview matches what
the Alpha sign simulator shows, and screenshots are saved (normal view and big screen). With
``MPM_WRITE_SCREENSHOTS=1`` they go to docs/images/ (the README's picture), else to the test's own
directory, so a test run leaves the work tree as it was.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from tests.e2e.processes import BIN
from tests.support.broker import Broker
from tests.support.polling import wait_for

REPO = Path(__file__).parents[2]
DOC_IMAGES = REPO / "docs" / "images"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
PROMPT_S = 1.0


@pytest.fixture
def demo(tmp_path: Path, broker: Broker) -> Iterator[dict[str, str]]:
    """The running demo (on Mosquitto) and the addresses it printed."""
    env = dict(os.environ) | {"MPM_MQTT_URL": broker.url}
    argv = [str(BIN / "mpm-demo"), "--state-dir", str(tmp_path / "demo"), "--punch-every", "2"]
    with (tmp_path / "demo.out").open("w") as out:
        child = subprocess.Popen([*argv, "--award-every", "0"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        printed = wait_for(lambda: _printed(tmp_path / "demo.out"), timeout=90, what="the demo's addresses")
        yield printed | {"state_dir": str(tmp_path / "demo")}
    finally:
        child.send_signal(signal.SIGINT)
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _printed(path: Path) -> dict[str, str] | None:
    text = path.read_text()
    if "Press Ctrl-C" not in text:
        return None
    lines = text.splitlines()
    first_address = next(line for line in lines if "http://" in line)
    assert "dashboard:" in first_address  # the dashboard's address comes first
    found = {key: re.search(rf"{key}:\s+(\S+)", text) for key in ("dashboard", "admin API", "API token")}
    return {key: match.group(1) for key, match in found.items() if match}


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    assert shutil.which("chromium"), "apt-get install chromium"
    assert os.path.exists(CHROMEDRIVER), "apt-get install chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    options.add_argument("--window-size=1920,1080")
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def api(demo: dict[str, str], method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    headers = {"Authorization": f"Bearer {demo['API token']}", "Content-Type": "application/json"}
    headers["Idempotency-Key"] = str(uuid.uuid4())
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(demo["admin API"] + path, data=data, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


# Read in one script: SSE swaps replace elements, so element handles held across calls go stale.
RANKING_JS = """return Array.from(document.querySelectorAll('#ranking tr.rank-row'))
  .map(r => Array.from(r.querySelectorAll('td')).map(c => c.textContent.trim()));"""
PREVIEW_JS = (
    """return Array.from(document.querySelectorAll('#signs .sign-lines li')).map(li => li.textContent);"""
)


def ranking(driver: webdriver.Chrome) -> dict[str, int]:
    return {name: int(points) for _, name, points in driver.execute_script(RANKING_JS)}


def normalised(lines: list[str]) -> list[str]:
    return [" ".join(line.split()) for line in lines]


def preview_rows(driver: webdriver.Chrome) -> list[str]:
    return normalised([str(line) for line in driver.execute_script(PREVIEW_JS)])[1:]


def sign_rows(state_dir: Path) -> list[str]:
    """The ranking rows the Alpha sign simulator shows (picture rows, Chinese names, left out)."""
    try:
        showing = json.loads((state_dir / "alpha-sign.json").read_text())["showing"]
    except (OSError, ValueError, KeyError):
        return []
    return normalised([line for line in showing if line[:1].isdigit()])


def award(demo: dict[str, str], member_id: int, points: int) -> None:
    body = {"member_id": member_id, "point_type": "A", "points": points, "reason": "a demo award"}
    api(demo, "POST", "/ledger-entries", body)


def test_the_dashboard_is_live_in_a_real_browser(
    demo: dict[str, str], browser: webdriver.Chrome, tmp_path: Path
) -> None:
    images = DOC_IMAGES if os.environ.get("MPM_WRITE_SCREENSHOTS") == "1" else tmp_path
    members = {m["display_name"]: m["id"] for m in api(demo, "GET", "/members?limit=50")}
    for name, points in [("Alice", 320), ("张三", 410), ("Carol", 150), ("Dave", 90)]:
        award(demo, members[name], points)
    browser.get(demo["dashboard"])  # the display link: logs in and shows the big screen
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#ranking table"), timeout=20, what="the page")
    wait_for(lambda: browser.execute_script("return document.body.dataset.live") == "open", what="SSE open")
    assert "big" in str(browser.find_element(By.TAG_NAME, "body").get_attribute("class"))
    assert ranking(browser)["张三"] >= 410
    before = ranking(browser).get("Bob", 0)
    browser.execute_script("document.body.dataset.marker = 'same page'")
    award(demo, members["Bob"], 500)
    started = time.monotonic()
    wait_for(
        lambda: ranking(browser).get("Bob", 0) >= before + 500, timeout=PROMPT_S, interval=0.02, what="award"
    )
    assert time.monotonic() - started < PROMPT_S
    assert browser.execute_script("return document.body.dataset.marker") == "same page"  # no reload
    # The preview shows what the simulated sign shows (both follow the cloud's projection).
    state_dir = Path(demo["state_dir"])
    wait_for(
        lambda: sign_rows(state_dir) and set(sign_rows(state_dir)) <= set(preview_rows(browser)),
        timeout=20,
        what=f"the sign {sign_rows(state_dir)} to match the preview {preview_rows(browser)}",
    )
    assert re.fullmatch(r"1 Bob \d+", sign_rows(state_dir)[0])
    width = "return document.querySelector('#signs img').naturalWidth"
    wait_for(lambda: browser.execute_script(width) > 100, timeout=5, what="the sign preview PNG")
    # Readable across a room: ranking text at least 32 px high on a 1080p wall.
    font = "return parseFloat(getComputedStyle(document.querySelector('#ranking td.name')).fontSize)"
    assert browser.execute_script(font) >= 32
    save_screenshot(browser, images / "dashboard-big-screen.png")
    browser.find_element(By.LINK_TEXT, "normal view").click()
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#sites tr.agent"), timeout=10, what="sites")
    state = "return document.querySelector('#sites tr.agent').textContent"
    wait_for(lambda: "online" in browser.execute_script(state), timeout=10, what="the agent online")
    browser.set_window_size(1600, 1250)
    save_screenshot(browser, images / "dashboard.png")
    # On a phone the panels stack in one column and nothing makes the page scroll sideways.
    browser.set_window_size(390, 844)
    columns = "return getComputedStyle(document.querySelector('main')).gridTemplateColumns.split(' ').length"
    wait_for(lambda: browser.execute_script(columns) == 1, timeout=5, what="one column on a phone")
    overflow = "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    assert browser.execute_script(overflow) <= 0


def save_screenshot(browser: webdriver.Chrome, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
