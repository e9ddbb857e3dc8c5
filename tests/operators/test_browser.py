"""The operators' flow in a real browser: log into the admin, open the breakout overview from
the admin index, press "Start" on a parent and see it started, in the page and in the database.

Drives Debian's headless Chromium (packages ``chromium`` and ``chromium-driver``); never
downloads a browser. Skipped, with the reason, where either binary is missing.
"""

from __future__ import annotations

from typing import Any

import pytest

from conversations.models import Conversation
from tests.factories import UserFactory
from tests.operators.conftest import ParentMaker, submit

pytestmark = pytest.mark.browser

PASSWORD = "operator-secret"


def test_operator_starts_breakout_rooms_from_the_overview_page(
    transactional_db: None, live_server: Any, browser: Any, make_parent: ParentMaker
) -> None:
    from selenium.webdriver.common.by import By

    UserFactory(username="root", is_staff=True, is_superuser=True, password=PASSWORD)
    parent = make_parent(students=3, rooms=2)
    other = make_parent(students=1, rooms=1)

    browser.get(f"{live_server.url}/admin/")
    browser.find_element(By.ID, "id_username").send_keys("root")
    browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
    submit(browser, browser.find_element(By.CSS_SELECTOR, "input[type=submit]"))
    submit(browser, browser.find_element(By.ID, "breakout-overview-link"))

    section = browser.find_element(By.ID, f"parent-{parent.token}")
    assert section.find_element(By.CLASS_NAME, "breakout-status").text == "stopped"
    assert len(section.find_elements(By.CSS_SELECTOR, "tr.breakout-room")) == 2
    submit(browser, section.find_element(By.CSS_SELECTOR, "input[name=start]"))

    message = browser.find_element(By.CSS_SELECTOR, "ul.messagelist li.success").text
    assert f"Started 1 conversation(s): {parent.token}." in message
    section = browser.find_element(By.ID, f"parent-{parent.token}")
    assert section.find_element(By.CLASS_NAME, "breakout-status").text == "started"
    assert [cell.text for cell in section.find_elements(By.CSS_SELECTOR, "tr.breakout-room td:nth-child(4)")] == [
        "open",
        "open",
    ]
    other_section = browser.find_element(By.ID, f"parent-{other.token}")
    assert other_section.find_element(By.CLASS_NAME, "breakout-status").text == "stopped"

    parent.refresh_from_db()
    other.refresh_from_db()
    assert parent.breakout_room_status == Conversation.BreakoutStatus.STARTED
    assert set(parent.breakout_rooms.values_list("lobby_state", flat=True)) == {Conversation.Lobby.NONE}
    assert other.breakout_room_status == Conversation.BreakoutStatus.STOPPED
