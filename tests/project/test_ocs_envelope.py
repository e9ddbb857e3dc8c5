"""The OCS envelope on every path under /ocs/: v2 and v1 semantics, errors, hostile input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from conversations.models import Conversation
from project.ocs.renderers import ocs_envelope, php_empty_maps
from tests.helpers import V4

V1_PREFIX = "/ocs/v1.php/apps/spreed/api/v4"
NOT_FOUND_V2 = {"ocs": {"meta": {"status": "failure", "statuscode": 404, "message": ""}, "data": []}}
NOT_FOUND_V1 = {
    "ocs": {
        "meta": {"status": "failure", "statuscode": 404, "message": "", "totalitems": "", "itemsperpage": ""},
        "data": [],
    }
}
UNKNOWN_ROUTE_MESSAGE = (
    "Invalid query, please check the syntax. API specifications are here:"
    " http://www.freedesktop.org/wiki/Specifications/open-collaboration-services.\n"
)
UNKNOWN_ROUTE_V2 = {
    "ocs": {"meta": {"status": "failure", "statuscode": 404, "message": UNKNOWN_ROUTE_MESSAGE}, "data": []}
}
UNKNOWN_ROUTE_V1 = {
    "ocs": {
        "meta": {
            "status": "failure",
            "statuscode": 998,
            "message": UNKNOWN_ROUTE_MESSAGE,
            "totalitems": "",
            "itemsperpage": "",
        },
        "data": [],
    }
}
UNAUTHORISED_V2 = {
    "ocs": {"meta": {"status": "failure", "statuscode": 997, "message": "Current user is not logged in"}, "data": []}
}


def basic(user: str, password: str) -> dict[str, str]:
    import base64

    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}", "HTTP_OCS_APIREQUEST": "true"}


# --- the envelope function itself -------------------------------------------------------------


@pytest.mark.parametrize(
    ("http_status", "v1", "expected_meta", "expected_wire"),
    [
        (200, False, {"status": "ok", "statuscode": 200, "message": "OK"}, 200),
        (201, False, {"status": "ok", "statuscode": 201, "message": "OK"}, 201),
        (400, False, {"status": "failure", "statuscode": 400, "message": ""}, 400),
        (401, False, {"status": "failure", "statuscode": 997, "message": ""}, 401),
        (200, True, {"status": "ok", "statuscode": 100, "message": "OK", "totalitems": "", "itemsperpage": ""}, 200),
        # Nextcloud's V1Response: only 200 becomes 100 ("ok"); a 201 keeps its code and reads "failure".
        (201, True, {"status": "failure", "statuscode": 201, "message": "", "totalitems": "", "itemsperpage": ""}, 200),
        (404, True, {"status": "failure", "statuscode": 404, "message": "", "totalitems": "", "itemsperpage": ""}, 200),
        (401, True, {"status": "failure", "statuscode": 997, "message": "", "totalitems": "", "itemsperpage": ""}, 401),
    ],
)
def test_envelope_follows_nextclouds_v1_and_v2_response_semantics(
    http_status: int, v1: bool, expected_meta: dict[str, Any], expected_wire: int
) -> None:
    body, wire = ocs_envelope({"a": 1}, http_status=http_status, message=None, v1=v1)

    assert body == {"ocs": {"meta": expected_meta, "data": {"a": 1}}}
    assert wire == expected_wire


def test_empty_maps_are_written_as_empty_lists_at_every_depth() -> None:
    assert php_empty_maps({"a": {}, "b": [{"c": {}}], "d": {"e": 1}}) == {"a": [], "b": [{"c": []}], "d": {"e": 1}}
    assert php_empty_maps({}) == []


# --- over HTTP ----------------------------------------------------------------------------------


def test_success_is_the_ok_envelope_with_json_content_type(client_for: Any, room: Conversation, owner: User) -> None:
    response = client_for(owner).get(f"{V4}/room")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json()["ocs"]["meta"] == {"status": "ok", "statuscode": 200, "message": "OK"}


def test_v1_success_is_http_200_with_statuscode_100(client_for: Any, room: Conversation, owner: User) -> None:
    response = client_for(owner).get(f"{V1_PREFIX}/room")

    assert response.status_code == 200
    assert response.json()["ocs"]["meta"] == {
        "status": "ok",
        "statuscode": 100,
        "message": "OK",
        "totalitems": "",
        "itemsperpage": "",
    }
    assert [r["token"] for r in response.json()["ocs"]["data"]] == [room.token]


def test_v1_not_found_is_http_200_with_statuscode_404(client_for: Any, outsider: User, room: Conversation) -> None:
    response = client_for(outsider).get(f"{V1_PREFIX}/room/{room.token}")

    assert response.status_code == 200
    assert response.json() == NOT_FOUND_V1


def test_v1_unauthorised_stays_http_401(anonymous_client: APIClient, db: None) -> None:
    response = anonymous_client.get(f"{V1_PREFIX}/room")

    assert response.status_code == 401
    assert response.json()["ocs"]["meta"]["statuscode"] == 997


def test_anonymous_request_gets_the_whole_401_body(anonymous_client: APIClient, db: None) -> None:
    response = anonymous_client.get(f"{V4}/room")

    assert response.status_code == 401
    assert response.json() == UNAUTHORISED_V2
    assert "WWW-Authenticate" not in response


def test_unknown_token_and_a_room_of_others_answer_the_same_404(
    client_for: Any, outsider: User, room: Conversation
) -> None:
    client = client_for(outsider)

    foreign = client.get(f"{V4}/room/{room.token}")
    unknown = client.get(f"{V4}/room/zzzzzzzzzz")

    assert foreign.status_code == unknown.status_code == 404
    assert foreign.json() == unknown.json() == NOT_FOUND_V2


@pytest.mark.parametrize(
    "path",
    [
        "/ocs/v2.php/apps/spreed/api/v4/room/UPPER",
        "/ocs/v2.php/apps/spreed/api/v4/room/%ff%fe",
        "/ocs/v2.php/apps/spreed/api/v4/room/ZZZ/participants",
        "/ocs/v2.php/apps/spreed/api/v1/chat/a_b",
    ],
)
def test_tokens_outside_the_route_pattern_answer_the_plain_404(anonymous_client: APIClient, path: str) -> None:
    response = anonymous_client.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json() == NOT_FOUND_V2


@pytest.mark.parametrize(
    "path",
    [
        "/ocs/v2.php/apps/spreed/api/v9/room",
        "/ocs/v2.php/apps/spreed/api/v1/no-such-feature/abcd1234/12",
        "/ocs/v2.php/apps/spreed/api/v4/room/abcd1234/nothing",
        "/ocs/v2.php/",
        "/ocs/v3.php/anything",
        "/ocs/",
    ],
)
def test_unknown_routes_under_ocs_answer_as_nextcloud_does(anonymous_client: APIClient, path: str) -> None:
    response = anonymous_client.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json() == UNKNOWN_ROUTE_V2


def test_unknown_route_under_v1_answers_statuscode_998(anonymous_client: APIClient) -> None:
    response = anonymous_client.get("/ocs/v1.php/nothing/here")

    assert response.status_code == 200
    assert response.json() == UNKNOWN_ROUTE_V1


def test_post_to_an_unknown_route_is_not_stopped_by_csrf_html(db: None) -> None:
    response = Client(enforce_csrf_checks=True).post("/ocs/v2.php/nothing", {"a": "b"})

    assert response.status_code == 404
    assert response.json() == UNKNOWN_ROUTE_V2


def test_wrong_method_is_405_in_the_envelope(client_for: Any, owner: User, db: None) -> None:
    response = client_for(owner).patch("/ocs/v2.php/cloud/capabilities")

    assert response.status_code == 405
    assert response.json()["ocs"]["meta"]["statuscode"] == 405
    assert response.json()["ocs"]["meta"]["status"] == "failure"


@pytest.mark.parametrize("accept", ["application/xml", "text/html", "image/png", "*/*", ""])
def test_any_accept_header_gets_json(client_for: Any, owner: User, accept: str) -> None:
    response = client_for(owner).get("/ocs/v2.php/cloud/user", HTTP_ACCEPT=accept)

    assert response.status_code == 200
    assert response.json()["ocs"]["data"]["id"] == "owner"


@pytest.mark.parametrize("fmt", ["json", "xml", "nonsense"])
def test_format_query_parameter_never_breaks_the_json_answer(client_for: Any, owner: User, fmt: str) -> None:
    response = client_for(owner).get(f"/ocs/v2.php/cloud/user?format={fmt}")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"roomName": ', "application/json"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json"),
        (b'{"roomName": "\xff\xfe"}', "application/json"),
        (b"\xff\xfe=\xff", "application/x-www-form-urlencoded"),
        (b"<xml/>", "application/xml"),
        (b"raw", "text/plain"),
        (b"--x\r\nbroken", "multipart/form-data; boundary=x"),
        (b"", "application/json"),
        (b'{"roomName": ' + b"9" * 10_000 + b"}", "application/json"),
        (b'{"roomName": 1e400}', "application/json"),
        (b'{"roomName": NaN}', "application/json"),
        (b'{"roomName": "lone \\ud800 surrogate"}', "application/json"),
        (b'{"roomName": "ok", "\\udfff": 1}', "application/json"),
    ],
)
def test_hostile_bodies_never_cause_a_server_error(
    client_for: Any, room: Conversation, owner: User, body: bytes, content_type: str
) -> None:
    response = client_for(owner).put(f"{V4}/room/{room.token}", data=body, content_type=content_type)

    assert response.status_code < 500
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert set(response.json()["ocs"]) == {"meta", "data"}


def test_a_body_above_the_limit_is_413_before_it_is_read(
    client_for: Any, room: Conversation, owner: User, settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = json.dumps({"roomName": "x" * 2000})

    response = client_for(owner).put(f"{V4}/room/{room.token}", data=body, content_type="application/json")

    assert response.status_code == 413
    assert response.json() == {
        "ocs": {"meta": {"status": "failure", "statuscode": 413, "message": "Request body too large"}, "data": []}
    }
    room.refresh_from_db()
    assert room.name == "Class"


def test_too_many_form_fields_is_400_not_500(client_for: Any, room: Conversation, owner: User, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    body = "&".join(f"f{i}=1" for i in range(50))

    response = client_for(owner).put(
        f"{V4}/room/{room.token}", data=body, content_type="application/x-www-form-urlencoded"
    )

    assert 400 <= response.status_code < 500


def test_an_unexpected_error_is_a_500_envelope_not_html(
    client_for: Any, owner: User, monkeypatch: pytest.MonkeyPatch, db: None
) -> None:
    def explode(**kwargs: Any) -> dict:
        raise RuntimeError("boom")

    monkeypatch.setattr("accounts.views.talk_capabilities", explode)
    client = client_for(owner)
    client.raise_request_exception = False

    response = client.get("/ocs/v2.php/cloud/capabilities")

    assert response.status_code == 500
    assert response.json() == {
        "ocs": {"meta": {"status": "failure", "statuscode": 500, "message": "Internal Server Error"}, "data": []}
    }


def test_django_404_handler_answers_in_the_envelope_under_ocs(rf: Any) -> None:
    from django.http import Http404

    from project.ocs.fallback import handler404, handler500

    response = handler404(rf.get("/ocs/v2.php/x"), Http404())
    assert response.status_code == 404
    assert json.loads(response.content) == NOT_FOUND_V2
    assert handler500(rf.get("/ocs/v1.php/x")).status_code == 200  # v1: HTTP 200, statuscode 500
    assert json.loads(handler500(rf.get("/ocs/v1.php/x")).content)["ocs"]["meta"]["statuscode"] == 500


def test_django_handlers_keep_html_outside_ocs(rf: Any, db: None) -> None:
    from django.http import Http404

    from project.ocs.fallback import handler404

    response = handler404(rf.get("/elsewhere"), Http404())

    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_disallowed_host_under_ocs_is_a_400_envelope(db: None) -> None:
    response = Client(HTTP_HOST="evil.example").get("/ocs/v2.php/cloud/capabilities")

    assert response.status_code == 400
    assert response.json()["ocs"]["meta"]["statuscode"] == 400


@pytest.mark.parametrize(
    "query",
    ["modifiedSince=%ff%fe", "modifiedSince=%", "modifiedSince=%zz", "a=%00", "=&&==", "modifiedSince=" + "9" * 5000],
)
def test_malformed_query_strings_never_cause_a_server_error(
    client_for: Any, room: Conversation, owner: User, query: str
) -> None:
    response = client_for(owner).get(f"{V4}/room?{query}")

    assert response.status_code < 500
    assert set(response.json()["ocs"]) == {"meta", "data"}


def test_the_envelope_carries_the_callers_rooms_as_data(client_for: Any, room: Conversation, student: User) -> None:
    # Merged from the former test_room_api_smoke.py: the data of a success is the caller's view.
    response = client_for(student).get(f"{V4}/room")

    assert [r["token"] for r in response.json()["ocs"]["data"]] == [room.token]
    assert response.json()["ocs"]["data"][0]["participantType"] == 3
