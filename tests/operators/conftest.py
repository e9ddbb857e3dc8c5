"""Fixtures for the operator tools: configured breakout trees and headless Chromium (the
operator and their client: tests/conftest.py)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from breakout.services.lifecycle import breakout_configure
from conversations.models import Attendee, Conversation
from tests.factories import AttendeeFactory, ConversationFactory, UserFactory

ParentMaker = Callable[..., Conversation]


@pytest.fixture
def make_parent(db: None) -> ParentMaker:
    """A parent conversation with an owner and ``students`` students, configured (through the
    service) with ``rooms`` breakout rooms in ``mode`` (students spread automatically)."""
    counter = iter(range(10_000))

    def make(*, students: int = 2, rooms: int = 2, mode: int = Conversation.BreakoutMode.AUTOMATIC) -> Conversation:
        number = next(counter)
        parent = ConversationFactory(name=f"Class {number}")
        teacher = UserFactory(username=f"teacher{number}")
        AttendeeFactory(room=parent, user=teacher, participant_type=Attendee.ParticipantType.OWNER)
        for index in range(students):
            AttendeeFactory(room=parent, user=UserFactory(username=f"pupil{number}-{index}"))
        breakout_configure(actor=teacher, parent=parent, mode=mode, amount=rooms, attendee_map={})
        parent.refresh_from_db()
        return parent

    return make


CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


def _chromium(monkeypatch: pytest.MonkeyPatch, *, offline: bool, implicit_wait: int) -> Iterator[Any]:
    """Debian's headless Chromium (packages ``chromium`` and ``chromium-driver``), never a
    downloaded browser; the test is skipped, with the reason, where either is missing.

    ``offline``: the only reachable host is this machine (every other name fails to resolve and
    every other address goes to a proxy that does not exist; loopback bypasses proxies), and the
    network log is kept so that a test can list what the pages asked for."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip(
            f"headless browser tests need {CHROMIUM} and {CHROMEDRIVER} (apt-get install chromium chromium-driver)"
        )
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (requirements-dev.txt)")
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    # Selenium Manager must not fetch anything: the binaries are given explicitly.
    monkeypatch.setenv("SE_OFFLINE", "true")
    profile = tempfile.mkdtemp(prefix="ops-chromium-")
    options = Options()
    options.binary_location = str(CHROMIUM)
    arguments = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1024",
        f"--user-data-dir={profile}",
    ]
    if offline:
        arguments += ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost", "--proxy-server=http://127.0.0.1:9"]
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    for argument in arguments:
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.implicitly_wait(implicit_wait)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def submit(driver: Any, element: Any, *, timeout: float = 15) -> None:
    """Click ``element`` (a submit button or a link) and wait until the browser has left the page:
    under load the click can return before the navigation starts, and the next lookup would
    otherwise read the old page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    page = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, timeout).until(expected_conditions.staleness_of(page))


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    yield from _chromium(monkeypatch, offline=False, implicit_wait=5)


@pytest.fixture
def offline_browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    yield from _chromium(monkeypatch, offline=True, implicit_wait=10)
