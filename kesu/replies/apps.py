from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class RepliesConfig(AppConfig):
    name = "kesu.replies"
    label = "replies"
    verbose_name = _("Replies")

    def ready(self) -> None:
        from kesu.replies import selectors
        from kesu.replies.models import PhraseRule, ReplyTemplate

        for model in (PhraseRule, ReplyTemplate):
            uid = f"replies-forget-{model.__name__}"
            post_save.connect(selectors.forget, sender=model, dispatch_uid=uid)
            post_delete.connect(selectors.forget, sender=model, dispatch_uid=f"{uid}-deleted")
