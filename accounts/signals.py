"""Audit rows for sign-ins and for operators' changes in the Django admin."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_save
from django.dispatch import receiver


@receiver(user_logged_in)
def _audit_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    from accounts.services import audit_record
    from accounts.tenancy import Actor

    audit_record(actor=Actor(user=user, organisation=None, role=None), action="user.logged_in", obj=user)


@receiver(post_save, sender=LogEntry)
def _audit_admin_change(sender: Any, instance: LogEntry, created: bool, **kwargs: Any) -> None:
    """Every change made in the admin is mirrored into the append-only audit log.

    The admin's own LogEntry table can be edited by superusers; the audit log cannot.
    """
    if not created:
        return
    from accounts.models import Organisation
    from accounts.services import audit_record
    from accounts.tenancy import Actor

    action = {1: "admin.added", 2: "admin.changed", 3: "admin.deleted"}.get(instance.action_flag, "admin.other")
    content_type = instance.content_type if instance.content_type_id else None
    model = content_type.model_class() if content_type else None
    organisation = None
    if model is Organisation and instance.object_id:
        organisation = Organisation.objects.filter(pk=instance.object_id).first()
    audit_record(
        actor=Actor(user=instance.user, organisation=None, role=None),
        action=action,
        organisation=organisation,
        object_type=content_type.app_label + "." + content_type.model if content_type else "",
        object_id=str(instance.object_id or ""),
        changes={"message": instance.get_change_message(), "repr": instance.object_repr},
    )
