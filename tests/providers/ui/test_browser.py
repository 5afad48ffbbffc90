"""The Map Run view in a real browser: the real api-server, dag-processor, scheduler and triggerer
(LocalExecutor, 127.0.0.1), a Map whose children fail on some items, and Debian's headless
Chromium driven by Selenium through Debian's chromium-driver (installed when missing). The view
must show the counts and a failed child's error while the Map runs and after it ended.

``CLOUDFLOW_SCREENSHOT=<path>`` saves what the browser shows at the end (docs/map-run-view.png).
"""

from __future__ import annotations

import json
import os
import shutil
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.providers.airflow_env import AirflowHome
from tests.providers.cluster import AirflowCluster
from tests.support.apt import ensure_packages

DAG_ID = "orders_view"
ITEMS = 60
BAD = {4, 21, 22, 40, 57}  # 5 of 60 = 8.3 % ≤ the tolerated 10 %
FLOW = textwrap.dedent("""\
    Type: StateMachine
    Name: orders_view
    SpecVersion: v1
    StartAt: ProcessOrders
    States:
      - Type: Map
        Name: ProcessOrders
        ProcessorConfig:
          ExecutionMode: Express
        ItemsPath: $Input.orders
        ItemConstructor:
          id.$: $Item.id
          amount.$: $Item.amount
          pause.$: $Input.pause
        MaxConcurrency: 2
        ToleratedFailurePercentage: 10
        Processor:
          StartAt: Slow
          States:
            - Type: Wait
              Name: Slow
              Seconds.$: $Input.pause
              Next: Check
            - Type: Choice
              Name: Check
              Branches:
                - Condition: $Input.amount < 0
                  Next: Reject
              Default: Accept
            - Type: Pass
              Name: Accept
              End: true
            - Type: Fail
              Name: Reject
              Code: Orders.NegativeAmount
              Detail: amount below zero
        ResultWriter:
          Parameters:
            Bucket: results
            Prefix: orders/
        End: true
    """)


def _browser_binaries() -> tuple[str, str]:
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        ensure_packages("chromium", "chromium-driver")
    return shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture(scope="module")
def cluster(airflow_home: AirflowHome) -> Iterator[AirflowCluster]:
    folder = airflow_home.dags_folder / "view"
    store = airflow_home.root / "view-store"
    (store / "results").mkdir(parents=True, exist_ok=True)
    folder.mkdir()
    (folder / "orders.flow.yaml").write_text(FLOW)
    (folder / "orders.airflow.yaml").write_text(json.dumps({
        "local_store": str(store), "shard_size": 20, "default_input": {"pause": 0}}))
    from airflow_cloudflow.loader_file import LOADER_SOURCE

    (folder / "cloudflow_dags.py").write_text(LOADER_SOURCE)
    with AirflowCluster(airflow_home) as running:
        running.wait_for_dag(DAG_ID)
        running.unpause(DAG_ID)
        yield running
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def browser(cluster: AirflowCluster):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, chromedriver = _browser_binaries()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1300",
                     "--disable-gpu", "--no-proxy-server"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    try:
        # log in as the UI does: Airflow's JWT in its session cookie (SimpleAuthManager, all admins)
        driver.get(f"{cluster.base_url}/api/v2/version")
        driver.add_cookie({"name": "_token", "value": cluster._token(), "path": "/"})
        yield driver
    finally:
        driver.quit()


def _shown(driver) -> dict:
    """What the page shows now: status, the count cards, the failed children's errors."""
    return driver.execute_script("""
        const text = (sel) => { const n = document.querySelector(sel); return n ? n.textContent.trim() : null; };
        const counts = {};
        for (const card of document.querySelectorAll('[data-count]'))
            counts[card.dataset.count] = Number(card.querySelector('b').textContent.replace(/,/g, ''));
        const errors = [...document.querySelectorAll('#children tr[data-status="FAILED"] td:nth-child(3)')]
            .map((td) => td.textContent);
        return {status: text('#status'), counts, errors, error: text('#error'), page: document.body.innerText.slice(0, 300),
                recent: text('#recent-failures'), summary: text('#summary'), results: text('#results')};
    """)


def _wait(driver, until, timeout: float, what: str) -> dict:
    deadline = time.monotonic() + timeout
    shown = {}
    while time.monotonic() < deadline:
        shown = _shown(driver)
        if until(shown):
            return shown
        time.sleep(0.3)
    raise AssertionError(f"the view never showed {what}; last: {shown}")


def test_the_map_run_view_shows_counts_and_failures_while_running_and_after(cluster, browser) -> None:
    try:
        _check_the_view(cluster, browser)
    except AssertionError as failure:
        raise AssertionError(f"{failure}\n{cluster.log_tails(60)}") from None


def _check_the_view(cluster, browser) -> None:
    orders = [{"id": i, "amount": -1 if i in BAD else i + 1} for i in range(ITEMS)]
    run_id = cluster.trigger(DAG_ID, conf={"orders": orders, "pause": 1})
    query = urlencode({"dag_id": DAG_ID, "run_id": run_id})
    browser.get(f"{cluster.base_url}/cloudflow/maprun?{query}")

    running = _wait(browser, lambda s: s["status"] == "RUNNING" and s["counts"].get("failed", 0) >= 1
                    and "Orders.NegativeAmount" in (s["recent"] or ""), 120, "a failure while running")
    assert running["counts"]["total"] == ITEMS
    assert running["counts"]["succeeded"] + running["counts"]["failed"] < ITEMS  # really mid-run
    assert "amount below zero" in running["recent"]  # the cause, not only the code

    assert cluster.wait_for_run(DAG_ID, run_id, timeout=300) == "success", cluster.log_tails()
    done = _wait(browser, lambda s: s["status"] == "SUCCEEDED", 30, "the end of the Map Run")
    assert done["counts"] == {"succeeded": ITEMS - len(BAD), "failed": len(BAD), "running": 0, "pending": 0,
                              "total": ITEMS}
    assert "55 succeeded, 5 failed of 60 (tolerated ≤ 10 %, actual 8.3 %); results oss://results/orders/" in done[
        "summary"]
    assert "manifest.json" in done["results"]

    from selenium.webdriver.support.ui import Select

    Select(browser.find_element("id", "filter")).select_by_value("failed")
    failed = _wait(browser, lambda s: len(s["errors"]) == len(BAD), 20, "the failed children")
    assert set(failed["errors"]) == {"Orders.NegativeAmount"}

    screenshot = os.environ.get("CLOUDFLOW_SCREENSHOT")
    if screenshot:
        Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
        browser.get(f"{cluster.base_url}/cloudflow/maprun?{query}")
        _wait(browser, lambda s: s["status"] == "SUCCEEDED", 30, "the view again")
        browser.save_screenshot(screenshot)
