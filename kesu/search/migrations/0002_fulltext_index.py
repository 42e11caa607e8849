from django.db import migrations

# The index that search.services.matching_ids queries. Tokens are made by search.tokens
# (Chinese character pairs, lower-case words) and stored space-separated.

SQLITE = [
    # External-content FTS5 table over search_searchdocument.tokens, kept in step by triggers.
    """CREATE VIRTUAL TABLE search_fts USING fts5(
        tokens, content='search_searchdocument', content_rowid='complaint_id',
        tokenize='unicode61 remove_diacritics 0')""",
    """CREATE TRIGGER search_fts_insert AFTER INSERT ON search_searchdocument BEGIN
        INSERT INTO search_fts(rowid, tokens) VALUES (new.complaint_id, new.tokens); END""",
    """CREATE TRIGGER search_fts_delete AFTER DELETE ON search_searchdocument BEGIN
        INSERT INTO search_fts(search_fts, rowid, tokens)
        VALUES ('delete', old.complaint_id, old.tokens); END""",
    """CREATE TRIGGER search_fts_update AFTER UPDATE ON search_searchdocument BEGIN
        INSERT INTO search_fts(search_fts, rowid, tokens)
        VALUES ('delete', old.complaint_id, old.tokens);
        INSERT INTO search_fts(rowid, tokens) VALUES (new.complaint_id, new.tokens); END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS search_fts_update",
    "DROP TRIGGER IF EXISTS search_fts_delete",
    "DROP TRIGGER IF EXISTS search_fts_insert",
    "DROP TABLE IF EXISTS search_fts",
]
POSTGRES = [
    # A stored tsvector, so that a match never re-tokenises a document; the model does not
    # know the column (PostgreSQL computes it), search.services.matching_ids queries it.
    """ALTER TABLE search_searchdocument ADD COLUMN tsv tsvector
        GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, tokens)) STORED""",
    "CREATE INDEX search_document_tsv ON search_searchdocument USING gin (tsv)",
]
POSTGRES_REVERSE = [
    "DROP INDEX IF EXISTS search_document_tsv",
    "ALTER TABLE search_searchdocument DROP COLUMN IF EXISTS tsv",
]


def _run(schema_editor, statements):
    for statement in statements:
        schema_editor.execute(statement)


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        _run(schema_editor, SQLITE)
    elif vendor == "postgresql":
        _run(schema_editor, POSTGRES)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        _run(schema_editor, SQLITE_REVERSE)
    elif vendor == "postgresql":
        _run(schema_editor, POSTGRES_REVERSE)


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
