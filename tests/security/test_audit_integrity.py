"""The audit log is append-only in the database: the application's role may read and add
rows, and nothing else; the triggers hold even against a role granted too much.

The site connects as a role that owns nothing and holds SELECT and INSERT on the
table (docs/security.md, "Audit log"); migrations run as the owner. Each test makes
such a role, switches to it with SET ROLE inside the test's transaction, and tries.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import DatabaseError, connection, transaction

from accounts.models import AuditEvent, Organisation, User
from accounts.services import audit_record
from accounts.tenancy import Actor, unscoped

pytestmark = pytest.mark.django_db

APP_ROLE = "corridor_app_test"


@pytest.fixture
def app_role(italy: Organisation, alice: User) -> Iterator[str]:
    """A login-less role with what the site needs on the audit table, and an event to aim at."""
    with unscoped("the test writes one audit row as the owner"):
        audit_record(actor=Actor(user=alice, organisation=italy, role="admin"), action="test.event", obj=italy)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP ROLE IF EXISTS {APP_ROLE}")
        cursor.execute(f"CREATE ROLE {APP_ROLE} NOLOGIN")
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")
        cursor.execute(f"GRANT SELECT, INSERT ON accounts_auditevent TO {APP_ROLE}")
        cursor.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}")
    yield APP_ROLE
    # The role goes away with the test's transaction (rolled back); nothing to undo.


def refused(sql: str, role: str) -> str:
    """Run ``sql`` as ``role``; return PostgreSQL's refusal (fail if it was accepted)."""
    with pytest.raises(DatabaseError) as excinfo, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {role}")
        cursor.execute(sql)
    return str(excinfo.value)


def test_the_application_role_can_read_and_append(app_role: str) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {app_role}")
        cursor.execute("SELECT count(*) FROM accounts_auditevent")
        assert cursor.fetchone()[0] >= 1
        cursor.execute(
            "INSERT INTO accounts_auditevent (created_at, actor_email, action, object_type, object_id, "
            "object_repr, changes, request_id) "
            "VALUES (now(), 'x@example.org', 'test.more', 'test', '', '', '{}', '')"
        )
        cursor.execute("RESET ROLE")


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE accounts_auditevent SET action = 'rewritten'",
        "DELETE FROM accounts_auditevent",
        "TRUNCATE accounts_auditevent",
        "ALTER TABLE accounts_auditevent DISABLE TRIGGER ALL",
        "ALTER TABLE accounts_auditevent DISABLE TRIGGER accounts_auditevent_append_only",
        "DROP TRIGGER accounts_auditevent_no_truncate ON accounts_auditevent",
    ],
)
def test_the_application_role_cannot_change_erase_or_unguard_the_log(app_role: str, sql: str) -> None:
    message = refused(sql, app_role)
    assert "permission denied" in message or "must be owner" in message
    with unscoped("assertion"):
        assert AuditEvent.objects.filter(action="test.event").count() == 1


@pytest.mark.parametrize(
    ("sql", "words"),
    [
        ("UPDATE accounts_auditevent SET action = 'rewritten'", "append-only (UPDATE refused)"),
        ("DELETE FROM accounts_auditevent", "append-only (DELETE refused)"),
        ("TRUNCATE accounts_auditevent", "TRUNCATE refused"),
    ],
)
def test_the_triggers_refuse_even_a_role_wrongly_granted_every_privilege(app_role: str, sql: str, words: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT UPDATE, DELETE, TRUNCATE ON accounts_auditevent TO {app_role}")
    assert words in refused(sql, app_role)
    with unscoped("assertion"):
        assert AuditEvent.objects.filter(action="test.event").count() == 1


def test_the_owner_may_still_truncate_as_the_test_runner_does(app_role: str) -> None:
    """The documented exception: the owner (migrations, the test runner's flush) and superusers."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE accounts_auditevent")
        cursor.execute("SELECT count(*) FROM accounts_auditevent")
        assert cursor.fetchone()[0] == 0
        transaction.set_rollback(True)
