"""End to end over real HTTP: gunicorn with 2 workers, Basic auth, urllib."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.conftest import DEMO_PASSWORD, STUDENTS, LiveServer

pytestmark = pytest.mark.e2e

TEACHER = ("teacher", DEMO_PASSWORD)
V4 = "/ocs/v2.php/apps/spreed/api/v4"
V1 = "/ocs/v2.php/apps/spreed/api/v1"


@pytest.fixture(scope="module")
def teacher_app_password(live_server_e2e: LiveServer) -> tuple[str, str]:
    answer = live_server_e2e.request("GET", "/ocs/v2.php/core/getapppassword", auth=TEACHER)
    assert answer.status == 200
    return ("teacher", answer.data["apppassword"])


def test_capabilities_answer_anonymously_in_the_envelope(live_server_e2e: LiveServer) -> None:
    answer = live_server_e2e.request("GET", "/ocs/v2.php/cloud/capabilities")

    assert answer.status == 200
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
    assert answer.meta == {"status": "ok", "statuscode": 200, "message": "OK"}
    spreed = answer.data["capabilities"]["spreed"]
    assert "breakout-rooms-v1" in spreed["features"]
    assert spreed["config"]["call"]["breakout-rooms"] is True


def test_the_teacher_sees_the_seeded_class_with_its_students(live_server_e2e: LiveServer) -> None:
    rooms = live_server_e2e.request("GET", f"{V4}/room", auth=TEACHER)
    participants = live_server_e2e.request("GET", f"{V4}/room/{live_server_e2e.token}/participants", auth=TEACHER)

    assert rooms.status == 200
    assert live_server_e2e.token in [room["token"] for room in rooms.data]
    assert participants.status == 200
    assert len(participants.data) == STUDENTS + 1


def test_the_v1_alias_answers_with_v1_semantics(live_server_e2e: LiveServer) -> None:
    ok = live_server_e2e.request("GET", "/ocs/v1.php/apps/spreed/api/v4/room", auth=TEACHER)
    missing = live_server_e2e.request("GET", "/ocs/v1.php/apps/spreed/api/v4/room/zzzzzzzz", auth=TEACHER)

    assert (ok.status, ok.meta["statuscode"]) == (200, 100)
    assert (missing.status, missing.meta["statuscode"]) == (200, 404)


def test_wrong_credentials_are_401_with_statuscode_997(live_server_e2e: LiveServer) -> None:
    answer = live_server_e2e.request("GET", f"{V4}/room", auth=("teacher", "wrong"))

    assert answer.status == 401
    assert answer.meta["statuscode"] == 997
    assert "WWW-Authenticate" not in answer.headers


def test_an_unknown_route_is_a_404_envelope_not_html(live_server_e2e: LiveServer) -> None:
    answer = live_server_e2e.request("POST", "/ocs/v2.php/no/such/route", auth=TEACHER, data={"a": "b"})

    assert answer.status == 404
    assert answer.body == {
        "ocs": {
            "meta": {
                "status": "failure",
                "statuscode": 404,
                # Nextcloud's own answer to an unknown OCS route (issue 10)
                "message": "Invalid query, please check the syntax. API specifications are here:"
                " http://www.freedesktop.org/wiki/Specifications/open-collaboration-services.\n",
            },
            "data": [],
        }
    }


def test_an_app_password_works_and_cannot_issue_another(
    live_server_e2e: LiveServer, teacher_app_password: tuple[str, str]
) -> None:
    me = live_server_e2e.request("GET", "/ocs/v2.php/cloud/user", auth=teacher_app_password)
    again = live_server_e2e.request("GET", "/ocs/v2.php/core/getapppassword", auth=teacher_app_password)

    assert me.status == 200
    assert me.data["id"] == "teacher"
    assert again.status == 403


def test_a_student_sees_the_class_but_cannot_configure_breakout_rooms(live_server_e2e: LiveServer) -> None:
    student = ("student1", DEMO_PASSWORD)

    rooms = live_server_e2e.request("GET", f"{V4}/room", auth=student)
    configure = live_server_e2e.request(
        "POST", f"{V1}/breakout-rooms/{live_server_e2e.token}", auth=student, data={"mode": 1, "amount": 2}
    )

    assert [room["token"] for room in rooms.data] == [live_server_e2e.token]
    assert configure.status == 403


def test_breakout_rooms_configure_start_list_stop(
    live_server_e2e: LiveServer, teacher_app_password: tuple[str, str]
) -> None:
    token = live_server_e2e.token
    auth = teacher_app_password

    configure = live_server_e2e.request(
        "POST", f"{V1}/breakout-rooms/{token}", auth=auth, data={"mode": 1, "amount": 3}
    )
    assert configure.status == 200, configure.body
    assert len(configure.data) == 4  # three breakout rooms and the parent

    start = live_server_e2e.request("POST", f"{V1}/breakout-rooms/{token}/rooms", auth=auth)
    assert start.status == 200
    listing = live_server_e2e.request("GET", f"{V4}/room/{token}/breakout-rooms", auth=auth)
    assert listing.status == 200
    assert len(listing.data) == 3
    assert all(room["objectId"] == token for room in listing.data)

    stop = live_server_e2e.request("DELETE", f"{V1}/breakout-rooms/{token}/rooms", auth=auth)
    assert stop.status == 200
    parent = live_server_e2e.request("GET", f"{V4}/room/{token}", auth=auth)
    assert parent.data["breakoutRoomStatus"] == 0

    removed = live_server_e2e.request("DELETE", f"{V1}/breakout-rooms/{token}", auth=auth)
    assert removed.status == 200
    assert removed.data["breakoutRoomMode"] == 0


def test_concurrent_writes_from_both_workers_never_hit_database_is_locked(
    live_server_e2e: LiveServer, teacher_app_password: tuple[str, str]
) -> None:
    def create(n: int) -> int:
        answer = live_server_e2e.request(
            "POST", f"{V4}/room", auth=teacher_app_password, data={"roomType": 2, "roomName": f"Parallel {n}"}
        )
        return answer.status

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(create, range(40)))

    assert statuses == [201] * 40
    rooms = live_server_e2e.request("GET", f"{V4}/room", auth=teacher_app_password)
    assert len([room for room in rooms.data if room["name"].startswith("Parallel ")]) == 40
    log = live_server_e2e.log.read_text()
    assert "database is locked" not in log
    assert "Traceback" not in log
