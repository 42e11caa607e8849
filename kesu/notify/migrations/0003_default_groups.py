"""The two groups the escalation chain reaches: the expert (escalation) group and executives.

They start without members: until an administrator adds people, level 3 reaches every
expert and level 4 every administrator (kesu.sla.chain); robots are added per group.
"""

from django.db import migrations

GROUPS = [
    ("escalation", "升级处理组（专家组）", "Escalation group (experts)"),
    ("executives", "管理层", "Executives"),
]


def create(apps, schema_editor):
    NotifyGroup = apps.get_model("notify", "NotifyGroup")
    for code, zh, en in GROUPS:
        NotifyGroup.objects.get_or_create(code=code, defaults={"name_zh": zh, "name_en": en})


def remove(apps, schema_editor):
    apps.get_model("notify", "NotifyGroup").objects.filter(
        code__in=[code for code, _zh, _en in GROUPS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("notify", "0002_staff_notifications")]
    operations = [migrations.RunPython(create, remove)]
