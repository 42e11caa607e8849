from decimal import Decimal

from django.db import migrations

# DOMAIN L7: a remedy above a handler's authority needs a manager's approval. Starting values;
# the business edits them in the admin. None = no limit.
DEFAULTS = {
    "agent": Decimal("0"),
    "handler": Decimal("500"),
    "manager": Decimal("5000"),
    "expert": Decimal("20000"),
    "admin": None,
    "auditor": Decimal("0"),
}


def create(apps, schema_editor):
    RolePolicy = apps.get_model("accounts", "RolePolicy")
    for role, authority in DEFAULTS.items():
        RolePolicy.objects.get_or_create(role=role, defaults={"remedy_authority": authority})


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
