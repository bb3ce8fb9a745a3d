"""The operators' admin (staff only). Every change made here is mirrored into the
append-only audit log by ``accounts.signals``.

The admin looks across tenants by nature, so the scoped models' admin querysets
say so explicitly (``with_scopes_disabled``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django_scopes import scopes_disabled

from accounts.models import ApiToken, AuditEvent, Invitation, Membership, Organisation, OutboundEmail, User


class CrossTenantAdminMixin:
    """Operators see every tenant: an explicit, reviewed escape from the scope."""

    model: Any

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = self.model.objects.with_scopes_disabled().all()
        ordering = self.get_ordering(request)  # type: ignore[attr-defined]
        return qs.order_by(*ordering) if ordering else qs


class MembershipInline(CrossTenantAdminMixin, admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_staff", "date_joined"]
    search_fields = ["email", "full_name"]
    list_filter = ["is_active", "is_staff"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Profile"), {"fields": ["full_name", "language", "time_zone"]}),
        (_("Access"), {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "kind", "country", "is_origin", "is_destination", "require_two_factor", "is_active"]
    list_filter = ["kind", "is_active", "is_origin", "is_destination"]
    search_fields = ["name", "slug"]
    # Verification changes go through accounts.verification (audited, the admins told).
    readonly_fields = ["id", "created_at", "verification_status", "verified_at"]
    autocomplete_fields = ["focal_point"]
    inlines = [MembershipInline]

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "", extra_context: Any = None
    ) -> Any:
        # The membership inline's forms (an invalid form re-rendered included) build
        # querysets on the scoped Membership manager: operators look across tenants.
        # The page renders lazily: render it inside the block.
        with scopes_disabled():
            response = super().changeform_view(request, object_id, form_url, extra_context)
            if isinstance(response, TemplateResponse):
                response.render()
            return response


@admin.register(Membership)
class MembershipAdmin(CrossTenantAdminMixin, admin.ModelAdmin):
    list_display = ["user", "organisation", "role", "created_at"]
    list_filter = ["role", "organisation__kind"]
    search_fields = ["user__email", "organisation__name"]
    autocomplete_fields = ["user", "organisation"]


@admin.register(ApiToken)
class ApiTokenAdmin(CrossTenantAdminMixin, admin.ModelAdmin):
    list_display = ["name", "prefix", "user", "organisation", "created_at", "last_used_at", "revoked_at"]
    search_fields = ["name", "prefix", "user__email"]
    readonly_fields = ["id", "user", "organisation", "name", "prefix", "key_hash", "created_at", "last_used_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tokens are issued by their owners or `manage.py issuetoken`, which show the secret


@admin.register(Invitation)
class InvitationAdmin(CrossTenantAdminMixin, admin.ModelAdmin):
    list_display = ["email", "organisation", "role", "created_at", "expires_at", "accepted_at", "revoked_at"]
    search_fields = ["email", "organisation__name"]
    readonly_fields = ["id", "token_hash", "invited_by", "accepted_by", "accepted_at", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # invitations are created by organisation admins, who e-mail the link


@admin.register(AuditEvent)
class AuditEventAdmin(CrossTenantAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "actor_email", "organisation", "action", "object_type", "object_repr"]
    list_filter = ["action", "object_type"]
    search_fields = ["actor_email", "object_repr", "object_id"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    """The e-mail outbox (accounts/mail.py), read-only: operators see what is owed, what failed and
    why, and re-queue dead e-mails (the action, or ``manage.py replay_outbox``)."""

    list_display = ["created_at", "to", "subject", "status", "attempts", "next_attempt_at", "sent_at", "last_error"]
    list_filter = ["status"]
    search_fields = ["to", "key", "subject", "request_id"]
    date_hierarchy = "created_at"
    exclude = ["body", "html"]  # a reset link or an invitation secret stays out of the admin
    readonly_fields = [
        "key",
        "to",
        "subject",
        "status",
        "attempts",
        "next_attempt_at",
        "claimed_until",
        "last_error",
        "created_at",
        "sent_at",
        "request_id",
    ]
    actions = ["replay"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Send the selected dead e-mails again"), permissions=["view"])
    def replay(self, request: HttpRequest, queryset: QuerySet[OutboundEmail]) -> None:
        from accounts.mail import emails_replay

        count = emails_replay(emails=queryset)
        self.message_user(request, _("%(count)d dead e-mail(s) queued again.") % {"count": count})


def otp_admin_has_permission(request: HttpRequest) -> bool:
    """The admin site's permission check, plus django-otp's: staff *and* a verified session.

    Installed on ``admin.site`` in config/urls.py; the same rule as
    ``django_otp.admin.OTPAdminSite.has_permission``, without replacing the site
    every ``@admin.register`` in the project already uses.
    """
    user: Any = request.user
    return bool(admin.AdminSite.has_permission(admin.site, request) and user.is_verified())
