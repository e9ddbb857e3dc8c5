"""The floors of the HTTP benchmark: a DRF view that does one ORM query, served by the same
server, middleware and renderer as the API.

``FloorAuthenticatedView`` authenticates like every OCS view (app-password Basic auth here);
``FloorUnauthenticatedView`` is the same view without authentication. A read of the API is
reported as a ratio to the first; authentication's cost as the ratio of the two.
"""

from __future__ import annotations

from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User


class FloorAuthenticatedView(APIView):
    def get(self, request: Request) -> Response:
        row = User.objects.filter(pk=request.user.pk).values_list("username", "display_name").first()
        return Response({"user": row})


class FloorUnauthenticatedView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        row = User.objects.filter(username="teacher").values_list("username", "display_name").first()
        return Response({"user": row})
