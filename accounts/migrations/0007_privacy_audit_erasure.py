from django.db import migrations

# Erasure of a person (issue 16, GDPR art. 17) keeps the audit rows and replaces the
# person's e-mail address and name in them with a stable pseudonym
# ("erased-user-" + the first 12 hex digits of their account id). The log stays
# append-only for everything else: the trigger lets an UPDATE through only when
#
# * the transaction named the person being erased (``corridor.erasing_user``, set by
#   accounts.privacy.account_erase with set_config(..., true), so it ends with the
#   transaction), and that account still exists;
# * the new row is exactly the old one with that account's e-mail address and name
#   replaced by its pseudonym in actor_email, object_repr and changes, and nothing
#   else different (every other column, present or added later, unchanged);
# * the row actually changes.
#
# So the only rewrite possible is anonymising an existing account; a DELETE is
# refused as before, and TRUNCATE as before (0004). ``corridor_erasure_scrub`` is
# the one definition of the replacement, used by the UPDATE itself, by the trigger
# to check it, and for the history tables without a trigger (accounts.privacy).
SCRUB = """
CREATE FUNCTION corridor_erasure_scrub(value text, email text, full_name text, pseudonym text)
RETURNS text AS $$
    SELECT CASE
        WHEN value IS NULL THEN NULL
        WHEN length(btrim(coalesce(full_name, ''))) >= 3
            THEN replace(replace(value, coalesce(email, ''), pseudonym), btrim(full_name), pseudonym)
        ELSE replace(value, coalesce(email, ''), pseudonym)
    END
$$ LANGUAGE sql IMMUTABLE;

CREATE FUNCTION corridor_erasure_pseudonym(erased uuid) RETURNS text AS $$
    SELECT 'erased-user-' || left(replace(erased::text, '-', ''), 12)
$$ LANGUAGE sql IMMUTABLE;
"""

DROP_SCRUB = """
DROP FUNCTION IF EXISTS corridor_erasure_scrub(text, text, text, text);
DROP FUNCTION IF EXISTS corridor_erasure_pseudonym(uuid);
"""

FORWARD = """
CREATE OR REPLACE FUNCTION accounts_auditevent_append_only() RETURNS trigger AS $$
DECLARE
    erased uuid;
    person record;
    pseudonym text;
    expected accounts_auditevent%ROWTYPE;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        erased := NULLIF(current_setting('corridor.erasing_user', true), '')::uuid;
        IF erased IS NOT NULL THEN
            SELECT email, full_name INTO person FROM accounts_user WHERE id = erased;
            IF FOUND THEN
                pseudonym := corridor_erasure_pseudonym(erased);
                expected := OLD;
                expected.actor_email := corridor_erasure_scrub(OLD.actor_email, person.email, person.full_name, pseudonym);
                expected.object_repr := corridor_erasure_scrub(OLD.object_repr, person.email, person.full_name, pseudonym);
                expected.changes := corridor_erasure_scrub(OLD.changes::text, person.email, person.full_name, pseudonym)::jsonb;
                IF NEW IS DISTINCT FROM OLD AND NEW IS NOT DISTINCT FROM expected THEN
                    RETURN NEW;
                END IF;
            END IF;
        END IF;
    END IF;
    RAISE EXCEPTION 'accounts_auditevent is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
"""

# 0002's function, as it was.
BACKWARD = """
CREATE OR REPLACE FUNCTION accounts_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'accounts_auditevent is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
"""


class Migration(migrations.Migration):
    dependencies = [("accounts", "0006_offboard_session_generation")]

    operations = [
        migrations.RunSQL(SCRUB, DROP_SCRUB),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
