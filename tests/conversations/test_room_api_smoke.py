from __future__ import annotations

from collections.abc import Callable

from rest_framework.test import APIClient

from conversations.models import Conversation, User
from tests.conftest import V4, ocs_data


def test_room_list_returns_the_callers_conversations_in_the_ocs_envelope(
    client_for: Callable[[User], APIClient], room: Conversation, student: User
) -> None:
    response = client_for(student).get(f"{V4}/room")

    assert response.status_code == 200
    body = response.json()
    assert body["ocs"]["meta"] == {"status": "ok", "statuscode": 200, "message": "OK"}
    assert [r["token"] for r in ocs_data(response)] == [room.token]
    assert ocs_data(response)[0]["participantType"] == 3


def test_unknown_route_under_ocs_answers_404_in_the_envelope(anonymous_client: APIClient) -> None:
    response = anonymous_client.get("/ocs/v2.php/apps/spreed/api/v9/nothing")

    assert response.status_code == 404
    assert response.json() == {
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


def test_anonymous_request_gets_401_with_statuscode_997(anonymous_client: APIClient, db: None) -> None:
    response = anonymous_client.get(f"{V4}/room")

    assert response.status_code == 401
    assert response.json()["ocs"]["meta"]["statuscode"] == 997
