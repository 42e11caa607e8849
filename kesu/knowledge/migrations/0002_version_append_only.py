from django.db import migrations

# An article's versions are its history: never changed once written (as complaints' events,
# complaints 0002). The database refuses an UPDATE of a version on both backends, and a DELETE
# on PostgreSQL (on SQLite a DELETE trigger would also fire when the test framework empties
# tables between browser tests; there the admin offers no delete and the article's PROTECT
# keeps versions from cascading).

SQLITE = """
CREATE TRIGGER knowledge_version_no_update BEFORE UPDATE ON knowledge_articleversion
BEGIN SELECT RAISE(ABORT, 'knowledge_articleversion is append-only'); END;
"""
SQLITE_REVERSE = "DROP TRIGGER IF EXISTS knowledge_version_no_update;"

POSTGRES = """
CREATE OR REPLACE FUNCTION knowledge_version_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'knowledge_articleversion is append-only'; END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER knowledge_version_no_change BEFORE UPDATE OR DELETE ON knowledge_articleversion
FOR EACH ROW EXECUTE FUNCTION knowledge_version_append_only();
"""
POSTGRES_REVERSE = """
DROP TRIGGER IF EXISTS knowledge_version_no_change ON knowledge_articleversion;
DROP FUNCTION IF EXISTS knowledge_version_append_only();
"""


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE)
    elif vendor == "postgresql":
        schema_editor.execute(POSTGRES)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_REVERSE)
    elif vendor == "postgresql":
        schema_editor.execute(POSTGRES_REVERSE)


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
