"""The follow-up policy Kesu starts with: 3 days to answer, 2 for the callback, 90 % goal (L8)."""

from django.db import migrations


def create(apps, schema_editor):
    apps.get_model("surveys", "FollowUpPolicy").objects.get_or_create(
        pk=1, defaults={"answer_within_days": 3, "callback_within_days": 2, "goal_percent": 90}
    )


def remove(apps, schema_editor):
    apps.get_model("surveys", "FollowUpPolicy").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("surveys", "0001_initial")]
    operations = [migrations.RunPython(create, remove)]
