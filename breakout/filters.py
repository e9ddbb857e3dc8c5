"""The filters of ``GET /v1/breakout-rooms/{token}/history`` (django-filter).

``round`` (a round id), ``since`` and ``until`` (unix timestamps: rounds and spans that overlap
the interval) and ``user`` (a user id: that person's spans only).
"""

from __future__ import annotations

from datetime import UTC, datetime

import django_filters
from django.db.models import Q, QuerySet

from breakout.models import AssignmentSpan, BreakoutRound


def _moment(value: int) -> datetime:
    return datetime.fromtimestamp(value, tz=UTC)


class RoundFilter(django_filters.FilterSet):
    round = django_filters.NumberFilter(field_name="pk")
    since = django_filters.NumberFilter(method="filter_since", help_text="Unix time: rounds ending after it")
    until = django_filters.NumberFilter(method="filter_until", help_text="Unix time: rounds configured before it")

    class Meta:
        model = BreakoutRound
        fields: list[str] = []

    def filter_since(self, queryset: QuerySet, name: str, value: float) -> QuerySet:
        return queryset.filter(Q(removed_at__isnull=True) | Q(removed_at__gte=_moment(int(value))))

    def filter_until(self, queryset: QuerySet, name: str, value: float) -> QuerySet:
        return queryset.filter(configured_at__lte=_moment(int(value)))


class SpanFilter(django_filters.FilterSet):
    user = django_filters.CharFilter(field_name="actor_id", help_text="User id")
    since = django_filters.NumberFilter(method="filter_since")
    until = django_filters.NumberFilter(method="filter_until")

    class Meta:
        model = AssignmentSpan
        fields: list[str] = []

    def filter_since(self, queryset: QuerySet, name: str, value: float) -> QuerySet:
        return queryset.filter(Q(closed_at__isnull=True) | Q(closed_at__gte=_moment(int(value))))

    def filter_until(self, queryset: QuerySet, name: str, value: float) -> QuerySet:
        return queryset.filter(opened_at__lte=_moment(int(value)))
