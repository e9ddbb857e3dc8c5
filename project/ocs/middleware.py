"""Guards that must act before (or around) the view.

- ``CharsetMiddleware`` (first): a ``Content-Type`` charset that is not a text encoding
  (``base64``, ``rot13``, ``hex``, ``zlib``) or not an encoding at all is refused with 415 when
  the request has a body, and ignored when it has none (see also ``project.wsgi``).
- ``OCSMiddleware``:
  - bodies larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (a conversation picture:
    ``AVATAR_MAX_UPLOAD_BYTES``) are refused with 413 under /ocs/ before anything reads them
    (DRF's parsers read the raw stream and would not enforce the limit);
  - the brute-force guard (``project.bruteforce.guard``): a blocked client address gets 429
    with ``Retry-After`` on every OCS request and on every request that carries credentials;
    a 404 of a conversation lookup, a 401 to a request that sent credentials and a 401 whose
    error says it guessed a secret (a bot's signature) count as failures, an unknown OCS route
    does not (it probes nothing);
  - every 404 of a lookup under /ocs/ is rebuilt from the status, data and message alone, so
    unknown, foreign and malformed tokens answer the same bytes with the same headers;
  - an unexpected exception in a view becomes a 500 in the envelope, never Django's HTML page;
    a database that cannot be reached (down, restarting) is a 503 with ``Retry-After``
    (``project.ocs.fallback.is_database_unavailable``; ``handler500`` does the same for the
    middleware's own queries).
"""

from __future__ import annotations

import codecs
import logging
import re
from collections.abc import Callable

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.http import parse_header_parameters

from project.bruteforce import guard
from project.middleware import DualModeMiddleware
from project.ocs.fallback import database_unavailable_response, is_database_unavailable, ocs_error_json
from project.ocs.renderers import is_ocs_path

logger = logging.getLogger(__name__)

# The one upload of the Talk surface (a conversation picture): its limit is AVATAR_MAX_UPLOAD_BYTES.
AVATAR_UPLOAD_PATH = re.compile(r"/ocs/v[12]\.php/apps/spreed/api/v1/room/[^/]+/avatar/?")
UNUSABLE_CHARSET_ENVIRON_KEY = "project.unusable_charset"


def is_text_encoding(name: str) -> bool:
    """Whether ``name`` is a codec that decodes bytes to text (``rot13`` and ``base64`` are codecs,
    but not text encodings: ``bytes.decode`` raises ``LookupError`` for them)."""
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return False
    return getattr(info, "_is_text_encoding", True)


def _has_body(request: HttpRequest) -> bool:
    if request.META.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
        return True
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > 0
    except ValueError:
        return False


def _plain_response(status: int, text: str) -> HttpResponse:
    return HttpResponse(text + "\n", status=status, content_type="text/plain; charset=utf-8")


class CharsetMiddleware(DualModeMiddleware):
    """Refuses bodies in a charset that is not a text encoding (415). The check reads only the
    request's headers, so in an async chain it runs in the event loop, without a thread hop."""

    def handle(self, request: HttpRequest) -> HttpResponse:
        return self.process_request(request) or super().handle(request)

    async def ahandle(self, request: HttpRequest) -> HttpResponse:
        return self.process_request(request) or await super().ahandle(request)

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        charset = (
            request.META.get(UNUSABLE_CHARSET_ENVIRON_KEY)
            or request.META.get("HTTP_X_UNUSABLE_CHARSET")
            or (request.content_params or {}).get("charset")
        )
        if charset is not None and not is_text_encoding(charset):
            if _has_body(request):
                message = "Unsupported charset"
                if is_ocs_path(request.path):
                    return ocs_error_json(request, 415, message=message)
                return _plain_response(415, message)
            # No body to decode: read the query string as UTF-8, as without a charset.
            request.encoding = None  # type: ignore[assignment]  # Django accepts None: the default
        return None


class OCSMiddleware(DualModeMiddleware):
    # Both modes: under ASGI an async view (chat long polling, the event stream) must not run
    # through a sync middleware, which would hold a thread for the whole wait.

    def handle(self, request: HttpRequest) -> HttpResponse:
        if not self._guarded(request):
            return super().handle(request)
        refusal = self._before(request)
        if refusal is not None:
            return refusal
        return self._after(request, super().handle(request))

    async def ahandle(self, request: HttpRequest) -> HttpResponse:
        if not self._guarded(request):
            return await super().ahandle(request)
        refusal = await sync_to_async(self._before)(request)  # the guard's store: database or Redis
        if refusal is not None:
            return refusal
        response = await super().ahandle(request)
        return await sync_to_async(self._after)(request, response)

    @staticmethod
    def _guarded(request: HttpRequest) -> bool:
        """OCS requests, and any request that sends credentials (a password check elsewhere)."""
        return is_ocs_path(request.path) or "HTTP_AUTHORIZATION" in request.META

    def _before(self, request: HttpRequest) -> HttpResponse | None:
        ocs = is_ocs_path(request.path)
        refused = guard.refusal(request)
        if refused is not None:
            response: HttpResponse
            if ocs:
                response = ocs_error_json(request, refused.status, message=refused.message)
            else:
                response = _plain_response(refused.status, refused.message)
            response["Retry-After"] = str(refused.retry_after)
            return response
        if ocs and self._declared_length(request) > self._body_limit(request):
            return ocs_error_json(request, 413, message="Request body too large")
        return None

    def _after(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        status = getattr(response, "ocs_status", response.status_code)
        if is_ocs_path(request.path) and status == 404 and not getattr(response, "ocs_unknown_route", False):
            counted = getattr(response, "bruteforce_counted", True)
            response = ocs_error_json(
                request, 404, data=getattr(response, "data", None), message=getattr(response, "ocs_message", "") or ""
            )
            if counted:
                guard.record_failure(request)
        elif status == 401 and ("HTTP_AUTHORIZATION" in request.META or getattr(response, "bruteforce_failure", False)):
            guard.record_failure(request)
        return response

    @staticmethod
    def _body_limit(request: HttpRequest) -> int:
        if request.method == "POST" and AVATAR_UPLOAD_PATH.fullmatch(request.path):
            return max(settings.AVATAR_MAX_UPLOAD_BYTES, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        return settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    @staticmethod
    def _declared_length(request: HttpRequest) -> int:
        try:
            return int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return 0

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_database_unavailable(exception):
            return database_unavailable_response(request, exception)
        if not is_ocs_path(request.path):
            return None
        logger.exception("Unhandled error on %s %s", request.method, request.path, exc_info=exception)
        return ocs_error_json(request, 500, message="Internal Server Error")


def unusable_charset_guard(application: Callable) -> Callable:
    """WSGI wrapper: Django decodes the query string with the request's charset while it builds
    the request, before any middleware (``charset=rot13`` with a query string raised
    ``LookupError`` there, and gunicorn answered its own HTML 500). A charset that is not a text
    encoding is taken out of ``CONTENT_TYPE`` here and left for ``CharsetMiddleware`` to judge."""

    def guarded(environ: dict, start_response: Callable) -> object:
        content_type = environ.get("CONTENT_TYPE", "")
        if "charset" in content_type.lower():
            main, params = parse_header_parameters(content_type)
            charset = params.get("charset")
            if charset is not None and not is_text_encoding(charset):
                environ[UNUSABLE_CHARSET_ENVIRON_KEY] = charset
                environ["CONTENT_TYPE"] = "; ".join(
                    [main, *(f"{key}={value}" for key, value in params.items() if key != "charset")]
                )
        return application(environ, start_response)

    return guarded


def unusable_charset_guard_asgi(application: Callable) -> Callable:
    """The ASGI form of ``unusable_charset_guard``: Django's ASGI request decodes the query string
    with the declared charset too. The charset is taken out of the ``content-type`` header and
    passed on in ``x-unusable-charset`` (``HTTP_X_UNUSABLE_CHARSET``) for ``CharsetMiddleware``."""

    async def guarded(scope: dict, receive: Callable, send: Callable) -> object:
        if scope.get("type") == "http":
            headers = list(scope.get("headers") or [])
            for index, (name, value) in enumerate(headers):
                if name.lower() != b"content-type" or b"charset" not in value.lower():
                    continue
                main, params = parse_header_parameters(value.decode("latin-1"))
                charset = params.get("charset")
                if charset is not None and not is_text_encoding(charset):
                    kept = "; ".join([main, *(f"{key}={val}" for key, val in params.items() if key != "charset")])
                    headers[index] = (name, kept.encode("latin-1"))
                    headers.append((b"x-unusable-charset", charset.encode("latin-1")))
                    scope = {**scope, "headers": headers}
                break
        return await application(scope, receive, send)

    return guarded
