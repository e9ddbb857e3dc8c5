"""The base of every OCS endpoint."""

from __future__ import annotations

from rest_framework.views import APIView


class OCSView(APIView):
    """An APIView of the OCS API: its views read their parameters with the input serializers of
    ``project/ocs/inputs.py`` (query, form or JSON alike)."""
