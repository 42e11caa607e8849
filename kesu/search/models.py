"""The full-text index of complaints: one row of tokens per complaint.

On SQLite an FTS5 table mirrors `tokens` (kept in step by triggers); on PostgreSQL a GIN
index on to_tsvector('simple', tokens) serves the same query. Both are made by this app's
migrations.
"""

from __future__ import annotations

from django.db import models

from kesu.complaints.models import Complaint


class SearchDocument(models.Model):
    complaint = models.OneToOneField(
        Complaint, on_delete=models.CASCADE, primary_key=True, related_name="search_document"
    )
    tokens = models.TextField()

    def __str__(self) -> str:
        return f"search document of {self.complaint_id}"
