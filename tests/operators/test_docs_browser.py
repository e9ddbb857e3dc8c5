"""An operator logged into the admin opens the API docs in a browser that can reach nothing
but this server: Swagger UI and ReDoc render the operations from their bundled assets.

Drives Debian's headless Chromium like test_browser.py; skipped where it is missing.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.browser

PASSWORD = "operator-secret"


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
