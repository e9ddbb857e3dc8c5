"""The filters of ``GET /v1/breakout-rooms/{token}/history`` (django-filter).

``round`` (a round id), ``since`` and ``until`` (unix timestamps: rounds and spans that overlap
the interval) and ``user`` (a user id: that person's spans only).
"""

from __future__ import annotations

from datetime import UTC, datetime

import django_filters
from django.db.models import Q, QuerySet

from breakout.models import AssignmentSpan, BreakoutRound
from project.errors import BadRequest


def _moment(value: float, key: str) -> datetime:
    """A unix time as an aware datetime; negative or out of range: 400 ``since``/``until``."""
    if value < 0:
        raise BadRequest(key)
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise BadRequest(key) from None


class RoundFilter(django_filters.FilterSet):
    round = django_filters.NumberFilter(field_name="pk")
    since = django_filters.NumberFilter(
        field_name="since", method="filter_since", help_text="Unix time: rounds ending after it"
    )
    until = django_filters.NumberFilter(
        field_name="until", method="filter_until", help_text="Unix time: rounds configured before it"
    )

    class Meta:
        model = BreakoutRound
        fields: list[str] = []

    def filter_since(self, queryset: QuerySet, name: str, value: float) -> QuerySet:
        return queryset.filter(Q(removed_at__isnull=True) | Q(removed_at__gte=_moment(value, name)))

    def filter_until(self, queryset: QuerySet, name: str, value: float) -> QuerySet:
        return queryset.filter(configured_at__lte=_moment(value, name))


class SpanFilter(django_filters.FilterSet):
    user = django_filters.CharFilter(field_name="actor_id", help_text="User id")
    since = django_filters.NumberFilter(field_name="since", method="filter_since")
    until = django_filters.NumberFilter(field_name="until", method="filter_until")

    class Meta:
        model = AssignmentSpan
        fields: list[str] = []

    def filter_since(self, queryset: QuerySet, name: str, value: float) -> QuerySet:
        return queryset.filter(Q(closed_at__isnull=True) | Q(closed_at__gte=_moment(value, name)))

    def filter_until(self, queryset: QuerySet, name: str, value: float) -> QuerySet:
        return queryset.filter(opened_at__lte=_moment(value, name))
