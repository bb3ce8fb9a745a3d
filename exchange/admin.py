"""The operators' admin for the exchange (staff only). Changes are mirrored into the
audit log by ``accounts.signals``.

Partnerships, their members and documents are shared rows with plain managers (no
django-scopes manager to switch off), so the admin's querysets already cross
tenants; that is what operators need, and nothing here is reachable by tenants.
Members, listings, matches and documents are read-only: they change through the
API's services, which check membership, visibility and file content.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from exchange.models import OutboxTask, Partnership, PartnershipDocument, PartnershipMember

# Tuples (the stubs' lists are invariant), shared by the inlines' fields and readonly_fields.
_MEMBER_FIELDS = ("organisation", "state", "invited_by", "invited_at", "confirmed_at", "left_at")
_DOCUMENT_FIELDS = (
    "original_filename",
    "title",
    "document_type",
    "content_type",
    "size",
    "uploaded_by_organisation",
)


class PartnershipMemberInline(admin.TabularInline):
    model = PartnershipMember
    extra = 0
    fields = _MEMBER_FIELDS
    readonly_fields = _MEMBER_FIELDS
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # governments are invited through the API and confirm themselves


class PartnershipDocumentInline(admin.TabularInline):
    model = PartnershipDocument
    extra = 0
    fields = _DOCUMENT_FIELDS
    readonly_fields = [*_DOCUMENT_FIELDS, "uploaded_at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # uploads go through the API, which checks type, content and size


@admin.register(Partnership)
class PartnershipAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "status", "public", "created_by_organisation", "signed_on", "in_force_from"]
    list_filter = ["kind", "status", "public"]
    search_fields = ["name", "memberships__organisation__name"]
    date_hierarchy = "created_at"
    fields = [
        "id",
        "name",
        "kind",
        "status",
        "signed_on",
        "in_force_from",
        "ends_on",
        "public",
        "listings",
        "matches",
        "created_by_organisation",
        "created_by",
        "created_at",
        "updated_at",
    ]
    readonly_fields = ["id", "listings", "matches", "created_by_organisation", "created_by", "created_at", "updated_at"]
    inlines = [PartnershipMemberInline, PartnershipDocumentInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Partnership]:
        return super().get_queryset(request).select_related("created_by_organisation")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a partnership is created by a government, which becomes its first member


@admin.register(OutboxTask)
class OutboxTaskAdmin(admin.ModelAdmin):
    """The task outbox (exchange/outbox.py), read-only: work owed by committed changes (matching,
    suggestions, imports), its attempts and last error; dead rows can be re-queued (the action,
    or ``manage.py replay_outbox``)."""

    list_display = ["created_at", "task", "key", "status", "attempts", "next_attempt_at", "done_at", "last_error"]
    list_filter = ["status", "task"]
    search_fields = ["key", "task", "request_id"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "task",
        "kwargs",
        "key",
        "status",
        "attempts",
        "next_attempt_at",
        "claimed_until",
        "requested_at",
        "last_error",
        "created_at",
        "done_at",
        "request_id",
    ]
    actions = ["replay"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Run the selected dead tasks again"), permissions=["view"])
    def replay(self, request: HttpRequest, queryset: QuerySet[OutboxTask]) -> None:
        from exchange.outbox import outbox_replay

        count = outbox_replay(rows=queryset)
        self.message_user(request, _("%(count)d dead task(s) queued again.") % {"count": count})
