"""The report in a real headless Chromium (Debian's chromium + chromium-driver, driven by selenium), from
file://: the overview equals the metrics files, filters change what is listed, a dialog opens, planted
markup stays text. Skips where Chromium, its driver or selenium is absent (.ci/run installs them)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from reportdata import BROKEN_ID, PLANT, PLANTED_ID, read_rows

pytest_plugins = ["report_fixture"]

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="chromium and chromium-driver are not installed")


@pytest.fixture(scope="module")
def browser():
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1800"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(options=opts, service=Service(DRIVER))
    yield driver
    driver.quit()


def open_report(browser, project: Path):
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get((project / "data" / "report" / "index.html").as_uri())
    WebDriverWait(browser, 10).until(lambda d: "of" in d.find_element("id", "cf-count").text)


def visible_rows(browser) -> list[dict]:
    return browser.execute_script(
        "return Array.from(document.querySelectorAll('#cf-list .cf-row')).map(function (li) {"
        " return {id: li.dataset.id, verdict: li.dataset.verdict}; })")


def choose(browser, select_id: str, label_start: str) -> None:
    from selenium.webdriver.support.ui import Select

    sel = Select(browser.find_element("id", select_id))
    sel.select_by_visible_text(next(o.text for o in sel.options if o.text.startswith(label_start)))


def count(browser) -> int:
    return int(browser.find_element("id", "cf-count").text.split(" of ")[0])


def test_overview_numbers_equal_the_metrics_files(browser, report_project):
    open_report(browser, report_project)
    cells = browser.execute_script(
        "return Array.from(document.querySelectorAll('[data-metric]')).map(function (c) {"
        " return [c.dataset.metric, c.textContent]; })")
    checked = 0
    for path_text, shown in cells:
        path = json.loads(path_text)
        f = report_project / "metrics" / f"{path[0]}.json"
        if not f.exists():
            continue
        value = json.loads(f.read_text())
        for k in path[1:]:
            value = value.get(k) if isinstance(value, dict) else None
        if value is None:
            assert shown == "—", path
            continue
        assert float(shown) == pytest.approx(value, rel=1e-3), path
        checked += 1
    assert checked >= 30
    verify = json.loads((report_project / "metrics" / "verify.json").read_text())
    cell = browser.find_element("css selector", '[data-metric=\'["verify", "rejected"]\']')
    assert int(cell.text) == verify["rejected"] == len(read_rows(report_project / "data" / "rejected.jsonl"))


def test_filters_change_the_listed_samples(browser, report_project):
    open_report(browser, report_project)
    rows = read_rows(report_project / "data" / "verified.jsonl")
    total = count(browser)
    choose(browser, "cf-f-verdict", "rejected")
    assert count(browser) == 1 and [r["id"] for r in visible_rows(browser)] == [BROKEN_ID]
    choose(browser, "cf-f-verdict", "verified")
    dtype = rows[0]["data_type"]
    choose(browser, "cf-f-type", dtype)
    want = sorted(s["id"] for s in rows if s["data_type"] == dtype)
    assert count(browser) == len(want) < total
    assert {r["verdict"] for r in visible_rows(browser)} == {"verified"}
    assert sorted(r["id"] for r in visible_rows(browser)) == want[:10]       # report.page_size=10
    choose(browser, "cf-f-type", "any")
    choose(browser, "cf-f-subset", "eval")
    evals = {r["id"] for r in read_rows(report_project / "data" / "split" / "eval.jsonl")}
    assert count(browser) == len(evals) and {r["id"] for r in visible_rows(browser)} <= evals


def test_a_dialog_opens_as_a_chat_and_a_screenshot_is_saved(browser, report_project, tmp_path):
    open_report(browser, report_project)
    sample = next(s for s in read_rows(report_project / "data" / "verified.jsonl") if s["data_type"] == "dependent")
    box = browser.find_element("id", "cf-f-text")
    box.send_keys(sample["id"])
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 5).until(lambda d: count(d) == 1)
    browser.find_element("css selector", "#cf-list .cf-row").click()
    WebDriverWait(browser, 5).until(lambda d: d.find_element("id", "cf-dialog").get_attribute("data-id") == sample["id"])
    turns = browser.find_elements("css selector", "#cf-dialog .cf-turn")
    assert [t.get_attribute("class").split("cf-turn-")[1] for t in turns] == [m["role"] for m in sample["messages"]]
    calls = browser.find_elements("css selector", "#cf-dialog .cf-call")
    want = [c["name"] for m in sample["messages"] for c in m.get("tool_calls") or []]
    assert [c.text.split("(")[0] for c in calls] == want
    tools = browser.find_elements("css selector", "#cf-dialog .cf-tool")
    assert len(tools) == len(sample["tools"])
    shot = tmp_path / "report.png"
    assert browser.save_screenshot(str(shot)) and shot.read_bytes()[:4] == b"\x89PNG"


def test_planted_markup_shows_as_text_and_nothing_runs(browser, report_project):
    open_report(browser, report_project)
    browser.find_element("id", "cf-f-text").send_keys(PLANTED_ID)
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 5).until(lambda d: count(d) == 1)
    browser.find_element("css selector", "#cf-list .cf-row").click()
    WebDriverWait(browser, 5).until(lambda d: d.find_element("id", "cf-dialog").get_attribute("data-id") == PLANTED_ID)
    for details in browser.find_elements("css selector", "#cf-dialog details"):
        browser.execute_script("arguments[0].open = true", details)
    dialog = browser.find_element("id", "cf-dialog")
    user = dialog.find_element("css selector", ".cf-turn-user .cf-content")
    assert user.get_attribute("textContent").endswith(PLANT)
    tool = dialog.find_element("css selector", ".cf-tool summary")
    assert PLANT in tool.get_attribute("textContent")
    result = dialog.find_element("css selector", ".cf-turn-tool .cf-content")
    assert json.loads(result.get_attribute("textContent")) == {"note": PLANT}
    assert dialog.find_elements("css selector", "img, script") == []
    # the dropped sample's detail holds the same markup
    box = browser.find_element("id", "cf-f-text")
    box.clear()
    choose(browser, "cf-f-verdict", "dropped")
    browser.find_element("css selector", "#cf-list .cf-row").click()
    WebDriverWait(browser, 5).until(lambda d: d.find_element("id", "cf-dialog").get_attribute("data-id") != PLANTED_ID)
    assert PLANT in browser.find_element("css selector", "#cf-dialog .cf-detail").get_attribute("textContent")
    assert browser.execute_script("return window.__cfPwned === undefined && document.images.length === 0")
    scripts = browser.execute_script("return Array.from(document.scripts).map(function (s) { return s.src; })")
    assert [s for s in scripts if s] and all(s.startswith("file://") for s in scripts if s)
