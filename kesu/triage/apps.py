from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class TriageConfig(AppConfig):
    name = "kesu.triage"
    label = "triage"
    verbose_name = _("Triage")

    def ready(self) -> None:
        from kesu.triage import selectors
        from kesu.triage.models import Category, Rule, Scoring

        for model in (Category, Rule, Scoring):
            post_save.connect(selectors.forget, sender=model, dispatch_uid=f"forget-{model}")
            post_delete.connect(selectors.forget, sender=model, dispatch_uid=f"forget-{model}-d")
