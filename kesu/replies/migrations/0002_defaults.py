"""The reply phrase rules and templates Kesu starts with; administrators edit them afterwards.

The forbidden phrases are the seed's (处理投诉禁语: 规定就是这样的 · 你看不懂中文(英文)吗 ·
改天(尽快)和你联络(通知你) · 这种问题我们见得多了 · 我绝对没有说过这种话; and 系统坏了我也没
办法 from its drill) with their usual variants, and English equivalents; each says what to say
instead. Blaming the customer and vague promises are the seed's 禁止法则 (责难客户, 言行不一).
"""

from django.db import migrations

# kind, language, phrase, severity, suggestion
RULES = [
    ("forbidden", "zh", "规定就是这样的", "warn", "说明规定的原因，并告诉客户在规定之内我们能为他做什么。"),
    ("forbidden", "zh", "这是公司规定", "warn", "说明规定的原因，并告诉客户在规定之内我们能为他做什么。"),
    ("forbidden", "zh", "你看不懂中文吗", "block", "我再为您详细说明一下。"),
    ("forbidden", "zh", "你看不懂英文吗", "block", "我再为您详细说明一下。"),
    ("forbidden", "zh", "你听不懂吗", "block", "可能是我没有说清楚，我换个方式为您解释。"),
    ("forbidden", "zh", "这种问题我们见得多了", "warn", "感谢您告诉我们，我们会认真处理您的问题。"),
    ("forbidden", "zh", "这是常有的事", "warn", "很抱歉这件事发生在您身上，我们马上处理。"),
    ("forbidden", "zh", "我绝对没有说过这种话", "warn", "可能是我当时没有表达清楚，给您带来误会，非常抱歉。"),
    ("forbidden", "zh", "系统坏了我也没办法", "warn", "系统暂时出现故障，我们记下您的需求，恢复后第一时间为您办理。"),
    ("forbidden", "zh", "我也没办法", "warn", "我来帮您想办法，先为您……"),
    ("forbidden", "zh", "这不归我管", "warn", "我来帮您联系负责的同事，并跟进到底。"),
    ("forbidden", "zh", "你找别人去", "warn", "我来帮您联系负责的同事，并跟进到底。"),
    ("forbidden", "zh", "爱投诉就去投诉", "block", "我们会认真处理您的意见，并尽快给您答复。"),
    ("forbidden", "zh", "有本事你去告", "block", "我们会认真处理您的意见，并尽快给您答复。"),
    ("forbidden", "zh", "着急也没用", "warn", "我理解您的着急，我们会在……前给您结果。"),
    ("blame", "zh", "你自己没看清楚", "warn", "可能是我们的说明不够清楚，我来为您再解释一遍。"),
    ("blame", "zh", "是你自己的问题", "warn", "我们一起看看问题出在哪里，再为您解决。"),
    ("blame", "zh", "谁让你自己", "warn", "我们一起看看问题出在哪里，再为您解决。"),
    ("blame", "zh", "你没有按照说明书", "warn", "为了避免再次发生，建议您按说明书的这一步操作……"),
    ("blame", "zh", "这是你操作不当", "warn", "我们一起看看使用过程，找出原因后为您解决。"),
    ("vague", "zh", "尽快", "warn", "写明具体日期，例如：我们将于12月5日前给您答复。"),
    ("vague", "zh", "改天", "warn", "写明具体日期，例如：我们将于12月5日前与您联系。"),
    ("vague", "zh", "过几天", "warn", "写明具体日期，例如：我们将于12月5日前给您答复。"),
    ("vague", "zh", "回头再说", "warn", "写明具体日期，例如：我们将于12月5日前给您答复。"),
    ("vague", "zh", "等通知", "warn", "写明何时通知，例如：我们将于12月5日前通知您。"),
    ("forbidden", "en", "that's the policy", "warn", "Explain why the rule exists and what we can do for you within it."),
    ("forbidden", "en", "there's nothing I can do", "warn", "Here is what I can do for you: …"),
    ("forbidden", "en", "not my department", "warn", "I will bring in the colleague responsible and follow it through."),
    ("forbidden", "en", "we get this all the time", "warn", "Thank you for telling us; we take it seriously."),
    ("forbidden", "en", "I never said that", "warn", "I may not have been clear, and I am sorry for the confusion."),
    ("forbidden", "en", "calm down", "warn", "I understand how frustrating this is."),
    ("forbidden", "en", "can't you read", "block", "Let me explain it again in more detail."),
    ("blame", "en", "it's your fault", "warn", "Let us look at what went wrong together and put it right."),
    ("blame", "en", "you should have read", "warn", "Our instructions may not have been clear enough; here is what to do: …"),
    ("blame", "en", "you didn't follow the instructions", "warn", "To avoid this next time, the step that matters is …"),
    ("vague", "en", "as soon as possible", "warn", "Give a date: we will reply by 5 December."),
    ("vague", "en", "asap", "warn", "Give a date: we will reply by 5 December."),
    ("vague", "en", "in a few days", "warn", "Give a date: we will reply by 5 December."),
    ("vague", "en", "some time soon", "warn", "Give a date: we will reply by 5 December."),
]

TEMPLATES = [
    ("zh", "", 10, "首次回复 · 致歉并告知时限",
     "尊敬的{customer_name}：\n\n非常抱歉给您带来不便，我们理解您的心情。您的投诉已受理，编号为 {reference}。"
     "负责的同事{handler_name}将于 {first_contact_due} 前与您联系，并在 {resolve_due} 前给您处理结果。\n\n"
     "您可以随时在 {tracking_page} 查看处理进度。\n\n{org_name}"),
    ("zh", "", 20, "进展通报",
     "尊敬的{customer_name}：\n\n关于您的投诉（编号 {reference}），我们目前的进展是：……\n"
     "下一步我们将于……前……。感谢您的耐心。\n\n{org_name}"),
    ("zh", "late_delivery", 30, "物流延迟 · 致歉与补救",
     "尊敬的{customer_name}：\n\n非常抱歉您的商品未能按时送达（投诉编号 {reference}）。我们已联系物流核实，"
     "将于……前为您送达；如不能按时送达，我们将为您……。\n\n{org_name}"),
    ("en", "", 10, "First reply · apology and deadlines",
     "Dear {customer_name},\n\nWe are sorry for the trouble this has caused you, and we understand "
     "your frustration. Your complaint is registered as {reference}. {handler_name} will contact "
     "you by {first_contact_due} and give you our answer by {resolve_due}.\n\nYou can follow it at "
     "{tracking_page}.\n\n{org_name}"),
    ("en", "", 20, "Progress update",
     "Dear {customer_name},\n\nAbout your complaint {reference}: where we are now is …\n"
     "Next, we will … by …. Thank you for your patience.\n\n{org_name}"),
]


def create(apps, schema_editor):
    PhraseRule = apps.get_model("replies", "PhraseRule")
    ReplyTemplate = apps.get_model("replies", "ReplyTemplate")
    PhraseRule.objects.bulk_create(
        PhraseRule(kind=k, language=lang, phrase=p, severity=sev, suggestion=sug)
        for k, lang, p, sev, sug in RULES
    )
    ReplyTemplate.objects.bulk_create(
        ReplyTemplate(language=lang, category=cat, position=pos, name=name, body=body)
        for lang, cat, pos, name, body in TEMPLATES
    )


def remove(apps, schema_editor):
    apps.get_model("replies", "PhraseRule").objects.all().delete()
    apps.get_model("replies", "ReplyTemplate").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("replies", "0001_initial")]
    operations = [migrations.RunPython(create, remove)]
