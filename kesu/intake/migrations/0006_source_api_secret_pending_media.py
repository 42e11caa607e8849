from django.db import migrations, models



def tencent_default_as_empty(apps, schema_editor):
    """The old default (WeCom's address, on every source) becomes empty: each kind's own."""
    Source = apps.get_model("intake", "Source")
    Source.objects.filter(
        api_base__in=["https://qyapi.weixin.qq.com", "https://qyapi.weixin.qq.com/"]
    ).update(api_base="")


def empty_as_wecom_default(apps, schema_editor):
    """Backwards: the old code needs an address on every source, WeCom's by default."""
    Source = apps.get_model("intake", "Source")
    Source.objects.filter(api_base="").update(api_base="https://qyapi.weixin.qq.com")


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0006_sla_policy"),
        ("customers", "0003_id_card_contact"),
        ("intake", "0005_inboundmessage_held_files"),
    ]

    operations = [
        migrations.RenameField(
            model_name="source", old_name="kf_secret_env", new_name="api_secret_env"
        ),
        migrations.AlterField(
            model_name="source",
            name="api_secret_env",
            field=models.CharField(
                blank=True,
                help_text=(
                    "WeCom customer service: the Secret used to fetch its messages and files. "
                    "WeChat official account: the AppSecret, used to fetch the photos, voice "
                    "messages and videos customers send."
                ),
                max_length=100,
                verbose_name="API Secret from environment variable",
            ),
        ),
        migrations.AlterField(
            model_name="source",
            name="api_base",
            field=models.URLField(
                blank=True,
                help_text="Empty: Tencent's own (api.weixin.qq.com, qyapi.weixin.qq.com).",
                verbose_name="API address",
            ),
        ),
        migrations.RunPython(tencent_default_as_empty, empty_as_wecom_default),
        migrations.AddField(
            model_name="inboundmessage",
            name="media_due_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="inboundmessage",
            name="pending_media",
            field=models.JSONField(blank=True, default=list, verbose_name="files to fetch"),
        ),
        migrations.AddIndex(
            model_name="inboundmessage",
            index=models.Index(
                condition=models.Q(("media_due_at__isnull", False)),
                fields=["media_due_at"],
                name="inbound_media_due",
            ),
        ),
    ]
