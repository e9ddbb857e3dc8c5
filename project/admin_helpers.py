"""Helpers for the admin pages of every app: links to change pages and changelists, and counts
as correlated subqueries (so that a changelist costs a fixed number of queries)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, IntegerField, Manager, Model, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.html import format_html


def admin_link(obj: Any, label: str | None = None) -> str:
    """A link to the admin change page of ``obj`` ("-" for None)."""
    if obj is None:
        return "-"
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label if label is not None else str(obj))


def changelist_link(model: type[Model], label: str, **filters: Any) -> str:
    query = "&".join(f"{key}={value}" for key, value in filters.items())
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    return format_html('<a href="{}?{}">{}</a>', url, query, label)


def count_of(queryset: QuerySet | Manager, field: str) -> Coalesce:
    """A correlated COUNT(*) of ``queryset`` rows whose ``field`` is the outer row (0 when none)."""
    counted = (
        queryset.filter(**{field: OuterRef("pk")}).order_by().values(field).annotate(count=Count("pk")).values("count")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)
