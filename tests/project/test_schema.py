"""The OpenAPI schema is served and covers the endpoints that exist."""

from __future__ import annotations

from django.test import Client

# Every documented route, written out: a route that disappears (or loses its documentation)
# fails the test, whatever the URLconf says.
EXPECTED_PATHS = [
    "/ocs/v2.php/cloud/capabilities",
    "/ocs/v2.php/cloud/user",
    "/ocs/v2.php/core/getapppassword",
    "/ocs/v2.php/apps/spreed/api/v4/room",
    "/ocs/v2.php/apps/spreed/api/v4/room/{token}",
    "/ocs/v2.php/apps/spreed/api/v1/breakout-rooms/{token}",
    "/ocs/v2.php/apps/spreed/api/v1/breakout-rooms/{token}/rooms",
    "/ocs/v2.php/apps/spreed/api/v1/breakout-rooms/{token}/broadcast",
    "/ocs/v2.php/apps/spreed/api/v1/breakout-rooms/{token}/attendees",
    "/ocs/v2.php/apps/spreed/api/v1/breakout-rooms/{token}/request-assistance",
    "/ocs/v2.php/apps/spreed/api/v1/breakout-rooms/{token}/switch",
    "/ocs/v2.php/apps/spreed/api/v1/breakout-rooms/{token}/shuffle",
    "/ocs/v2.php/apps/spreed/api/v1/breakout-rooms/{token}/history",
    "/ocs/v2.php/apps/spreed/api/v1/breakout-rooms/{token}/timer",
    "/ocs/v2.php/apps/spreed/api/v1/breakout-rooms/{token}/open",
    "/ocs/v2.php/apps/spreed/api/v1/breakout-rooms/{token}/assistance",
    "/ocs/v2.php/apps/spreed/api/v1/breakout-rooms/{token}/assistance/claim",
    "/ocs/v2.php/apps/spreed/api/v1/breakout-rooms/{token}/templates",
    "/ocs/v2.php/apps/spreed/api/v1/breakout-rooms/{token}/templates/{template_id}",
    "/ocs/v2.php/apps/spreed/api/v1/breakout-rooms/{token}/templates/{template_id}/apply",
    "/ocs/v2.php/apps/spreed/api/v4/room/{token}/breakout-rooms",
    "/ocs/v2.php/apps/spreed/api/v4/room/{token}/breakout-rooms/participants",
    "/ocs/v2.php/apps/spreed/api/v1/chat/{token}",
    "/ocs/v2.php/apps/spreed/api/v1/bot/admin",
    "/ocs/v2.php/apps/spreed/api/v1/bot/{token}",
    "/ocs/v2.php/apps/spreed/api/v1/bot/{token}/{bot_id}",
    "/ocs/v2.php/apps/spreed/api/v1/bot/{token}/message",
    "/ocs/v2.php/apps/spreed/api/v1/bot/{token}/reaction/{message_id}",
]


def test_the_schema_is_served_and_lists_every_endpoint(db: None) -> None:
    response = Client().get("/api/schema/?format=json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    missing = [path for path in EXPECTED_PATHS if path not in paths]
    assert missing == []


def test_the_schema_documents_the_catch_all_nowhere(db: None) -> None:
    paths = Client().get("/api/schema/?format=json").json()["paths"]

    assert not [path for path in paths if "(" in path or "*" in path]


def test_the_swagger_ui_is_served(db: None) -> None:
    assert Client().get("/api/docs/").status_code == 200


def test_each_ocs_route_is_documented_once_under_v2(db: None) -> None:
    paths = Client().get("/api/schema/?format=json").json()["paths"]

    assert [path for path in paths if path.startswith("/ocs/v1.php/")] == []


def test_the_schema_validates_without_warnings(db: None) -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out, stderr=StringIO())

    assert "openapi: 3" in out.getvalue()


def test_operation_ids_are_unique_and_derived_from_the_path_outside_breakout_rooms(db: None) -> None:
    schema = Client().get("/api/schema/?format=json").json()
    ids = [op["operationId"] for methods in schema["paths"].values() for op in methods.values() if "operationId" in op]

    assert len(ids) == len(set(ids))
    assert "cloud_capabilities_get" in ids
    assert "apps_spreed_api_v4_room_by_token_get" in ids


def _schema() -> dict:
    return Client().get("/api/schema/?format=json").json()


def _body_schema(schema: dict, operation: dict, media_type: str) -> dict:
    ref = operation["requestBody"]["content"][media_type]["schema"]["$ref"]
    return schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def _operation(schema: dict, operation_id: str) -> dict:
    for methods in schema["paths"].values():
        for operation in methods.values():
            if operation.get("operationId") == operation_id:
                return operation
    raise AssertionError(f"no operation {operation_id}")


def test_breakout_operations_carry_the_talk_operation_ids(db: None) -> None:
    paths = _schema()["paths"]
    v1 = "/ocs/v2.php/apps/spreed/api/v1/breakout-rooms/{token}"
    v4 = "/ocs/v2.php/apps/spreed/api/v4/room/{token}/breakout-rooms"

    ids = {
        (method, path.removeprefix(v1).removeprefix(v4) or "/"): operation["operationId"]
        for path, methods in paths.items()
        if path.startswith((v1, v4))
        for method, operation in methods.items()
    }

    assert ids == {
        ("post", "/"): "breakout_room-configure-breakout-rooms",
        ("delete", "/"): "breakout_room-remove-breakout-rooms",
        ("post", "/rooms"): "breakout_room-start-breakout-rooms",
        ("delete", "/rooms"): "breakout_room-stop-breakout-rooms",
        ("post", "/broadcast"): "breakout_room-broadcast-chat-message",
        ("post", "/attendees"): "breakout_room-apply-attendee-map",
        ("post", "/request-assistance"): "breakout_room-request-assistance",
        ("delete", "/request-assistance"): "breakout_room-reset-request-for-assistance",
        ("post", "/switch"): "breakout_room-switch-breakout-room",
        ("post", "/shuffle"): "breakout_room-shuffle",
        ("get", "/history"): "breakout_room-history",
        ("put", "/timer"): "breakout_room-timer-set",
        ("delete", "/timer"): "breakout_room-timer-clear",
        ("post", "/open"): "breakout_room-open-one",
        ("delete", "/open"): "breakout_room-close-one",
        ("get", "/assistance"): "breakout_room-assistance-queue",
        ("post", "/assistance/claim"): "breakout_room-assistance-claim",
        ("get", "/templates"): "breakout_room-template-list",
        ("post", "/templates"): "breakout_room-template-save",
        ("delete", "/templates/{template_id}"): "breakout_room-template-delete",
        ("post", "/templates/{template_id}/apply"): "breakout_room-template-apply",
        ("get", "/"): "room-get-breakout-rooms",
        ("get", "/participants"): "room-get-breakout-room-participants",
    }


def test_configure_documents_mode_amount_and_attendee_map_as_json_and_form(db: None) -> None:
    schema = _schema()
    configure = _operation(schema, "breakout_room-configure-breakout-rooms")

    assert set(configure["requestBody"]["content"]) == {"application/json", "application/x-www-form-urlencoded"}
    body = _body_schema(schema, configure, "application/x-www-form-urlencoded")
    assert body == _body_schema(schema, configure, "application/json")
    assert sorted(body["required"]) == ["amount", "mode"]
    properties = body["properties"]
    mode_ref = properties["mode"]["$ref"].rsplit("/", 1)[-1]
    assert schema["components"]["schemas"][mode_ref]["enum"] == [1, 2, 3]
    assert schema["components"]["schemas"][mode_ref]["type"] == "integer"
    assert (properties["amount"]["type"], properties["amount"]["minimum"], properties["amount"]["maximum"]) == (
        "integer",
        1,
        20,
    )
    assert (properties["attendeeMap"]["type"], properties["attendeeMap"]["default"]) == ("string", "[]")
    assert set(configure["responses"]) == {"200", "400"}


def test_broadcast_documents_its_message_and_the_201_and_413_answers(db: None) -> None:
    schema = _schema()
    broadcast = _operation(schema, "breakout_room-broadcast-chat-message")

    body = _body_schema(schema, broadcast, "application/json")
    assert body["required"] == ["message"]
    assert body["properties"]["message"]["type"] == "string"
    assert set(broadcast["responses"]) == {"201", "400", "413"}


def test_every_token_path_parameter_carries_the_route_pattern(db: None) -> None:
    schema = _schema()

    patterns = {
        parameter["schema"].get("pattern")
        for methods in schema["paths"].values()
        for operation in methods.values()
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "path" and parameter["name"] == "token"
    }

    assert patterns == {"^[a-z0-9]{4,30}$"}


def test_query_parameters_of_get_and_delete_are_documented(db: None) -> None:
    paths = _schema()["paths"]

    def query(path: str, method: str) -> dict[str, dict]:
        parameters = paths[f"/ocs/v2.php/apps/spreed/api/{path}"][method]["parameters"]
        return {parameter["name"]: parameter for parameter in parameters if parameter["in"] == "query"}

    assert set(query("v1/chat/{token}", "get")) == {"lookIntoFuture", "limit", "lastKnownMessageId", "timeout"}
    assert query("v4/room/{token}/attendees", "delete")["attendeeId"]["required"] is True
    assert query("v4/room/{token}/attendees", "delete")["attendeeId"]["schema"]["type"] == "integer"
    assert query("v4/room/{token}/breakout-rooms/participants", "get")["includeStatus"]["schema"]["type"] == "boolean"
    assert set(query("v4/room", "get")) == {"modifiedSince"}


def test_every_write_operation_with_parameters_accepts_json_and_form_bodies(db: None) -> None:
    paths = _schema()["paths"]

    upload = "/ocs/v2.php/apps/spreed/api/v1/room/{token}/avatar"  # a file: multipart only, as in Talk
    media_types = {
        frozenset(operation["requestBody"]["content"])
        for path, methods in paths.items()
        for method, operation in methods.items()
        if "requestBody" in operation and (method, path) != ("post", upload)
    }
    with_body = [
        f"{method} {path}" for path, methods in paths.items() for method, op in methods.items() if "requestBody" in op
    ]

    assert media_types == {frozenset({"application/json", "application/x-www-form-urlencoded"})}
    assert set(paths[upload]["post"]["requestBody"]["content"]) == {"multipart/form-data"}
    file_schema = paths[upload]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert file_schema["properties"]["file"]["format"] == "binary"
    # Talk + shuffle, template save and apply + the Talk surface of issue 10 + start with a duration
    # and the timer's PUT (issue 11) + the picture upload + the bots' message and reaction of
    # issue 13 (removing a reaction takes it in the query, as DELETEs do)
    assert len(with_body) == 14 + 3 + 12 + 2 + 1 + 2


def test_every_operation_documents_the_ocs_api_request_header(db: None) -> None:
    paths = _schema()["paths"]

    # Requests of bots carry their signature headers besides (tests/bots).
    bot_signature = ("X-Nextcloud-Talk-Bot-Random", "X-Nextcloud-Talk-Bot-Signature")
    headers = [
        [p for p in operation["parameters"] if p["in"] == "header" and p["name"] not in bot_signature]
        for methods in paths.values()
        for operation in methods.values()
    ]
    signed = paths["/ocs/v2.php/apps/spreed/api/v1/bot/{token}/message"]["post"]["parameters"]
    assert {p["name"] for p in signed if p["in"] == "header"} >= set(bot_signature)

    assert all(
        [(h["name"], h["schema"]["type"], h["schema"]["default"]) for h in header]
        == [("OCS-APIRequest", "boolean", True)]
        for header in headers
    )


def test_the_issue_11_parameters_are_documented(db: None) -> None:
    schema = _schema()
    paths = schema["paths"]
    base = "/ocs/v2.php/apps/spreed/api/v1/breakout-rooms/{token}"

    def body_fields(path: str, method: str) -> set[str]:
        return set(_body_schema(schema, paths[path][method], "application/json")["properties"])

    stop_query = {p["name"] for p in paths[f"{base}/rooms"]["delete"]["parameters"] if p["in"] == "query"}
    assert "grace" in stop_query
    assert "duration" in body_fields(f"{base}/rooms", "post")
    assert "duration" in body_fields(f"{base}/timer", "put")
    assert "names" in body_fields(base, "post")
    assert "409" in paths[f"{base}/assistance/claim"]["post"]["responses"]
