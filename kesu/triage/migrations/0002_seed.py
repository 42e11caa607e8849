"""The default taxonomy (DOMAIN §2), risk-signal rules (DOMAIN E2) and scoring row.

Administrators change all of it afterwards in the admin; this only gives a sensible start.
"""

from django.db import migrations

TAXONOMY = [
    # (code, 中文, English, points, [(code, 中文, English, points), …])
    ("product_quality", "产品质量", "Product quality", 0, [
        ("quality_defect", "质量缺陷", "Quality defect", 5),
        ("missing_function", "品种或功能缺失", "Missing variety or function", 0),
        ("wrong_item", "错发漏发", "Wrong or missing item", 0),
        ("damaged_packaging", "包装破损", "Damaged packaging", 0),
        ("safety_hazard", "安全隐患", "Safety hazard", 30),
    ]),
    ("service", "服务", "Service", 0, [
        ("staff_attitude", "服务态度", "Staff attitude", 5),
        ("long_wait", "等候时间长", "Long wait", 0),
        ("late_delivery", "延迟交付", "Late delivery", 0),
        ("promise_not_kept", "承诺未兑现", "Promise not kept", 5),
        ("overcharging", "多收费或少找零", "Overcharging or short change", 5),
        ("billing_error", "账单差错", "Billing error", 5),
        ("refund_delay", "退款延迟", "Refund delay", 5),
        ("work_error", "工作失误", "Work error", 0),
    ]),
    ("policy_process", "政策与流程", "Policy and process", 0, [
        ("rule_not_explained", "规则未解释清楚", "Rule not explained", 0),
        ("rigid_policy", "政策执行僵化", "Policy applied rigidly", 0),
        ("unclear_responsibility", "职责不清、相互推诿", "Unclear responsibility", 5),
    ]),
    ("expectation_gap", "期望落差", "Expectation gap", 0, [
        ("exaggerated_ads", "夸大宣传", "Exaggerated advertising", 5),
        ("price_dispute", "价格争议", "Price dispute", 0),
        ("below_expectation", "质量或服务低于预期", "Below expectation", 0),
    ]),
    ("customer_misunderstanding", "顾客误解", "Customer misunderstanding", 0, [
        ("misunderstanding", "顾客误解", "Customer misunderstanding", 0),
    ]),
    ("fraud", "欺诈", "Fraud", 0, [
        ("commercial_fraud", "商业欺诈", "Commercial fraud", 20),
    ]),
]  # fmt: skip

RULES = [
    # (name, flag, category, grade floor, keywords)
    ("监管与热线 · Regulator or hotline", "regulator", "", "C",
     "12315 12345 12378 12365 12358 12331 12369 消协 消费者协会 消保委 市场监管 市场监督管理 "
     "工商局 质监局 物价局 金融监管 银保监 银监会 保监会 证监会 人民银行 监管部门 举报 信访 "
     "regulator regulators cfpb bbb better-business-bureau ftc attorney-general ombudsman "
     "consumer-protection"),
    ("媒体曝光 · Media or public exposure", "media", "", "C",
     "曝光 媒体 记者 电视台 报社 新闻 微博 抖音 小红书 发到网上 传到网上 挂到网上 网上曝光 朋友圈 公众号 今日头条 快手 "
     "黑猫投诉 发帖 热搜 "
     "media journalist reporter newspaper news tv-station twitter facebook tiktok "
     "social-media go-public viral"),
    ("法律行动 · Legal action", "legal", "", "C",
     "律师 起诉 法院 仲裁 诉讼 打官司 法律途径 律师函 报警 "
     "lawyer attorney sue suing lawsuit court legal-action arbitration small-claims"),
    ("安全与健康 · Safety or health", "safety", "", "B",
     "受伤 中毒 起火 着火 爆炸 过敏 烫伤 划伤 割伤 触电 漏电 住院 急诊 腹泻 拉肚子 呕吐 "
     "异物 冒烟 自燃 骨折 流血 有毒 窒息 "
     "injured injury poisoning poisoned caught-fire on-fire explosion exploded allergic allergy burned "
     "electric-shock hospital emergency-room choking unsafe"),
    ("集体投诉 · Group complaint", "group", "", "B",
     "我们都 联名 集体 多名业主 很多人都 大家都 维权群 群体 一起投诉 多位顾客 "
     "class-action all-of-us we-all many-customers petition"),
    ("反复联系 · Repeated contact", "repeat", "", "",
     "再次投诉 多次投诉 多次联系 反复投诉 第二次投诉 第三次 好几次 三番五次 一再 至今没有 "
     "至今未 迟迟未 一直没人 "
     "several-times multiple-times repeatedly third-time second-time still-not"),
    ("要求加急 · Asks for urgency", "urgent", "", "",
     "紧急 加急 马上 立即 立刻 十万火急 今天必须 急用 "
     "urgent urgently asap immediately right-away"),
    ("错发漏发 · Wrong or missing item", "", "wrong_item", "",
     "发错 少发 漏发 错发 缺件 少件 型号不对 wrong-item missing-item"),
    ("物流延迟 · Late delivery", "", "late_delivery", "",
     "迟迟不发货 延迟发货 还没发货 物流太慢 快递太慢 超时未送达 还没到货 "
     "late-delivery not-delivered never-arrived"),
    ("服务态度 · Staff attitude", "", "staff_attitude", "",
     "态度差 态度恶劣 态度很差 服务态度 不耐烦 爱理不理 骂人 甩脸色 rude impolite"),
    ("退款延迟 · Refund delay", "", "refund_delay", "",
     "退款还没到 迟迟不退款 不给退款 退款没到账 refund-not-received"),
    ("多收费 · Overcharging", "", "overcharging", "",
     "多收 多扣 乱收费 重复扣费 少找零 overcharged double-charged"),
    ("包装破损 · Damaged packaging", "", "damaged_packaging", "",
     "包装破损 外包装破 包装烂 盒子破 damaged-packaging"),
    ("虚假宣传 · Exaggerated advertising", "", "exaggerated_ads", "",
     "虚假宣传 夸大宣传 与宣传不符 货不对板 false-advertising misleading-advertising"),
    ("假货欺诈 · Counterfeit or fraud", "", "commercial_fraud", "C",
     "假货 假冒 诈骗 欺诈 以次充好 counterfeit fraudulent"),
]  # fmt: skip


def seed(apps, schema_editor):
    Category = apps.get_model("triage", "Category")
    Rule = apps.get_model("triage", "Rule")
    Scoring = apps.get_model("triage", "Scoring")
    codes = {}
    for position, (code, zh, en, points, children) in enumerate(TAXONOMY):
        nature = Category.objects.create(
            code=code, name_zh=zh, name_en=en, points=points, position=position * 10
        )
        codes[code] = nature
        for child_position, (child, czh, cen, cpoints) in enumerate(children):
            codes[child] = Category.objects.create(
                code=child,
                parent=nature,
                name_zh=czh,
                name_en=cen,
                points=cpoints,
                position=child_position * 10,
            )
    for position, (name, flag, category, floor, words) in enumerate(RULES):
        # Keywords are written with "-" for a space inside an English phrase.
        keywords = "\n".join(w.replace("-", " ") for w in words.split())
        Rule.objects.create(
            name=name,
            keywords=keywords,
            flag=flag,
            category=codes.get(category),
            grade_floor=floor,
            position=(position + 1) * 10,
        )
    Scoring.objects.create()


def unseed(apps, schema_editor):
    apps.get_model("triage", "Rule").objects.all().delete()
    apps.get_model("triage", "Scoring").objects.all().delete()
    Category = apps.get_model("triage", "Category")
    Category.objects.exclude(parent=None).delete()
    Category.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("triage", "0001_triage")]

    operations = [migrations.RunPython(seed, unseed)]
