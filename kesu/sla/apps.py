from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "kesu.sla"
    label = "sla"
    verbose_name = _("Service levels")

    def ready(self) -> None:
        from kesu.sla import selectors
        from kesu.sla.models import Calendar, CalendarDay, EscalationStep, Policy

        for model in (Calendar, CalendarDay, Policy, EscalationStep):
            post_save.connect(selectors.forget, sender=model, dispatch_uid=f"sla-forget-{model}")
            post_delete.connect(
                selectors.forget, sender=model, dispatch_uid=f"sla-forget-{model}-d"
            )
