"""An operator logged into the admin opens the API docs in a browser that can reach nothing
but this server: Swagger UI and ReDoc render the operations from their bundled assets.

Drives Debian's headless Chromium like test_browser.py; skipped where it is missing.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.factories import UserFactory

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (requirements-dev.txt)")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason=f"headless browser tests need {CHROMIUM} and {CHROMEDRIVER} (apt-get install chromium chromium-driver)",
    ),
]

PASSWORD = "operator-secret"


@pytest.fixture
def offline_browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Headless Chromium whose only reachable host is this machine: every other name fails to
    resolve and every other address goes to a proxy that does not exist (loopback bypasses
    proxies). The network log is kept so the test can list what the pages asked for."""
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    monkeypatch.setenv("SE_OFFLINE", "true")
    profile = tempfile.mkdtemp(prefix="ops-chromium-")
    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1024",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost",
        "--proxy-server=http://127.0.0.1:9",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.implicitly_wait(10)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def requested_urls(browser: Any) -> list[str]:
    """The URLs the pages asked the network for; requests that the page's Content-Security-Policy
    stopped inside the browser never leave it and are not listed."""
    messages = [json.loads(entry["message"])["message"] for entry in browser.get_log("performance")]
    blocked = {
        message["params"]["requestId"]
        for message in messages
        if message["method"] == "Network.loadingFailed" and message["params"].get("blockedReason") == "csp"
    }
    return [
        message["params"]["request"]["url"]
        for message in messages
        if message["method"] == "Network.requestWillBeSent" and message["params"]["requestId"] not in blocked
    ]


def log_in(browser: Any, live_server: Any) -> None:
    from selenium.webdriver.common.by import By

    UserFactory(username="root", is_staff=True, is_superuser=True, password=PASSWORD)
    browser.get(f"{live_server.url}/admin/")
    browser.find_element(By.ID, "id_username").send_keys("root")
    browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    assert browser.find_element(By.ID, "user-tools").text.startswith("WELCOME")


def test_a_logged_in_operator_reads_the_swagger_ui_offline(
    transactional_db: None, live_server: Any, offline_browser: Any
) -> None:
    from selenium.webdriver.common.by import By

    log_in(offline_browser, live_server)
    offline_browser.get(f"{live_server.url}/api/docs/")

    rendered = offline_browser.find_elements(By.CSS_SELECTOR, ".opblock .opblock-summary-path")
    paths = {element.get_attribute("data-path") for element in rendered}
    assert "/ocs/v2.php/apps/spreed/api/v4/room" in paths
    assert "/ocs/v2.php/apps/spreed/api/v1/breakout-rooms/{token}" in paths
    title = offline_browser.find_element(By.CSS_SELECTOR, ".information-container .title").text
    assert title.startswith("Breakout rooms service")
    urls = requested_urls(offline_browser)
    assert f"{live_server.url}/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in urls
    assert [url for url in urls if url.startswith("http") and not url.startswith(live_server.url)] == []


def test_a_logged_in_operator_reads_redoc_offline(
    transactional_db: None, live_server: Any, offline_browser: Any
) -> None:
    from selenium.webdriver.common.by import By

    log_in(offline_browser, live_server)
    offline_browser.get(f"{live_server.url}/api/redoc/")

    heading = offline_browser.find_element(By.CSS_SELECTOR, ".api-info h1").text
    operations = offline_browser.find_elements(By.CSS_SELECTOR, "[data-section-id^='operation/']")
    assert heading.startswith("Breakout rooms service")
    assert len(operations) > 10
    urls = requested_urls(offline_browser)
    assert [url for url in urls if url.startswith("http") and not url.startswith(live_server.url)] == []
