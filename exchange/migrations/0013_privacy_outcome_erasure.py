from django.db import migrations

# The outcomes ledger is append-only like the audit log (0009), and keeps the
# reporter's e-mail address. Erasure (accounts.privacy, issue 16) replaces the erased
# person's e-mail address and name with their pseudonym in reported_by_email and
# reason, and the trigger lets exactly that UPDATE through, under the same conditions
# as the audit log's (accounts/migrations/0007_privacy_audit_erasure.py). Every other
# UPDATE, and every DELETE, is refused as before.
FORWARD = """
CREATE OR REPLACE FUNCTION exchange_outcomeentry_append_only() RETURNS trigger AS $$
DECLARE
    erased uuid;
    person record;
    pseudonym text;
    expected exchange_outcomeentry%ROWTYPE;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        erased := NULLIF(current_setting('corridor.erasing_user', true), '')::uuid;
        IF erased IS NOT NULL THEN
            SELECT email, full_name INTO person FROM accounts_user WHERE id = erased;
            IF FOUND THEN
                pseudonym := corridor_erasure_pseudonym(erased);
                expected := OLD;
                expected.reported_by_email := corridor_erasure_scrub(
                    OLD.reported_by_email, person.email, person.full_name, pseudonym);
                expected.reason := corridor_erasure_scrub(OLD.reason, person.email, person.full_name, pseudonym);
                IF NEW IS DISTINCT FROM OLD AND NEW IS NOT DISTINCT FROM expected THEN
                    RETURN NEW;
                END IF;
            END IF;
        END IF;
    END IF;
    RAISE EXCEPTION 'exchange_outcomeentry is append-only (% refused): record a correction', TG_OP;
END;
$$ LANGUAGE plpgsql;
"""

# 0009's function, as it was.
BACKWARD = """
CREATE OR REPLACE FUNCTION exchange_outcomeentry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'exchange_outcomeentry is append-only (% refused): record a correction', TG_OP;
END;
$$ LANGUAGE plpgsql;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_privacy_audit_erasure"),
        ("exchange", "0012_agreements_and_committees"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
