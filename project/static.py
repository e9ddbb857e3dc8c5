"""WhiteNoise for the admin's static files, usable in an async middleware chain.

WhiteNoise's middleware is sync-only; one sync middleware makes Django run every view below it
from a thread that blocks until the view ends, so a waiting async view (long polling, the event
stream) would hold a thread for its whole wait. Finding a static file is an in-memory lookup
(the files are indexed at start-up), so the async mode calls it directly.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest
from whitenoise.middleware import WhiteNoiseMiddleware


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Any = None) -> None:
        super().__init__(get_response)
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        return super().__call__(request)

    async def __acall__(self, request: HttpRequest) -> Any:
        # With autorefresh (DEBUG only) the lookup reads the disk on each request.
        static_file = self.find_file(request.path_info) if self.autorefresh else self.files.get(request.path_info)
        if static_file is not None:
            return self.serve(static_file, request)
        return await self.get_response(request)
