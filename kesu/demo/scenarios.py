"""Demo complaint scenarios: original Chinese text used to seed realistic demo data.

Every string here was written for Kesu. Templates may use the slots ``{product}``,
``{store}``, ``{amount}``, ``{order}``, ``{date}``, ``{days}`` and ``{time}``; they are
filled with ``str.format``, so no other braces appear anywhere in the text.
"""

from __future__ import annotations

from dataclasses import dataclass

CATEGORY_CODES: tuple[str, ...] = (
    "quality_defect",
    "missing_function",
    "wrong_item",
    "late_delivery",
    "damaged_packaging",
    "staff_attitude",
    "overcharging",
    "long_wait",
    "promise_not_kept",
    "rule_not_explained",
    "billing_error",
    "refund_delay",
    "exaggerated_ads",
    "price_dispute",
    "misunderstanding",
    "commercial_fraud",
    "safety_hazard",
)

REMEDY_CODES: tuple[str, ...] = (
    "apology",
    "explanation",
    "refund",
    "replacement",
    "repair",
    "redo",
    "compensation",
    "fee_waiver",
    "other",
)

DEPARTMENT_CODES: tuple[str, ...] = (
    "customer_service",
    "after_sales",
    "quality",
    "logistics",
    "store_ops",
    "finance",
)

CHANNEL_CODES: tuple[str, ...] = (
    "web",
    "hotline",
    "email",
    "chat",
    "wechat",
    "store",
    "walk_in",
    "social",
    "letter",
)


@dataclass(frozen=True)
class Scenario:
    key: str
    industry: str
    subject: str
    description: str
    products: tuple[str, ...]
    amount: tuple[int, int] | None
    nature: str
    category: str
    demand: str
    department: str
    responsibility: str
    remedy_type: str
    remedy: str
    root_cause: str
    corrective_action: str
    channels: tuple[str, ...]
    grade: str


SCENARIOS: tuple[Scenario, ...] = (
    # ------------------------------------------------------------------ retail
    Scenario(
        key="retail_expired_dairy",
        industry="retail",
        subject="买到过期变质的{product}",
        description=(
            "我{date}在{store}买的{product}，回家一打开就是一股酸臭味，"
            "倒出来已经结块了。再看包装上的日期，保质期早过了两天。"
            "小票还留着，单号{order}。孩子差点就喝下去了，"
            "你们卖场到底有没有人检查临期商品？"
        ),
        products=("鲜牛奶950ml", "原味风味发酵乳", "巴氏杀菌低脂奶", "鲜榨橙汁1L"),
        amount=(12, 80),
        nature="product_quality",
        category="quality_defect",
        demand="refund",
        department="quality",
        responsibility="ours",
        remedy_type="compensation",
        remedy="退还货款{amount}元，并按食品安全法规定另行支付赔偿金，{days}个工作日内打款。",
        root_cause="早班未执行临期商品下架检查，冷柜温度记录有两小时空白。",
        corrective_action="临期商品每日早晚两次巡检并签字，冷柜加装温度超限报警。",
        channels=("store", "hotline", "wechat"),
        grade="D",
    ),
    Scenario(
        key="retail_deli_child_sick",
        industry="retail",
        subject="孩子吃了你们的熟食上吐下泻住院",
        description=(
            "{date}中午在{store}熟食区买了{product}，全家一起吃的，"
            "我六岁的儿子当晚就开始发烧、上吐下泻，送急诊诊断是细菌性肠胃炎，"
            "现在还在住院输液。医生说很可能是吃了不干净的东西。"
            "光住院押金就交了{amount}元。我要求你们马上派人来医院，"
            "把同一批的留样拿去检测，所有费用必须由你们承担！"
        ),
        products=("卤鸭脖", "凉拌鸡丝", "白切鸡", "寿司拼盘"),
        amount=(800, 6000),
        nature="product_quality",
        category="quality_defect",
        demand="compensation",
        department="quality",
        responsibility="ours",
        remedy_type="compensation",
        remedy=(
            "承担全部医疗费和误工费，店长与质量负责人{days}天内到医院探望，"
            "检测结果出来后当面向家属说明。"
        ),
        root_cause="熟食区冷藏柜当日温度偏高，同批次留样检出致病菌超标。",
        corrective_action="熟食区暂停凉拌类销售，员工全员复训，冷藏温度每两小时记录一次。",
        channels=("hotline", "social", "walk_in"),
        grade="B",
    ),
    Scenario(
        key="retail_escalator_injury",
        industry="retail",
        subject="{store}扶梯突然急停，我母亲摔伤骨折",
        description=(
            "{date}{time}，我陪七十岁的母亲在{store}坐扶梯上二楼，扶梯突然急停，"
            "母亲往后摔倒，头磕破了，右手腕骨折。当时扶梯旁边一个工作人员都没有，"
            "过了十多分钟保安才过来，也没人帮忙叫救护车，是我们自己打的120。"
            "到现在商场没有任何负责人出面，我要求你们立刻公开调查结果并赔偿。"
        ),
        products=("商场自动扶梯", "二楼上行扶梯", "地下超市坡道扶梯"),
        amount=(5000, 50000),
        nature="product_quality",
        category="safety_hazard",
        demand="compensation",
        department="store_ops",
        responsibility="ours",
        remedy_type="compensation",
        remedy=(
            "承担全部医疗费、护理费并协商其他赔偿，总经理{days}天内登门致歉，并书面通报调查结果。"
        ),
        root_cause="扶梯梳齿板卡入异物触发急停，维保单位上月巡检漏项，现场无人值守。",
        corrective_action="全部扶梯停梯检修，更换维保单位，高峰时段每部扶梯安排专人值守。",
        channels=("walk_in", "hotline", "social"),
        grade="A",
    ),
    Scenario(
        key="retail_short_change",
        industry="retail",
        subject="收银少找我{amount}元还不承认",
        description=(
            "{time}在{store}三号收银台结账，买的是{product}，我付了两百元现金，"
            "收银员找零时少给了我{amount}元。我当场就指出来，她说“你自己没拿好吧”，"
            "连钱箱都不愿意点一下，后面排队的人都在看我。小票单号{order}，"
            "请你们调监控查清楚，把钱还我，也要给我道歉。"
        ),
        products=("洗衣液两桶", "一箱牛奶和抽纸", "水果零食一袋", "东北大米10kg"),
        amount=(10, 50),
        nature="service",
        category="overcharging",
        demand="refund",
        department="store_ops",
        responsibility="ours",
        remedy_type="refund",
        remedy="经调取监控确认少找零，{days}天内退还{amount}元，收银主管当面向客户致歉。",
        root_cause="收银员找零时未唱收唱付，客户提出异议后也未按流程清点钱箱。",
        corrective_action="收银台严格执行唱收唱付，有争议时当场核点钱箱并请值班主管到场。",
        channels=("store", "hotline"),
        grade="E",
    ),
    Scenario(
        key="retail_appliance_brushoff",
        industry="retail",
        subject="新买的{product}坏了，门店让我自己找厂家",
        description=(
            "{date}在{store}买的{product}，用了不到{days}天就通不上电了。"
            "我拿回门店，售后柜台的小伙子看都没看，说“这是厂家的事，你自己打厂家电话”，"
            "说完就低头玩手机。东西是在你们店买的，发票也是你们开的，"
            "凭什么让我自己去找厂家？我要求直接换新的。"
        ),
        products=("智能电饭煲 FB-30A", "电热水壶 KT-1715", "空气炸锅 AF-550", "挂烫机 GS-208"),
        amount=(199, 699),
        nature="service",
        category="staff_attitude",
        demand="replacement",
        department="after_sales",
        responsibility="ours",
        remedy_type="replacement",
        remedy="门店按十五日包换为客户直接换新，{days}天内送货上门，并由售后主管当面致歉。",
        root_cause="售后员工不清楚门店先行负责的规定，把客户推给厂家，态度敷衍。",
        corrective_action="售后柜台培训首问负责制，十五天内的故障商品一律由门店先行处理。",
        channels=("store", "hotline", "wechat"),
        grade="D",
    ),
    Scenario(
        key="retail_checkout_queue",
        industry="retail",
        subject="周末结账排队四十分钟",
        description=(
            "{date}{time}去{store}买东西，十几个收银台只开了两个，自助收银机还坏了一半。"
            "我推着购物车排了四十多分钟，孩子饿得直哭。问旁边的工作人员能不能多开几个台，"
            "对方回了一句“人手不够，没办法”。这么大的超市，周末就这样对待顾客？"
        ),
        products=("周末人工收银", "自助收银机", "会员快速通道"),
        amount=None,
        nature="service",
        category="long_wait",
        demand="apology",
        department="store_ops",
        responsibility="ours",
        remedy_type="apology",
        remedy="值班经理电话向客户致歉，并在{days}天内告知周末高峰收银台的调整方案。",
        root_cause="周末排班未按客流预测增加收银员，自助收银机故障两天未报修。",
        corrective_action="高峰时段收银台全开，排队超过五人即启用机动收银，设备故障当天报修。",
        channels=("store", "hotline", "wechat"),
        grade="E",
    ),
    Scenario(
        key="retail_member_price_misread",
        industry="retail",
        subject="价签价格和结账价格不一样",
        description=(
            "货架上{product}的价签明明写着{amount}元，到收银台一扫码却贵了好几块，"
            "收银员说那是会员价。价签上“会员价”三个字印得那么小，谁看得见？"
            "这不是故意误导消费者吗？我要求按价签上的价格把差价退给我。"
        ),
        products=("进口橄榄油1L", "洗发水750ml", "每日坚果礼盒", "挂面组合装"),
        amount=(29, 99),
        nature="customer_misunderstanding",
        category="misunderstanding",
        demand="refund",
        department="customer_service",
        responsibility="unfounded",
        remedy_type="explanation",
        remedy="向客户说明价签上零售价与会员价的标注，并协助其现场免费办理会员后按会员价结算。",
        root_cause="价签同时标注零售价和会员价，字号符合规定，客户未留意会员价标识。",
        corrective_action="会员价签改用不同底色，收银员结账时主动提示会员价。",
        channels=("store", "walk_in"),
        grade="E",
    ),
    # --------------------------------------------------------------- ecommerce
    Scenario(
        key="ecommerce_charger_fire",
        industry="ecommerce",
        subject="{product}充电时起火，差点烧了房子",
        description=(
            "我在你们平台买的{product}，订单号{order}。{date}晚上给手机充电时突然冒烟起火，"
            "床头柜烧黑了一块，窗帘也烧着了，幸好我爱人还没睡，及时用水浇灭。"
            "家里还有个两岁的孩子，想想都后怕！现场照片和烧坏的充电器我都留着。"
            "你们卖的到底是不是合格产品？必须给我一个交代！"
        ),
        products=("65W氮化镓快充头", "20000mAh移动电源", "三合一无线充电座", "多口USB充电器"),
        amount=(2000, 30000),
        nature="product_quality",
        category="quality_defect",
        demand="compensation",
        department="quality",
        responsibility="ours",
        remedy_type="compensation",
        remedy="同批次商品立即下架，{days}天内上门取回残件送检，先行赔付家具损失{amount}元。",
        root_cause="供应商擅自更换内部电源芯片，该批次过充保护失效，入库抽检未覆盖。",
        corrective_action="召回同批次商品，充电类商品改为逐批送第三方检测合格后上架。",
        channels=("hotline", "social", "chat"),
        grade="A",
    ),
    Scenario(
        key="ecommerce_wrong_model",
        industry="ecommerce",
        subject="订的{product}，发来的却是别的型号",
        description=(
            "我下单买的是{product}，订单号{order}。收到拆开一看，机身型号完全对不上，"
            "是便宜一档的老款，里面的说明书也是另一个型号的。我是买来送人的，"
            "这下全耽误了。客服让我先寄回去，等仓库收到再补发，"
            "一来一回至少一个星期，运费还要我先垫。"
        ),
        products=("扫地机器人 R7 Pro", "降噪蓝牙耳机 Q35", "家用投影仪 P20", "电动牙刷 T6"),
        amount=(199, 2999),
        nature="product_quality",
        category="wrong_item",
        demand="replacement",
        department="logistics",
        responsibility="ours",
        remedy_type="replacement",
        remedy="先行补发正确型号，{days}天内送达，错发商品由快递免费上门取回，不需客户垫付运费。",
        root_cause="两款商品外箱相似且相邻存放，拣货时扫码复核环节被跳过。",
        corrective_action="外箱相似的商品分区存放，出库强制扫码核对型号，错发率纳入拣货考核。",
        channels=("chat", "web", "hotline"),
        grade="D",
    ),
    Scenario(
        key="ecommerce_late_delivery",
        industry="ecommerce",
        subject="说好次日达，{days}天了还没到",
        description=(
            "{date}下单的{product}，页面上写着“次日达”，我还特意多付钱选了加急。"
            "结果{days}天过去了，物流一直显示在中转站，问客服就是“请耐心等待”，"
            "问快递又说是你们发货晚了。两边踢皮球，到底谁负责？"
            "东西是给孩子开学用的，现在已经来不及了。"
        ),
        products=("儿童书桌椅套装", "学生护眼台灯", "双肩书包", "入学文具礼盒"),
        amount=(50, 800),
        nature="service",
        category="late_delivery",
        demand="compensation",
        department="logistics",
        responsibility="shared",
        remedy_type="compensation",
        remedy="退还加急运费并补偿一张无门槛优惠券，催办快递{days}天内送达，否则支持全额退款。",
        root_cause="仓库当日订单激增延迟出库一天，快递中转站滞留两天未更新轨迹。",
        corrective_action="承诺时效的订单单独排产，与快递约定滞留超过24小时自动预警。",
        channels=("chat", "web"),
        grade="E",
    ),
    Scenario(
        key="ecommerce_damaged_package",
        industry="ecommerce",
        subject="包裹破损，{product}摔坏了",
        description=(
            "快递送到的时候外箱一角已经压扁了，快递员放下就走，没让我当面验货。"
            "打开发现{product}有裂痕，箱子里的泡沫只在底下垫了薄薄一层。订单号{order}。"
            "我拍了开箱视频，申请售后却被告知要我自己先找快递理赔。"
            "我又不认识快递，东西是你们发的，凭什么让我去跑？"
        ),
        products=("陶瓷餐具16件套", "玻璃花瓶", "钢化玻璃茶几面", "27英寸显示器"),
        amount=(89, 1599),
        nature="product_quality",
        category="damaged_packaging",
        demand="replacement",
        department="logistics",
        responsibility="shared",
        remedy_type="replacement",
        remedy="平台先行补发新品，{days}天内送达，破损件无需寄回，由我方向快递公司追偿。",
        root_cause="易碎品包装缓冲不足，配送途中外箱受压，快递员也未执行当面验货。",
        corrective_action="易碎品统一使用加厚泡沫并贴易碎标识，要求快递签收前当面开箱。",
        channels=("chat", "web"),
        grade="E",
    ),
    Scenario(
        key="ecommerce_counterfeit",
        industry="ecommerce",
        subject="在你们平台买到假冒{product}",
        description=(
            "{date}买的{product}，{amount}元，订单号{order}。用了几天脸上发红发痒，"
            "拿去跟专柜的一对比，瓶身字体、批号格式都不一样，扫防伪码显示“已被查询多次”。"
            "你们页面上写着“官方正品，假一赔十”，现在怎么说？"
            "我要求退货退款，并按你们自己的承诺赔偿。"
        ),
        products=("修护精华液50ml", "保湿面霜", "防晒喷雾", "淡香水30ml"),
        amount=(199, 1280),
        nature="fraud",
        category="commercial_fraud",
        demand="compensation",
        department="quality",
        responsibility="ours",
        remedy_type="compensation",
        remedy="全额退款{amount}元并按页面承诺赔偿，{days}天内到账，商品寄回送品牌方鉴定。",
        root_cause="第三方店铺从非授权渠道进货，平台资质审核只看了授权书复印件。",
        corrective_action="该店铺商品全部下架并冻结保证金，美妆类商家增加进货凭证审核。",
        channels=("chat", "hotline", "social"),
        grade="C",
    ),
    Scenario(
        key="ecommerce_price_drop",
        industry="ecommerce",
        subject="刚买{days}天就降价，差价不给退",
        description=(
            "我{date}买的{product}花了{amount}元，才过了{days}天，同一家店同一款就降了三百多。"
            "页面上明明写着“保价30天”，我申请保价，客服却说这次是“平台补贴活动价”，"
            "不在保价范围内。这算哪门子保价？我要求退差价，不然我就退货重新买。"
        ),
        products=("洗烘一体机 10kg", "变频空调 1.5匹", "65英寸智能电视", "14英寸轻薄笔记本"),
        amount=(1999, 6999),
        nature="expectation_gap",
        category="price_dispute",
        demand="refund",
        department="customer_service",
        responsibility="shared",
        remedy_type="refund",
        remedy="按保价规则退还差价，{days}个工作日内原路退回，并在下单页补充保价例外说明。",
        root_cause="“平台补贴价除外”的条款只写在详情页底部，客服解释也比较生硬。",
        corrective_action="保价例外条款在下单页显著提示，客服统一解释口径。",
        channels=("chat", "web"),
        grade="E",
    ),
    Scenario(
        key="ecommerce_refund_delay",
        industry="ecommerce",
        subject="退货{days}天了，{amount}元退款还没到",
        description=(
            "{product}我早就寄回去了，快递显示{date}仓库已经签收，订单号{order}。"
            "说好的3到5个工作日退款，现在{days}天了，{amount}元一分没见到。"
            "每次问客服都是“已经加急”“财务在处理”，再问就是复制粘贴的话。"
            "我的钱到底在哪儿？"
        ),
        products=("女款羽绒服", "缓震跑步鞋", "骑行头盔", "24寸旅行箱"),
        amount=(199, 1299),
        nature="service",
        category="refund_delay",
        demand="refund",
        department="finance",
        responsibility="ours",
        remedy_type="refund",
        remedy="财务当天人工处理退款，{days}个工作日内原路到账，并补偿一张优惠券表示歉意。",
        root_cause="退货入库后质检结果未回传系统，退款单卡在待审核状态无人跟进。",
        corrective_action="退款单超过72小时未处理自动提醒财务，客服可直接查看退款节点。",
        channels=("chat", "hotline", "email"),
        grade="D",
    ),
    # -------------------------------------------------------------------- bank
    Scenario(
        key="bank_annual_fee_misunderstanding",
        industry="bank",
        subject="信用卡被扣年费{amount}元",
        description=(
            "我办卡的时候，客户经理明明说这张{product}免年费，今天看账单突然扣了{amount}元年费，"
            "我从来没同意过。你们这是乱扣费吧？我要求马上退回来，不退我就销卡。"
        ),
        products=("白金信用卡", "商旅联名信用卡", "标准金卡"),
        amount=(200, 600),
        nature="customer_misunderstanding",
        category="misunderstanding",
        demand="refund",
        department="customer_service",
        responsibility="customer",
        remedy_type="explanation",
        remedy="向客户说明首年免年费、次年刷卡满六次免年费的规则，并告知本年度达标后可申请返还。",
        root_cause="该卡首年免年费，次年需刷卡满六次，客户上一年度只刷了两次。",
        corrective_action="扣收年费前一个月短信提醒客户剩余的免年费条件。",
        channels=("hotline", "wechat"),
        grade="E",
    ),
    Scenario(
        key="bank_pos_double_charge",
        industry="bank",
        subject="刷一次卡被扣了两次钱",
        description=(
            "{date}{time}我在商场用{product}付款，POS机第一次显示失败，收银员让我再刷一次，"
            "结果两笔{amount}元都扣了。商户说他们只收到一笔，让我找银行。"
            "我打了三次客服，每次都是“已登记，请耐心等待”，"
            "到现在{days}天了钱还没退回来。"
        ),
        products=("借记卡", "信用卡", "手机银行扫码支付"),
        amount=(300, 5000),
        nature="service",
        category="billing_error",
        demand="refund",
        department="finance",
        responsibility="ours",
        remedy_type="refund",
        remedy="核实重复扣款后{days}个工作日内退回{amount}元，并免除该笔可能产生的利息。",
        root_cause="POS交易超时后银行端未自动冲正，差错工单排队未及时处理。",
        corrective_action="冲正失败自动生成差错工单，三个工作日内必须办结。",
        channels=("hotline", "wechat", "walk_in"),
        grade="D",
    ),
    Scenario(
        key="bank_card_fraud",
        industry="bank",
        subject="卡在身边，账户被盗刷{amount}元",
        description=(
            "{date}凌晨两点多，我手机连着收到好几条扣款短信，{product}被人在外地网上消费，"
            "一共{amount}元，可卡一直在我钱包里。我马上打你们客服挂失，等了二十多分钟才接通。"
            "这是我攒了好几年的钱，你们的风控到底有没有用？我已经报警了，要求银行先行赔付。"
        ),
        products=("借记卡", "储蓄卡", "快捷支付账户"),
        amount=(5000, 80000),
        nature="fraud",
        category="commercial_fraud",
        demand="compensation",
        department="finance",
        responsibility="shared",
        remedy_type="compensation",
        remedy="配合警方调查，{days}个工作日内对确认的盗刷交易先行垫付，并为客户换发新卡。",
        root_cause="客户支付信息疑似被钓鱼网站获取，夜间异地连续大额交易未触发风控拦截。",
        corrective_action="调低夜间异地快捷支付的拦截阈值，挂失热线增设紧急通道。",
        channels=("hotline", "walk_in", "letter"),
        grade="B",
    ),
    Scenario(
        key="bank_branch_queue",
        industry="bank",
        subject="{store}只开一个窗口，排了两小时",
        description=(
            "{date}上午我去{store}办理{product}，取号时前面只有十几个人，结果整整等了两个小时。"
            "六个窗口只开了一个，另外几个柜员在里面聊天。我问大堂经理能不能多开个窗口，"
            "她说“中午要轮流吃饭”。我是请假过来的，一上午全耽误了。"
        ),
        products=("社保卡激活", "柜台转账", "存折补登", "大额取现"),
        amount=None,
        nature="service",
        category="long_wait",
        demand="apology",
        department="store_ops",
        responsibility="ours",
        remedy_type="apology",
        remedy="网点负责人{days}天内电话向客户致歉，客户下次办理可预约专窗，无需排队。",
        root_cause="网点午间排班不合理，同一时段三名柜员休息，未启用弹性窗口。",
        corrective_action="午间至少保持三个窗口营业，等候超过30分钟由大堂经理增开窗口。",
        channels=("walk_in", "hotline", "letter"),
        grade="E",
    ),
    Scenario(
        key="bank_wealth_misselling",
        industry="bank",
        subject="客户经理说保本的理财亏了",
        description=(
            "去年客户经理向我推荐{product}，当时反复说“跟存款一样稳，不会亏本”，"
            "我才把准备养老的{amount}元买了进去。现在到期一看亏了将近百分之八。"
            "回去找她，她说风险揭示书我签了字。我七十岁了，那么小的字根本看不清，"
            "当时也没人给我解释。"
        ),
        products=("净值型理财产品", "混合类理财计划", "代销基金组合"),
        amount=(50000, 300000),
        nature="service",
        category="promise_not_kept",
        demand="compensation",
        department="customer_service",
        responsibility="shared",
        remedy_type="compensation",
        remedy="调取双录视频核查销售过程，{days}个工作日内给出书面结论，误导部分由银行按比例补偿。",
        root_cause="客户经理销售时口头承诺“不会亏本”，未向高龄客户充分揭示风险。",
        corrective_action="高龄客户购买非保本产品须由第二名员工复核并重新双录。",
        channels=("walk_in", "letter", "hotline"),
        grade="C",
    ),
    Scenario(
        key="bank_small_account_fee",
        industry="bank",
        subject="卡里每季度被扣管理费，没人通知",
        description=(
            "我有张很少用的{product}，最近查流水才发现每个季度都被扣一次小额账户管理费，"
            "前前后后扣了{amount}元。开户的时候谁也没跟我说过有这个费用，"
            "扣费短信也从来没收到过。现在不是都说免这个费了吗？我要求全部退还。"
        ),
        products=("储蓄卡", "工资卡", "二类电子账户"),
        amount=(12, 120),
        nature="policy_process",
        category="rule_not_explained",
        demand="refund",
        department="customer_service",
        responsibility="shared",
        remedy_type="fee_waiver",
        remedy="退还近两年扣收的管理费共{amount}元，并将该账户设为免收，{days}个工作日内办结。",
        root_cause="账户按旧规则收费，预留手机号已停用，扣费提醒短信一直未送达。",
        corrective_action="排查全部收取小额管理费的账户，默认免收并通过手机银行告知客户。",
        channels=("hotline", "wechat"),
        grade="E",
    ),
    Scenario(
        key="bank_atm_no_cash",
        industry="bank",
        subject="ATM没出钞，钱却扣了",
        description=(
            "{date}{time}我在{store}门口的ATM取{amount}元，机器响了半天，出钞口没打开，"
            "屏幕显示“交易失败”，可手机马上收到了扣款短信。我当场打了机器上贴的电话，"
            "说要等清机对账。已经{days}天了钱还没回来，我的生活费都在这张卡里。"
        ),
        products=("自助取款机取现", "存取款一体机", "无卡取现"),
        amount=(500, 3000),
        nature="service",
        category="refund_delay",
        demand="refund",
        department="finance",
        responsibility="ours",
        remedy_type="refund",
        remedy="清机对账已确认长款，{days}个工作日内将{amount}元退回原卡，并电话告知到账时间。",
        root_cause="ATM钞箱卡钞导致交易未完成，清机周期为七天，差错未提前处理。",
        corrective_action="吞钞、卡钞报告当天安排加急清机，差错处理时限缩短到两个工作日。",
        channels=("hotline", "walk_in"),
        grade="D",
    ),
    # --------------------------------------------------------------- insurance
    Scenario(
        key="insurance_auto_claim_delay",
        industry="insurance",
        subject="车险理赔拖了{days}天还没结案",
        description=(
            "{date}我的车在小区里被追尾，对方全责。报案后你们的查勘员第二天才来，"
            "材料我一周内就交齐了，可到现在{days}天了定损单还没出，"
            "每次打电话都说“在审核”。修理厂催我提车付款，{amount}元维修费只能自己先垫。"
            "你们的{product}理赔到底有没有时限？"
        ),
        products=("机动车商业险", "车损险", "交强险"),
        amount=(3000, 20000),
        nature="service",
        category="long_wait",
        demand="other",
        department="after_sales",
        responsibility="ours",
        remedy_type="other",
        remedy="理赔专员{days}个工作日内完成定损并赔付，直接与修理厂结算，客户无需垫付。",
        root_cause="片区定损员岗位空缺，案件积压在系统中未重新分派。",
        corrective_action="案件超过十天未定损自动升级到理赔主管，空缺岗位临时跨区调配。",
        channels=("hotline", "wechat"),
        grade="D",
    ),
    Scenario(
        key="insurance_critical_illness_delay",
        industry="insurance",
        subject="重疾理赔两个月不给钱，病人等着救命",
        description=(
            "我丈夫{date}确诊肺癌，买你们的{product}已经好几年了，保额{amount}元。"
            "诊断书、病理报告我全都交齐了，快两个月了，理赔员一会儿让补五年前的体检记录，"
            "一会儿说要去医院调查，就是不赔。下一期靶向药又要好几万，家里已经借遍了。"
            "卖保险的时候那么热情，理赔时人都找不到了！"
        ),
        products=("终身重疾险", "防癌险", "百万医疗险"),
        amount=(100000, 500000),
        nature="service",
        category="long_wait",
        demand="other",
        department="after_sales",
        responsibility="ours",
        remedy_type="other",
        remedy="启动重疾理赔绿色通道，{days}个工作日内完成审核，并先行预付部分理赔款。",
        root_cause="调查环节多次分散要求补材料，理赔时效超出合同约定也未预警。",
        corrective_action="重疾案件所需材料一次性告知，超过30日未结案由分管领导督办。",
        channels=("hotline", "social", "letter"),
        grade="B",
    ),
    Scenario(
        key="insurance_waiting_period",
        industry="insurance",
        subject="住院报销被拒，说在等待期内",
        description=(
            "我{date}买的{product}，一个多月后因为胆结石住院，花了{amount}元。"
            "申请报销被拒了，理由是“等待期内出险”。买的时候网页上写着“住院就能报”，"
            "哪里说过有等待期？我觉得你们就是找借口不赔。"
        ),
        products=("百万医疗险", "住院医疗险", "城市惠民健康险"),
        amount=(5000, 30000),
        nature="customer_misunderstanding",
        category="misunderstanding",
        demand="other",
        department="customer_service",
        responsibility="customer",
        remedy_type="explanation",
        remedy="向客户逐条说明条款中30天等待期的约定和投保确认页，并告知等待期后出险可正常理赔。",
        root_cause="保单约定30天等待期，投保时客户已勾选确认，出险日期在等待期内。",
        corrective_action="投保页面将等待期提示移到显著位置，保单生效短信中再次提醒。",
        channels=("hotline", "email"),
        grade="E",
    ),
    Scenario(
        key="insurance_agent_overpromise",
        industry="insurance",
        subject="业务员说“什么都能赔”，结果不赔",
        description=(
            "去年你们的业务员上门给我推荐{product}，拍着胸脯说“意外、生病、住院都能赔，"
            "一年才{amount}元”。上个月我母亲摔了一跤去医院拍片，申请理赔才知道"
            "门诊根本不在保障范围内。再找那个业务员，电话不接，微信也把我拉黑了。"
        ),
        products=("综合意外险", "家庭保障计划", "老年人意外险"),
        amount=(300, 3000),
        nature="service",
        category="promise_not_kept",
        demand="refund",
        department="customer_service",
        responsibility="ours",
        remedy_type="refund",
        remedy="核实销售过程后为客户全额退保，{days}个工作日内退还保费{amount}元，并约谈涉事业务员。",
        root_cause="业务员为促成销售夸大保障范围，未向客户出示免责条款。",
        corrective_action="涉事业务员停止展业，上门销售须留存条款讲解录音并电话回访。",
        channels=("hotline", "letter", "wechat"),
        grade="C",
    ),
    Scenario(
        key="insurance_auto_renewal_charge",
        industry="insurance",
        subject="没同意续保却被自动扣了保费",
        description=(
            "我的{product}去年到期后就不打算续了，可{date}银行卡突然被扣了{amount}元，"
            "一查是你们自动续保扣的。我从来没收到过续保提醒，也不记得开通过什么自动续费。"
            "卡里的钱是准备交房租的，请马上退回来，并把自动扣款关掉。"
        ),
        products=("短期健康险", "意外险月缴版", "宠物医疗险"),
        amount=(99, 1800),
        nature="service",
        category="billing_error",
        demand="refund",
        department="finance",
        responsibility="shared",
        remedy_type="refund",
        remedy="撤销本次续保，{days}个工作日内全额退还{amount}元，并为客户关闭自动续保。",
        root_cause="投保页默认勾选自动续保，续保前的提醒短信因系统故障未发出。",
        corrective_action="取消自动续保默认勾选，扣费前七天和前一天各提醒一次。",
        channels=("hotline", "wechat", "email"),
        grade="D",
    ),
    Scenario(
        key="insurance_surrender_value",
        industry="insurance",
        subject="退保只退这么点，当初没人说",
        description=(
            "我交了三年{product}，每年{amount}元，现在家里急用钱想退保，结果只能退回不到一半。"
            "我问柜面为什么，工作人员丢给我一句“合同上写着呢”。当初卖给我的时候说随时能取，"
            "根本没讲过退保会损失这么多。"
        ),
        products=("分红型年金险", "两全保险", "增额终身寿险"),
        amount=(5000, 30000),
        nature="policy_process",
        category="rule_not_explained",
        demand="refund",
        department="customer_service",
        responsibility="shared",
        remedy_type="explanation",
        remedy="专人向客户解释现金价值的计算方式，提供保单贷款方案解决急用，{days}天内回访。",
        root_cause="现金价值表在合同附页，销售时未讲解，柜面答复简单生硬。",
        corrective_action="长期险投保时讲解现金价值表并由客户签字，柜面统一解释话术。",
        channels=("walk_in", "hotline"),
        grade="D",
    ),
    Scenario(
        key="insurance_claims_line_rude",
        industry="insurance",
        subject="理赔专线态度恶劣，直接挂我电话",
        description=(
            "{date}{time}我打理赔专线问{product}的理赔进度，接电话的人语气很冲，"
            "我才问了两句，她就说“都跟你说了在审核，你天天打也没用”，然后直接把电话挂了。"
            "我是你们的客户，不是来求你们的。请查一下录音，给我一个道歉。"
        ),
        products=("家庭财产险", "车损险", "旅行意外险"),
        amount=None,
        nature="service",
        category="staff_attitude",
        demand="apology",
        department="customer_service",
        responsibility="ours",
        remedy_type="apology",
        remedy="录音核实属实，客服主管{days}天内电话向客户致歉，并告知理赔进度和预计结案时间。",
        root_cause="坐席员工高峰时段情绪失控，违反服务规范擅自挂断客户电话。",
        corrective_action="涉事员工扣罚并复训，主动挂断来电纳入每日质检抽查。",
        channels=("hotline", "email"),
        grade="E",
    ),
    # ----------------------------------------------------------------- telecom
    Scenario(
        key="telecom_broadband_outage",
        industry="telecom",
        subject="宽带断网{days}天，报修没人来",
        description=(
            "家里的{product}从{date}开始就断断续续，后来干脆连不上了。报修了三次，"
            "每次都说24小时内上门，结果师傅一次也没来，打电话去问，说“片区人手紧张”。"
            "我在家办公，这{days}天全靠手机热点，流量费都花了不少。"
            "宽带费一分不少收，服务就这样？"
        ),
        products=("300M家庭宽带", "千兆光纤宽带", "融合套餐宽带"),
        amount=None,
        nature="service",
        category="promise_not_kept",
        demand="repair",
        department="after_sales",
        responsibility="ours",
        remedy_type="fee_waiver",
        remedy="装维人员{days}天内上门修复，减免断网期间的宽带月租，并赠送当月流量包。",
        root_cause="小区光交箱线路被施工挖断，报修工单派给了已离职人员，无人处理。",
        corrective_action="离职人员名下工单自动回收重派，故障超48小时未修复升级到区县经理。",
        channels=("hotline", "wechat", "social"),
        grade="D",
    ),
    Scenario(
        key="telecom_unordered_services",
        industry="telecom",
        subject="莫名被扣增值业务费好几个月",
        description=(
            "这几个月话费总比套餐多出二三十块，今天打出详单才发现被开通了{product}，"
            "已经扣了{amount}元。我从来没订过这些东西，也没收到过任何确认短信。"
            "客服说可能是我“误点了链接”，我一个六十多岁的人哪会去点这些？"
            "要求全部退还，并查清楚是谁给我开的。"
        ),
        products=("视频会员包", "彩铃音乐包", "手机阅读包", "来电提醒服务"),
        amount=(30, 300),
        nature="service",
        category="billing_error",
        demand="refund",
        department="customer_service",
        responsibility="ours",
        remedy_type="refund",
        remedy="立即退订并退还已扣的{amount}元，{days}个工作日内返还到话费账户，并开通订购保护。",
        root_cause="该业务由代理营业点批量办理，系统中没有客户二次确认记录。",
        corrective_action="增值业务开通一律短信二次确认，代理渠道违规办理扣罚佣金。",
        channels=("hotline", "social", "wechat"),
        grade="D",
    ),
    Scenario(
        key="telecom_gigabit_ads",
        industry="telecom",
        subject="号称千兆宽带，实测不到一百兆",
        description=(
            "营业厅海报上写着“千兆光纤，下载一部电影只要几秒”，我才从300M升级到{product}，"
            "每月多花{amount}元。装好以后用电脑测速最高才八九十兆，晚上更慢。"
            "装维师傅说是我家路由器和网线不行，要我再花钱换。这些广告上为什么不提前说清楚？"
        ),
        products=("千兆光纤宽带", "千兆融合套餐", "全屋光纤组网"),
        amount=(30, 100),
        nature="expectation_gap",
        category="exaggerated_ads",
        demand="refund",
        department="customer_service",
        responsibility="shared",
        remedy_type="other",
        remedy="免费更换千兆路由器并上门测速，{days}天内仍不达标可无违约金改回原套餐并退差价。",
        root_cause="客户使用百兆路由器和五类网线，宣传海报未注明需千兆终端才能达速。",
        corrective_action="千兆宣传物料补充终端要求，受理时核查客户设备并当面告知。",
        channels=("hotline", "store", "social"),
        grade="E",
    ),
    Scenario(
        key="telecom_counter_rude",
        industry="telecom",
        subject="{store}营业员当众嘲讽我",
        description=(
            "{date}{time}我到{store}办理{product}，因为不太会用智能手机，多问了两句怎么操作。"
            "柜台的女营业员直接翻白眼，说“这都不会，回家让你孩子弄”，旁边好几个人都笑了。"
            "我是来花钱办业务的，凭什么受这种气？我要求她当面向我道歉。"
        ),
        products=("手机号过户", "套餐变更", "补办SIM卡", "老年卡办理"),
        amount=None,
        nature="service",
        category="staff_attitude",
        demand="apology",
        department="store_ops",
        responsibility="ours",
        remedy_type="apology",
        remedy="营业厅经理带涉事员工{days}天内登门当面致歉，并安排专人协助客户办完业务。",
        root_cause="营业员服务意识差，高峰期对老年客户缺乏耐心，言语不当。",
        corrective_action="涉事员工调离柜台复训，营业厅增设老年人服务专席。",
        channels=("walk_in", "hotline", "social"),
        grade="D",
    ),
    Scenario(
        key="telecom_cashback_not_paid",
        industry="telecom",
        subject="办合约时承诺的返话费没返",
        description=(
            "{date}在{store}办的{product}，营业员当时说每月返{amount}元话费，连返12个月，"
            "还在受理单上手写了。现在三个月过去了，一分都没返，营业厅说活动早结束了，"
            "手写的不算数。当初要不是这么说，我根本不会签两年的合约。"
        ),
        products=("129元5G合约套餐", "融合宽带套餐", "购机合约计划"),
        amount=(20, 60),
        nature="service",
        category="promise_not_kept",
        demand="compensation",
        department="store_ops",
        responsibility="ours",
        remedy_type="compensation",
        remedy="按营业员的手写承诺补返已到期话费，剩余月份按月返还，{days}个工作日内首笔到账。",
        root_cause="营业员为冲业绩超出活动政策手写承诺，门店未审核受理单。",
        corrective_action="禁止在受理单上手写附加承诺，合约业务由店长复核后方可提交。",
        channels=("store", "hotline", "letter"),
        grade="D",
    ),
    Scenario(
        key="telecom_roaming_misunderstanding",
        industry="telecom",
        subject="出国回来被扣了{amount}元流量费",
        description=(
            "我{date}去东南亚旅游了{days}天，回来发现话费扣了{amount}元，说是{product}费用。"
            "我手机一直开着，根本没怎么用，最多看看地图、回回消息。"
            "这么离谱的费用，肯定是你们系统算错了，我要求全部退还。"
        ),
        products=("国际漫游数据", "境外流量", "5G畅享套餐漫游流量"),
        amount=(200, 1500),
        nature="customer_misunderstanding",
        category="misunderstanding",
        demand="refund",
        department="customer_service",
        responsibility="unfounded",
        remedy_type="explanation",
        remedy="向客户提供逐日漫游流量详单并说明计费标准，告知出境前可订购流量日包，{days}天内回访。",
        root_cause="详单显示客户在境外未订日包，手机后台应用自动更新产生流量，计费准确。",
        corrective_action="客户出境后推送流量日包提醒，漫游费用超过100元时短信预警。",
        channels=("hotline", "wechat"),
        grade="E",
    ),
    Scenario(
        key="telecom_contract_penalty",
        industry="telecom",
        subject="携号转网要交违约金，没人说过",
        description=(
            "我想把号码转到别的运营商，结果被告知我的{product}还在合约期，要交{amount}元违约金。"
            "三年前办的时候营业员只说“送手机”，从来没提过合约期和违约金的事。"
            "现在才说，这不是坑人吗？"
        ),
        products=("存费送机合约", "宽带捆绑合约", "两年期靓号合约"),
        amount=(300, 2000),
        nature="policy_process",
        category="rule_not_explained",
        demand="fee_waiver",
        department="customer_service",
        responsibility="shared",
        remedy_type="fee_waiver",
        remedy="核查原始受理单后减免一半违约金，{days}天内为客户办理解约，并提供合约条款复印件。",
        root_cause="受理单上有客户签字的合约期条款，但营业员当时未口头告知违约责任。",
        corrective_action="合约业务受理时逐项宣读期限和违约金，并发送条款摘要短信。",
        channels=("hotline", "store", "letter"),
        grade="E",
    ),
    # ------------------------------------------------------------------- print
    Scenario(
        key="print_wrong_colour",
        industry="print",
        subject="印出来的颜色和确认稿差太多",
        description=(
            "我们公司在你们这里印了{product}，{date}交的稿，Logo是标准的深蓝色，"
            "打样时也签字确认过。结果大货拿回来一看整体偏紫，整批颜色都不对，"
            "跟样稿完全是两回事。下周一就要用，你们说怎么办？订单号{order}，金额{amount}元。"
        ),
        products=("企业宣传画册", "品牌手提袋", "产品包装彩盒", "展会折页"),
        amount=(800, 12000),
        nature="product_quality",
        category="quality_defect",
        demand="redo",
        department="quality",
        responsibility="ours",
        remedy_type="redo",
        remedy="按签字色样免费重印，{days}天内交货，开机前请客户到现场看样签字。",
        root_cause="换班后机长未对照签样调墨，印刷过程中也没有抽样比对色差。",
        corrective_action="专色订单开机前必须对照签样测色，每五百张抽检一次并记录色差值。",
        channels=("wechat", "email", "walk_in"),
        grade="D",
    ),
    Scenario(
        key="print_binding_wrong",
        industry="print",
        subject="{product}装订错了，页码顺序全乱",
        description=(
            "我们在你们这里做的{product}一共{amount}元，要求的是骑马钉，结果做成了胶装，"
            "书脊还是歪的。随便翻了几本，有的第8页后面直接跳到第13页，中间几页装反了。"
            "{date}就是我们的年会，现在一本都不能用。"
        ),
        products=("年会纪念册", "员工手册", "产品目录", "毕业纪念册"),
        amount=(1500, 20000),
        nature="product_quality",
        category="quality_defect",
        demand="redo",
        department="quality",
        responsibility="ours",
        remedy_type="redo",
        remedy="全部按骑马钉重新制作，{days}天内交货确保赶上年会，重做费用全部由我方承担。",
        root_cause="工单上装订方式填写错误，配页机故障后改人工配页也未复核。",
        corrective_action="装订方式由客服和车间双签确认，人工配页后逐本翻检页码。",
        channels=("wechat", "walk_in", "email"),
        grade="D",
    ),
    Scenario(
        key="print_short_quantity",
        industry="print",
        subject="订的{product}数量不够",
        description=(
            "{date}取回的{product}，订单上写的是一千张，我们发之前点了一下，只有九百出头，"
            "差了将近一百张。打电话问店里，对方说“机器计数不会错，可能是你们自己弄丢了”。"
            "拆包的时候我们都拍了照，每一捆都不够数。"
        ),
        products=("A4宣传单页", "满减优惠券", "门店会员卡", "活动邀请函"),
        amount=(300, 2000),
        nature="product_quality",
        category="wrong_item",
        demand="redo",
        department="store_ops",
        responsibility="ours",
        remedy_type="redo",
        remedy="免费补印缺少的数量并多加百分之五备量，{days}天内送到客户处，并为不当答复致歉。",
        root_cause="裁切后剔除的废张没有补足，出货只按机器计数，未人工复点。",
        corrective_action="出货前按捆抽点数量，废张超过3%必须补印后再交货。",
        channels=("hotline", "wechat", "walk_in"),
        grade="E",
    ),
    Scenario(
        key="print_missing_text",
        industry="print",
        subject="{product}上漏印了订餐电话",
        description=(
            "我们在你们这儿做了{product}，订单号{order}。发出去几百份以后才有顾客说，"
            "背面订餐电话那一行是空白的。我核对了自己发过去的文件，那行字清清楚楚在那儿。"
            "现在顾客没法联系我们，这个损失算谁的？"
        ),
        products=("外卖菜单", "开业宣传折页", "餐厅桌卡", "门头海报"),
        amount=(200, 3000),
        nature="product_quality",
        category="quality_defect",
        demand="compensation",
        department="quality",
        responsibility="ours",
        remedy_type="redo",
        remedy="免费加急重印，{days}天内交付，本单费用另给予三成减免作为补偿。",
        root_cause="文件转曲时该行字体丢失，预检软件报警被操作员忽略。",
        corrective_action="所有文件出版前强制转曲，并由第二人核对PDF与原稿。",
        channels=("wechat", "hotline", "email"),
        grade="D",
    ),
    Scenario(
        key="print_missed_deadline",
        industry="print",
        subject="说好{date}交货，展会开幕还没印好",
        description=(
            "下单时我强调了三遍，{product}必须在{date}前送到展馆，你们业务员拍胸脯说没问题。"
            "结果展会开幕当天到了{time}还没送来，打电话才说“机器排不过来，明天才能印”。"
            "我们的展位白白空了一天，这{amount}元的订单我还多付了加急费。"
        ),
        products=("展会背景板", "X展架", "产品宣传册", "展位KT板"),
        amount=(1000, 8000),
        nature="service",
        category="late_delivery",
        demand="compensation",
        department="store_ops",
        responsibility="ours",
        remedy_type="compensation",
        remedy="退还加急费并减免本单三成费用，{days}个工作日内退款，业务经理上门致歉。",
        root_cause="业务员未确认排产就承诺交期，加急单被后来的大单挤占机位。",
        corrective_action="承诺交期须经生产计划确认，加急单在排产系统中锁定机位。",
        channels=("hotline", "wechat", "walk_in"),
        grade="C",
    ),
    Scenario(
        key="print_low_resolution_photo",
        industry="print",
        subject="印出来的照片全是马赛克",
        description=(
            "我把孩子的照片做成了{product}，花了{amount}元。拿到手一看，人脸都是一格一格的，"
            "糊得不行。手机上看明明很清楚，肯定是你们机器有问题。我要求免费重做。"
        ),
        products=("照片书", "大幅照片挂画", "个性台历", "照片拼图"),
        amount=(68, 398),
        nature="customer_misunderstanding",
        category="misunderstanding",
        demand="redo",
        department="customer_service",
        responsibility="customer",
        remedy_type="explanation",
        remedy="向客户说明原图分辨率不足，协助找回原图后可按成本价重印，{days}天内完成。",
        root_cause="客户上传的是聊天软件压缩过的图片，放大印刷后像素不足，系统当时已提示。",
        corrective_action="图片分辨率不足时强制弹窗确认，客服审稿时再电话提醒客户。",
        channels=("web", "wechat"),
        grade="E",
    ),
    Scenario(
        key="print_quote_overcharge",
        industry="print",
        subject="报价和结账金额对不上",
        description=(
            "{date}我来印{product}，前台报价说八百块左右，我就让做了。取货时却要收{amount}元，"
            "说是加了覆膜费和改稿费。覆膜是她自己推荐的，根本没说要另收钱，"
            "改稿也就改了一个错别字。我不是不付钱，但要付得明明白白。"
        ),
        products=("宣传折页", "名片和信封", "企业文化墙海报", "餐厅菜单"),
        amount=(1000, 1600),
        nature="service",
        category="overcharging",
        demand="refund",
        department="store_ops",
        responsibility="shared",
        remedy_type="refund",
        remedy="免收改稿费，覆膜按成本价收取，多收部分{days}个工作日内退回，并提供费用明细。",
        root_cause="前台口头报价未包含覆膜等附加项，没有书面报价单，改稿收费标准不清。",
        corrective_action="所有订单开具书面报价单，附加工艺加价须客户签字确认。",
        channels=("walk_in", "wechat"),
        grade="E",
    ),
)

OPENERS: tuple[str, ...] = (
    "你好，",
    "我要投诉！",
    "",
    "您好，我想反映一个问题。",
    "客服你好，",
    "实在忍不下去了，",
    "麻烦帮我看一下这个情况：",
    "这已经是我第三次反映了，",
)

CLOSERS: tuple[str, ...] = (
    "希望你们尽快给我一个说法。",
    "请尽快处理，谢谢。",
    "我等你们的回复。",
    "麻烦尽快联系我，电话随时能接。",
    "这件事不解决，我不会罢休。",
    "希望你们认真对待，别再敷衍了。",
    "请给我一个明确的处理时间。",
    "我只想要一个合理的解决办法。",
    "请让负责人直接联系我，别再让客服转来转去。",
    "谢谢，辛苦了。",
)

THREATS: tuple[str, ...] = (
    "如果三天内还不解决，我就打12315投诉你们。",
    "再这样拖下去，我直接去消协反映。",
    "材料我都准备好了，明天就去市场监管局举报。",
    "你们再不处理，我就联系电视台的记者把这件事曝光。",
    "我会把整个经过发到微博和抖音上，让大家都看看。",
    "我已经咨询过律师了，实在不行就起诉你们。",
    "本周内不给答复，我就向银保监和金融监管局投诉。",
    "视频我都拍好了，不解决就发到网上曝光。",
)

CONTACT_SUMMARIES: tuple[str, ...] = (
    "已电话联系客户，核对了订单信息和诉求，客户同意等待核查结果，约定两个工作日内回复。",
    "上午首次致电未接通，已短信告知工单号；下午四点再次致电接通，客户表示理解。",
    "与客户通话约二十分钟，客户对前期答复不满，已再次致歉，承诺本周五前给出书面方案。",
    "客户情绪激动，要求负责人出面；已记录诉求，告知主管明天上午十点前回电。",
    "电话中向客户说明了检测流程和所需时间，客户同意寄回商品，已发送免费寄件码。",
    "客户接受初步方案，但要求款项到账后再结案，约定到账当天回访确认。",
    "客户在外地不方便通话，约定今晚七点半再联系，已添加客户微信便于传照片。",
    "已与客户家属通话，了解了就医情况，告知我方负责人明天上午到医院探望。",
)

INTERNAL_NOTES: tuple[str, ...] = (
    "已申请调取当日收银台和卖场监控，安保部预计明天中午前导出视频。",
    "已联系仓库核查出库记录和拣货扫码日志，等待仓库主管回复。",
    "同批次商品已暂停销售，留样已送第三方检测，报告预计五个工作日出具。",
    "系统扣费记录显示同一笔交易入账两次，已提交清算部门核对。",
    "涉事员工已写书面情况说明，与客户描述基本一致，待店长确认处理意见。",
    "已调听坐席录音，员工确有不当用语，转质检组评分。",
    "快递公司反馈包裹在中转站滞留两天，已要求对方出具书面情况说明。",
    "该客户此前有两次同类投诉记录，注意沟通方式，方案须主管审批后再答复。",
)

PUBLIC_REPLIES: tuple[str, ...] = (
    "您好，您反映的问题我们已收到并登记，专员将在今天下午五点前与您电话联系，请保持电话畅通。",
    "非常抱歉给您带来不便。我们正在调取相关记录核查，最晚于本周四中午前向您反馈结果。",
    "您好，退款已于今天上午提交财务，预计三个工作日内原路退回，到账后我们会短信通知您。",
    "感谢您的耐心等待。补发的商品已于今天发出，预计后天送达，物流单号已短信发送给您。",
    "您好，经核实确因我们工作失误给您造成困扰，再次向您致歉。负责人将于明天上午十点前联系您"
    "商定补偿方案。",
    "您好，您询问的收费规则我们已整理成书面说明发到您的邮箱。工作日九点至十八点您随时回复，"
    "我们会在一小时内答复。",
)

REJECT_REASONS: tuple[str, ...] = (
    "客户认为补偿太低，要求按消费者权益保护法退一赔三。",
    "客户不接受优惠券形式的补偿，要求直接退现金。",
    "客户要求换新，不同意维修，认为修过的东西就不算新的了。",
    "客户要求涉事员工本人当面道歉，不接受电话致歉。",
    "客户认为处理周期太长，要求三天内办结，而不是十五个工作日。",
    "客户不认可检测结论，要求送其指定的第三方机构重新检测。",
)

INVALID_REASONS: tuple[str, ...] = (
    "经调取监控核实，客户所述情况与实际不符，当时找零金额正确。",
    "客户重复提交同一问题，已合并到原工单处理。",
    "经核查，客户提供的订单号在系统中不存在，非我司交易。",
    "所投诉事项属于其他商家，已告知客户正确的投诉渠道。",
    "提交内容为广告推广信息，与投诉无关。",
)

REOPEN_REASONS: tuple[str, ...] = (
    "客户反映承诺的退款超过约定时间仍未到账。",
    "换新后的商品再次出现同样的故障。",
    "客户称结案回访时并未同意处理方案，要求重新处理。",
    "重做的印刷品仍有明显色差，客户拒绝验收。",
    "门店承诺的上门致歉没有兑现，客户再次来电投诉。",
)

TRANSFER_REASONS: tuple[str, ...] = (
    "涉及商品质量检测，需转质量部门出具结论。",
    "问题出在配送环节，转物流部门跟进快递责任。",
    "涉及退款到账核查，转财务部门处理。",
    "事发在门店现场，需门店运营调取监控并约谈员工。",
    "客户要求维修或换新，转售后部门安排上门检测。",
)

ESCALATION_REASONS: tuple[str, ...] = (
    "客户表示已联系媒体，存在舆情风险。",
    "涉及人身伤害，需由分管负责人牵头处理。",
    "超过承诺时限仍未解决，客户已第三次来电投诉。",
    "客户已向12315和市场监管部门投诉，需统一对外答复口径。",
    "同一问题一周内出现多起投诉，疑似批次性质量问题。",
)

SURNAMES: tuple[str, ...] = (
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周",
    "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗",
    "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹",
    "彭", "曾", "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡",
)  # fmt: skip

GIVEN_NAMES: tuple[str, ...] = (
    "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军",
    "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀兰", "霞",
    "平", "刚", "桂英", "浩", "婷", "鑫", "宇", "欣怡", "子轩", "梓涵",
    "建国", "建华", "志强", "丽娟", "海燕", "晓东", "晓燕", "红梅", "文博", "佳琪",
    "思远", "雨萱", "俊杰", "国庆", "春花", "玉兰", "淑珍", "凯", "晨", "雪",
    "琳", "斌", "鹏", "慧", "颖", "倩", "亮", "峰", "萍", "辉",
)  # fmt: skip


# What the expert on duty writes when acknowledging a risk alert.
ALERT_NOTES = [
    "已知悉，立即电话联系客户安抚情绪。",
    "已接手，今天内给客户明确答复。",
    "已通知公关部关注舆情，我来跟进处理。",
    "已联系客户，约定明天上午上门处理。",
]


# Knowledge base articles written for the demo: (kind, categories, title, body).
ARTICLES = [
    (
        "script",
        ("quality_defect",),
        "商品质量问题 · 首次回复话术",
        "1. 先致歉：“非常抱歉给您带来不便，我们理解您的心情。”\n"
        "2. 确认事实：购买日期、订单号、问题出现的时间和现象，请客户提供照片或视频。\n"
        "3. 告知方案和时限：七天内的质量问题可直接退货或换新；超过七天按三包规定维修。\n"
        "4. 给出具体日期：“我们将于X月X日前给您答复。”不要说“尽快”。",
    ),
    (
        "script",
        ("long_wait", "promise_not_kept"),
        "等待太久、承诺未兑现 · 安抚话术",
        "1. 承认问题：“让您等了这么久，是我们的不对。”\n"
        "2. 不找理由，不说“系统坏了我也没办法”。\n"
        "3. 说清楚现在谁负责、下一步做什么、几点前回电。\n"
        "4. 按约定时间回电，即使还没有结果也要告知进展。",
    ),
    (
        "script",
        ("staff_attitude",),
        "服务态度投诉 · 处理要点",
        "1. 代表公司道歉，不为同事辩解，不说“我绝对没有说过这种话”。\n"
        "2. 记录经过：时间、门店、员工、原话。\n"
        "3. 告知客户会核实并处理，给出回复日期。\n"
        "4. 核实后向客户说明处理结果和改进措施。",
    ),
    (
        "policy",
        ("refund_delay", "billing_error"),
        "退款时效规定",
        "原路退款：银行卡 3–7 个工作日，第三方支付 1–3 个工作日。\n"
        "超过时效未到账的，由财务结算部在一个工作日内核查并告知客户。",
    ),
    (
        "faq",
        ("late_delivery",),
        "快递延误常见问题",
        "问：超过承诺时间没有送到怎么办？\n"
        "答：我们会联系快递核实位置，48 小时内仍未送达的可申请补发或退款。\n"
        "问：可以要求赔偿吗？\n答：因我方原因延误的，按订单金额给予相应补偿。",
    ),
]
