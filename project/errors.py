"""The one error hierarchy of the service.

Services and views raise these; ``project.ocs.exceptions.ocs_exception_handler`` turns them
into the OCS envelope. ``key`` is the contract's error key (``{"error": key}`` in ``data``);
errors without a key answer with ``data: []`` like Talk's framework-level failures.
"""

from __future__ import annotations


class ServiceError(Exception):
    status_code = 400

    def __init__(self, key: str | None = None, *, status_code: int | None = None, message: str = "") -> None:
        super().__init__(key or message or self.__class__.__name__)
        self.key = key
        if status_code is not None:
            self.status_code = status_code
        self.message = message

    @property
    def data(self) -> dict[str, str] | list:
        return {"error": self.key} if self.key else []


class BadRequest(ServiceError):
    status_code = 400


class Forbidden(ServiceError):
    status_code = 403


class NotFound(ServiceError):
    status_code = 404


class PreconditionFailed(ServiceError):
    status_code = 412


class PayloadTooLarge(ServiceError):
    status_code = 413


class NotFoundInRoom(NotFound):
    """404 for an object inside a room the caller is already in (a message, a poll, a reaction):
    it probes no secret, so the brute-force guard does not count it (issue 10)."""

    counts_as_probe = False
