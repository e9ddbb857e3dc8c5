"""The base of every OCS endpoint."""

from __future__ import annotations

from functools import cached_property

from rest_framework.views import APIView

from project.ocs.params import Params


class OCSView(APIView):
    """An APIView whose request parameters are read strictly from query, form or JSON alike."""

    @cached_property
    def params(self) -> Params:
        return Params(self.request)
