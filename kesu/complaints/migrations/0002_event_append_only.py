from django.db import migrations

# STYLE 5 / DOMAIN L10: events are the trace and are never changed. The database refuses an
# UPDATE of an event on both backends, and a DELETE on PostgreSQL. (On SQLite a DELETE trigger
# would also fire when the test framework empties tables between browser tests; there the
# admin offers no delete and the complaint's PROTECT keeps events from cascading.)

SQLITE = """
CREATE TRIGGER complaints_event_no_update BEFORE UPDATE ON complaints_event
BEGIN SELECT RAISE(ABORT, 'complaints_event is append-only'); END;
"""
SQLITE_REVERSE = "DROP TRIGGER IF EXISTS complaints_event_no_update;"

POSTGRES = """
CREATE OR REPLACE FUNCTION complaints_event_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'complaints_event is append-only'; END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER complaints_event_no_change BEFORE UPDATE OR DELETE ON complaints_event
FOR EACH ROW EXECUTE FUNCTION complaints_event_append_only();
"""
POSTGRES_REVERSE = """
DROP TRIGGER IF EXISTS complaints_event_no_change ON complaints_event;
DROP FUNCTION IF EXISTS complaints_event_append_only();
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
    dependencies = [("complaints", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
