"""Default calendars, SLA policies and escalation chain; administrators edit them afterwards.

DOMAIN L3: acknowledge at once and contact within 24 h; L9: close within the limit (15 days,
extendable to 30 with an approval, is the regulatory profile of complaints referred by a
regulator); E4: high-risk cases get an expert's response within 10 minutes.
"""

from datetime import time

from django.db import migrations

CALENDARS = [
    # code, zh, en, around the clock, lunch
    ("24x7", "全天候", "Around the clock", True, None),
    ("office", "工作日 9:00–18:00", "Working days 9:00–18:00", False, (time(12), time(13))),
]

POLICIES = [
    # position, zh, en, match, targets (ack, first contact, update, resolve, extendable, expert)
    (10, "高风险（监管、媒体、法律、安全）", "High risk (regulator, media, legal, safety)",
     {"risk": "high"}, ("15m", "2h", "24h", "7d", "", "10m")),
    # A regulator's referral keeps its statutory limit whatever else it is (but high risk).
    (20, "监管转办（15 天，可延至 30 天）", "Regulator referrals (15 d, extendable to 30 d)",
     {"channels": "regulator"}, ("1h", "24h", "48h", "15d", "30d", "10m")),
    (30, "A/B 级投诉", "Grades A and B", {"grades": "A B"},
     ("30m", "4h", "24h", "7d", "", "10m")),
    (40, "VIP 客户", "VIP customers", {"tiers": "vip"}, ("1h", "8h", "48h", "7d", "", "10m")),
]
DEFAULT = ("标准", "Standard", ("2h", "24h", "48h", "15d", "", "10m"))

# level, when, after, reassign — level 1 the handler, 2 the department's managers, 3 the
# expert group, 4 executives.
CHAIN = [
    (1, "warning", "", False),
    (2, "breach", "", False),
    (3, "after_breach", "1d", True),
    (4, "after_breach", "3d", False),
]


def create(apps, schema_editor):
    Calendar = apps.get_model("sla", "Calendar")
    Policy = apps.get_model("sla", "Policy")
    EscalationStep = apps.get_model("sla", "EscalationStep")
    calendars = {}
    for code, zh, en, all_day, lunch in CALENDARS:
        calendars[code] = Calendar.objects.create(
            code=code, name_zh=zh, name_en=en, around_the_clock=all_day,
            lunch_from=lunch[0] if lunch else None, lunch_to=lunch[1] if lunch else None,
        )

    def targets(values):
        ack, first, update, resolve, extendable, expert = values
        return {"acknowledge": ack, "first_contact": first, "update_every": update,
                "resolve": resolve, "resolve_extendable_to": extendable,
                "expert_response": expert}

    for position, zh, en, match, values in POLICIES:
        Policy.objects.create(position=position, name_zh=zh, name_en=en, calendar=calendars["24x7"],
                              **match, **targets(values))
    zh, en, values = DEFAULT
    Policy.objects.create(position=1000, name_zh=zh, name_en=en, is_default=True,
                          calendar=calendars["24x7"], **targets(values))
    for level, when, after, reassign in CHAIN:
        EscalationStep.objects.create(level=level, when=when, after=after, reassign=reassign)


def remove(apps, schema_editor):
    for name in ("EscalationStep", "Policy", "Calendar"):
        apps.get_model("sla", name).objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial")]
    operations = [migrations.RunPython(create, remove)]
