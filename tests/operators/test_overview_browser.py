"""The breakout overview in headless Chromium against a real server (gunicorn with uvicorn
workers, ASGI, as ``make serve`` runs it: the page's event stream needs the async tier):

- a student asks for assistance through the API and the open page shows it without reloading;
- the operator resets the request from the page, or claims it and the page shows "claimed by";
- Start, Stop, +5 min and Clear timer show according to the state, and Remove asks before it deletes.

Browser setup (Debian's chromium and chromium-driver, nothing downloaded): the `browser` fixture of conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import DEMO_PASSWORD, LiveServer, start_live_server
from tests.operators.conftest import CHROMEDRIVER, CHROMIUM, submit

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (requirements-dev.txt)")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason=f"headless browser tests need {CHROMIUM} and {CHROMEDRIVER} (apt-get install chromium chromium-driver)",
    ),
]

TEACHER = ("teacher", DEMO_PASSWORD)
STUDENT = ("student1", DEMO_PASSWORD)
V1 = "/ocs/v2.php/apps/spreed/api/v1"
V4 = "/ocs/v2.php/apps/spreed/api/v4"
WAIT_SECONDS = 15


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with start_live_server(tmp_path_factory, name="overview_browser") as live:
        yield live


def parent_state(server: LiveServer) -> tuple[int, int]:
    room = server.request("GET", f"{V4}/room/{server.token}", auth=TEACHER).data
    return room["breakoutRoomMode"], room["breakoutRoomStatus"]


def ensure(server: LiveServer, *, started: bool) -> None:
    """The demo class configured with two automatic rooms, started or stopped, through the API."""
    mode, status = parent_state(server)
    if mode == 0:
        answer = server.request(
            "POST", f"{V1}/breakout-rooms/{server.token}", auth=TEACHER, data={"mode": 1, "amount": 2}
        )
        assert answer.status == 200, answer.body
        status = 0
    if started and status != 1:
        assert server.request("POST", f"{V1}/breakout-rooms/{server.token}/rooms", auth=TEACHER).status == 200
    if not started and status == 1:
        assert server.request("DELETE", f"{V1}/breakout-rooms/{server.token}/rooms", auth=TEACHER).status == 200


def student_room(server: LiveServer) -> str:
    rooms = server.request("GET", f"{V4}/room", auth=STUDENT).data
    [mine] = [room["token"] for room in rooms if room.get("objectType") == "room" and room["objectId"] == server.token]
    return mine


def log_in_and_open_overview(driver: Any, server: LiveServer) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{server.url}/admin/")
    driver.find_element(By.ID, "id_username").send_keys("admin")
    driver.find_element(By.ID, "id_password").send_keys(DEMO_PASSWORD)
    submit(driver, driver.find_element(By.CSS_SELECTOR, "input[type=submit]"))
    submit(driver, driver.find_element(By.ID, "breakout-overview-link"))


def section(driver: Any, server: LiveServer) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, f"parent-{server.token}")


def buttons(driver: Any, server: LiveServer) -> set[str]:
    from selenium.webdriver.common.by import By

    names = {
        element.get_attribute("name")
        for element in section(driver, server).find_elements(By.CSS_SELECTOR, ".breakout-actions input[type=submit]")
    }
    if section(driver, server).find_elements(By.CSS_SELECTOR, "a.breakout-remove"):
        names.add("remove")
    return names


def test_assistance_requested_through_the_api_shows_without_a_reload_and_is_reset_from_the_page(
    server: LiveServer,
    browser: Any,  # noqa: F811 - the imported fixture
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    ensure(server, started=True)
    asking = student_room(server)
    log_in_and_open_overview(browser, server)
    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda driver: driver.find_element(By.ID, "breakout-overview-live").text == "live"
    )
    first_update = browser.find_element(By.CSS_SELECTOR, "#breakout-overview-updated time").get_attribute("datetime")
    browser.execute_script("window.loadedOnce = 'still the same page';")
    row_selector = f'tr.breakout-room.assistance[data-token="{asking}"]'
    assert browser.find_elements(By.CSS_SELECTOR, row_selector) == []

    answer = server.request("POST", f"{V1}/breakout-rooms/{asking}/request-assistance", auth=STUDENT)
    assert answer.status == 200, answer.body

    WebDriverWait(browser, WAIT_SECONDS).until(lambda driver: driver.find_elements(By.CSS_SELECTOR, row_selector))
    assert browser.execute_script("return window.loadedOnce;") == "still the same page"
    updated = browser.find_element(By.CSS_SELECTOR, "#breakout-overview-updated time").get_attribute("datetime")
    assert updated >= first_update
    assert "1 asking for assistance" in section(browser, server).text
    # The names in the room are there, collapsed.
    people = browser.find_element(By.CSS_SELECTOR, f"{row_selector} details.breakout-people")
    assert people.get_attribute("open") is None
    people.find_element(By.TAG_NAME, "summary").click()
    assert "student1" in people.text.lower() or "student 1" in people.text.lower()

    submit(browser, browser.find_element(By.CSS_SELECTOR, f"{row_selector} input[name=reset]"))

    assert (
        "Reset the assistance request of 1 conversation(s)"
        in browser.find_element(By.CSS_SELECTOR, "ul.messagelist li.success").text
    )
    assert browser.find_elements(By.CSS_SELECTOR, row_selector) == []
    room = server.request("GET", f"{V4}/room/{asking}", auth=TEACHER).data
    assert room["breakoutRoomStatus"] == 0


def test_operator_claims_an_assistance_request_from_the_page_and_the_page_shows_who_claimed(
    server: LiveServer,
    browser: Any,  # noqa: F811 - the imported fixture
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    ensure(server, started=True)
    asking = student_room(server)
    log_in_and_open_overview(browser, server)
    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda driver: driver.find_element(By.ID, "breakout-overview-live").text == "live"
    )
    row_selector = f'tr.breakout-room.assistance[data-token="{asking}"]'
    answer = server.request("POST", f"{V1}/breakout-rooms/{asking}/request-assistance", auth=STUDENT)
    assert answer.status == 200, answer.body
    WebDriverWait(browser, WAIT_SECONDS).until(lambda driver: driver.find_elements(By.CSS_SELECTOR, row_selector))
    cell = browser.find_element(By.CSS_SELECTOR, f"{row_selector} td.breakout-assistance")
    assert "student" in cell.find_element(By.CSS_SELECTOR, ".breakout-asker").text.lower()
    assert "claimed by" not in cell.text

    submit(browser, cell.find_element(By.CSS_SELECTOR, "input[name=claim]"))

    assert (
        "Claimed the assistance request of 1 conversation(s)"
        in browser.find_element(By.CSS_SELECTOR, "ul.messagelist li.success").text
    )
    cell = browser.find_element(By.CSS_SELECTOR, f"{row_selector} td.breakout-assistance")
    assert "claimed by" in cell.find_element(By.CSS_SELECTOR, ".breakout-claimed").text
    assert cell.find_elements(By.CSS_SELECTOR, "input[name=claim]") == []
    queue = server.request("GET", f"{V1}/breakout-rooms/{server.token}/assistance", auth=TEACHER).data
    assert [entry["claimedBy"] for entry in queue] == ["admin"]

    submit(browser, cell.find_element(By.CSS_SELECTOR, "input[name=reset]"))  # leave the room as it was
    assert browser.find_elements(By.CSS_SELECTOR, row_selector) == []


def test_start_and_stop_show_by_state_and_remove_asks_first(
    server: LiveServer,
    browser: Any,  # noqa: F811 - the imported fixture
) -> None:
    from selenium.webdriver.common.by import By

    ensure(server, started=False)
    log_in_and_open_overview(browser, server)

    assert buttons(browser, server) == {"start", "remove"}
    submit(browser, section(browser, server).find_element(By.CSS_SELECTOR, "input[name=start]"))
    assert buttons(browser, server) == {"stop", "extend", "remove"}
    assert parent_state(server) == (1, 1)
    assert "timer: none" in section(browser, server).text

    submit(browser, section(browser, server).find_element(By.CSS_SELECTOR, "input[name=extend]"))
    assert "5 more minutes" in browser.find_element(By.CSS_SELECTOR, "ul.messagelist li.success").text
    assert buttons(browser, server) == {"stop", "extend", "clear-timer", "remove"}
    assert "ends at" in section(browser, server).find_element(By.CSS_SELECTOR, ".breakout-timer").text
    room = server.request("GET", f"{V4}/room/{server.token}", auth=TEACHER).data
    assert room["breakoutRoomEndsAt"]  # the end the page shows is the API's

    submit(browser, section(browser, server).find_element(By.CSS_SELECTOR, "input[name=clear-timer]"))
    assert buttons(browser, server) == {"stop", "extend", "remove"}
    assert not server.request("GET", f"{V4}/room/{server.token}", auth=TEACHER).data.get("breakoutRoomEndsAt")

    submit(browser, section(browser, server).find_element(By.CSS_SELECTOR, "input[name=stop]"))
    assert buttons(browser, server) == {"start", "remove"}
    assert parent_state(server) == (1, 0)

    submit(browser, section(browser, server).find_element(By.CSS_SELECTOR, "a.breakout-remove"))
    assert browser.find_elements(By.ID, "breakout-remove-rooms")  # the confirmation page
    assert parent_state(server) == (1, 0)  # nothing removed yet
    submit(browser, browser.find_element(By.ID, "breakout-remove-confirm"))

    assert browser.find_elements(By.ID, f"parent-{server.token}") == []
    assert parent_state(server) == (0, 0)
