"""Complaints classified before the triage taxonomy: map retired codes onto the tree.

The nature follows from the category; "other" and a nature without a category are dropped
(triage or a person decides again). Categories set before were set by people, so they are
confirmed training labels.
"""

from django.db import migrations

RENAMED = {"fraud": "commercial_fraud", "other": ""}
NATURE_OF = {
    "quality_defect": "product_quality", "missing_function": "product_quality",
    "wrong_item": "product_quality", "damaged_packaging": "product_quality",
    "staff_attitude": "service", "long_wait": "service", "late_delivery": "service",
    "promise_not_kept": "service", "overcharging": "service", "billing_error": "service",
    "refund_delay": "service", "rule_not_explained": "policy_process",
    "exaggerated_ads": "expectation_gap", "price_dispute": "expectation_gap",
    "misunderstanding": "customer_misunderstanding", "commercial_fraud": "fraud",
}  # fmt: skip


def forward(apps, schema_editor):
    Complaint = apps.get_model("complaints", "Complaint")
    for old, new in RENAMED.items():
        Complaint.objects.filter(category=old).update(category=new)
    for category, nature in NATURE_OF.items():
        Complaint.objects.filter(category=category).update(nature=nature, category_confirmed=True)
    Complaint.objects.filter(nature="other").update(nature="")


class Migration(migrations.Migration):
    dependencies = [("complaints", "0003_triage"), ("triage", "0002_seed")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
