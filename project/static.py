"""WhiteNoise for the admin's static files, usable in an async middleware chain.

WhiteNoise's middleware is sync-only; one sync middleware makes Django run every view below it
from a thread that blocks until the view ends, so a waiting async view (long polling, the event
stream) would hold a thread for its whole wait. Finding a static file is an in-memory lookup
(the files are indexed at start-up), so the async mode calls it directly.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from whitenoise.middleware import WhiteNoiseMiddleware

from project.middleware import DualModeMiddleware


class StaticFilesMiddleware(DualModeMiddleware, WhiteNoiseMiddleware):
    def __init__(self, get_response: Any = None) -> None:
        WhiteNoiseMiddleware.__init__(self, get_response)
        DualModeMiddleware.__init__(self, get_response)

    def handle(self, request: HttpRequest) -> Any:
        return WhiteNoiseMiddleware.__call__(self, request)

    async def ahandle(self, request: HttpRequest) -> Any:
        # With autorefresh (DEBUG only) the lookup reads the disk on each request.
        static_file = self.find_file(request.path_info) if self.autorefresh else self.files.get(request.path_info)
        if static_file is not None:
            return self.serve(static_file, request)
        return await super().ahandle(request)
