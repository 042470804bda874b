"""Contracts of the enterprise-side sources: registration, tax, in-bank flows, government and platform data,
the credit bureau, public records and the supply chain — what 经营快贷, 税务贷, 电e贷 and e链快贷 read.

Each source is one raw-zone folder. Monthly sources have one row per enterprise and month (`month` = first
day of the month) and a reporting lag in days after the month ends; event sources are placed in time by
their own date; reference sources (registration, shareholders, chain cores) are snapshots as of the data
cut with no time field — their history is in the change log. Codes are English snake_case with the Chinese
term in the field text; places are GB/T 2260 codes, industries GB/T 4754-2017, identifiers USCC (GB 32100)
and resident ID numbers (GB 11643). Money is CNY yuan exact to the fen (decimal(18,2)).

Who appears in a source follows life, not convenience: payroll (代发) only for firms paying salaries
through the bank, customs only for traders, medical-insurance settlement only for designated clinics and
pharmacies, agriculture only for farms, the enterprise credit report only for firms that have borrowed
(个体工商户 borrow in the owner's name, so they show up in the personal report instead).
"""

from __future__ import annotations

from puhui.data.contracts.base import Check, Field, FieldType, SourceContract

_S = FieldType.STRING
_C = FieldType.CODE
_I = FieldType.INT
_M = FieldType.AMOUNT
_F = FieldType.FLOAT
_D = FieldType.DATE
_MO = FieldType.MONTH
_B = FieldType.BOOL
_NN = (Check.NON_NEGATIVE,)
_PAST = (Check.NOT_FUTURE,)

# ---- code lists ----------------------------------------------------------------------------------------

ENTITY_TYPES = ("enterprise", "individual")
"""enterprise 企业 (USCC category 1) | individual 个体工商户 (category 2)."""
STATUSES = ("active", "revoked", "cancelled", "moved_out")
"""active 存续(在业) | revoked 吊销 | cancelled 注销 | moved_out 迁出."""
INDUSTRY_SECTIONS = tuple("ABCDEFGHIJKLMNOPQRST")
"""GB/T 4754-2017 门类 A 农林牧渔 … T 国际组织."""
SHAREHOLDER_TYPES = ("person", "enterprise")
CHANGE_ITEMS = ("legal_rep", "shareholder", "capital", "address", "business_scope", "name")
"""法定代表人变更 | 股东(投资人)变更 | 注册资本变更 | 住所变更 | 经营范围变更 | 名称变更."""
TAXPAYER_TYPES = ("general", "small_scale")
"""general 一般纳税人 | small_scale 小规模纳税人."""
TAX_GRADES = ("A", "B", "M", "C", "D")
"""纳税信用级别: A ≥ 90; B 70–<90; M new or no revenue with ≥ 70; C 40–<70; D < 40 or directly judged."""
TARIFF_CATEGORIES = ("large_industrial", "general_commercial")
"""大工业用电 (transformer capacity ≥ 315 kVA) | 一般工商业用电."""
MARKETS = ("US", "JP", "KR", "DE", "NL", "GB", "VN", "TH", "MY", "SG", "IN", "AE", "AU", "BR", "RU", "HK")
"""ISO 3166-1 alpha-2 of the main export destination."""
MEDICAL_INSTITUTION_TYPES = ("clinic", "pharmacy")
"""定点医疗机构 (诊所/门诊部) | 定点零售药店."""
AGRI_PRODUCTS = ("grain", "vegetables", "fruit", "tea", "livestock", "aquaculture")
ECOMMERCE_PLATFORMS = ("tmall_taobao", "jd", "pinduoduo", "douyin", "meituan")
PROCUREMENT_CATEGORIES = ("goods", "works", "services")
"""政府采购 货物 | 工程 | 服务."""
LENDERS = (
    "ICBC", "CCB", "ABC", "BOC", "BOCOM", "PSBC", "CMB", "CITIC", "SPDB", "CIB", "CMBC", "CEB", "PAB",
    "HXB", "CITY_BANK", "RURAL_BANK", "VILLAGE_BANK", "MICROLOAN", "LEASING",
)  # fmt: skip
"""Reporting institutions: the big six and joint-stock banks by short name; CITY_BANK 城商行, RURAL_BANK
农商行/农信社, VILLAGE_BANK 村镇银行, MICROLOAN 小额贷款公司, LEASING 融资租赁公司."""
CREDIT_ACCOUNT_TYPES = (
    "working_capital", "trade_finance", "bank_acceptance", "discounted_bill", "fixed_asset", "supply_chain",
)  # fmt: skip
"""流动资金贷款 | 贸易融资 | 银行承兑汇票 | 票据贴现 | 固定资产贷款 | 供应链融资."""
GUARANTEE_TYPES = ("credit", "guarantee", "mortgage", "pledge")
"""信用 | 保证 | 抵押 | 质押."""
FIVE_CLASSES = ("normal", "special_mention", "substandard", "doubtful", "loss")
"""五级分类 正常 | 关注 | 次级 | 可疑 | 损失 (次级+可疑+损失 = 不良)."""
ENTERPRISE_QUERY_REASONS = ("loan_approval", "guarantee_review", "post_loan", "related_party")
"""贷款审批 | 担保资格审查 | 贷后管理 | 关联企业审查."""
PERSON_ACCOUNT_TYPES = ("mortgage", "business_loan", "consumer_loan", "car_loan", "credit_card")
"""个人住房贷款 | 个人经营性贷款 | 个人消费贷款 | 汽车贷款 | 贷记卡."""
PERSON_ACCOUNT_STATUSES = ("normal", "overdue", "closed", "bad_debt")
"""正常 | 逾期 | 结清/销户 | 呆账."""
PERSON_QUERY_REASONS = ("loan_approval", "credit_card_approval", "guarantee_review", "post_loan", "self")
"""贷款审批 | 信用卡审批 | 担保资格审查 | 贷后管理 | 本人查询."""
RECORD_TYPES = ("lawsuit", "enforcement", "dishonest_debtor", "abnormal_operation", "admin_penalty")
"""涉诉(被告) | 被执行人 | 失信被执行人 | 经营异常名录 | 行政处罚."""
RECORD_CAUSES = (
    "loan_contract", "sales_contract", "labour", "lease", "annual_report_missing", "unreachable", "tax",
    "environment", "safety", "other",
)  # fmt: skip
"""金融借款合同纠纷 | 买卖合同纠纷 | 劳动争议 | 租赁合同纠纷 | 未按期公示年报 | 通过登记住所无法联系 | 税务 | 环保 |
安全生产 | 其他."""
CHAIN_SECTORS = (
    "agriculture", "construction", "medical", "logistics", "advanced_manufacturing", "automotive",
    "electronics", "energy", "food", "retail_distribution", "textiles", "chemicals",
)  # fmt: skip
"""The twelve key sectors of the digital supply chain (农业 建安 医疗 物流 先进制造 汽车 电子信息 能源 食品 商贸流通
纺织服装 化工)."""
CHAIN_ROLES = ("supplier", "distributor")
"""上游供应商 | 下游经销商."""
TRADE_DIRECTIONS = ("sale", "purchase")
"""sale: the member sells to its counterparty; purchase: the member buys from it."""
RATINGS = ("AAA", "AA+", "AA", "AA-", "A+", "A")
"""Issuer credit rating of a core enterprise (domestic agency scale)."""

REPAYMENT_CODES = ("N", "1", "2", "3", "4", "5", "6", "7", "*", "/", "C")
"""Personal-report monthly repayment status: N normal; 1…7 overdue 1–30, 31–60, …, 151–180, 180+ days;
`*` no payment due; `/` account not yet opened; C closed (结清)."""


def _uscc(name: str = "uscc", en: str = "enterprise", zh: str = "统一社会信用代码") -> Field:
    return Field(name, _S, f"unified social credit code of the {en} (GB 32100-2015)", zh, checks=(Check.USCC,))


def _month() -> Field:
    return Field("month", _MO, "calendar month the row reports (first day of the month)", "所属月份",
                 checks=_PAST)  # fmt: skip


def _amount(name: str, en: str, zh: str, *, nullable: bool = False) -> Field:
    return Field(name, _M, en, zh, unit="CNY", nullable=nullable, checks=_NN)


# ---- registration (工商) -----------------------------------------------------------------------------

REGISTRATION = SourceContract(
    name="registration",
    en="Business registration",
    zh="工商登记信息",
    grain="one row per enterprise (snapshot at the data cut)",
    key=("uscc",),
    time_field=None,
    lag_days=1,
    description="The market-regulation (市场监管) register as seen at the data cut; history is in "
    "registration_changes. 个体工商户 carry their operator (经营者) in the legal-representative fields.",
    fields=(
        _uscc(),
        Field("name", _S, "registered name", "企业名称"),
        Field("entity_type", _C, "enterprise 企业 | individual 个体工商户", "市场主体类型", codes=ENTITY_TYPES),
        Field("legal_rep_name", _S, "legal representative (operator for 个体工商户)", "法定代表人/经营者"),
        Field("legal_rep_id", _S, "resident ID number of the legal representative (GB 11643); personal data",
              "法定代表人身份证号码", checks=(Check.RIC,)),
        _amount("registered_capital", "registered (subscribed) capital; funds declared for 个体工商户", "注册资本"),
        Field("founding_date", _D, "date of establishment", "成立日期", checks=_PAST),
        Field("industry_section", _C, "GB/T 4754-2017 section (门类)", "行业门类", codes=INDUSTRY_SECTIONS),
        Field("industry_code", _S, "GB/T 4754-2017 division (2 digits) or class (4 digits)", "国民经济行业代码"),
        Field("region_code", _S, "GB/T 2260 code of the district of the registration authority and domicile",
              "登记机关区划代码"),
        Field("city_code", _S, "GB/T 2260 code of the prefecture-level city (municipalities: 110000 …)",
              "所在城市区划代码"),
        Field("address", _S, "registered domicile", "住所"),
        Field("status", _C, "registration status", "登记状态", codes=STATUSES),
        Field("status_date", _D, "date the status last changed (revocation, cancellation); null while active",
              "状态变更日期", nullable=True, checks=_PAST),
    ),
)  # fmt: skip

REGISTRATION_SHAREHOLDERS = SourceContract(
    name="registration_shareholders",
    en="Shareholders and their capital contributions",
    zh="股东及出资信息",
    grain="one row per enterprise and shareholder",
    key=("uscc", "shareholder_no"),
    time_field=None,
    lag_days=1,
    notes=("capital_share sums to 1 for each enterprise; subscribed_capital sums to registered_capital.",),
    fields=(
        _uscc(),
        Field("shareholder_no", _I, "order of the shareholder, 1 = largest", "股东序号"),
        Field("shareholder_name", _S, "name of the shareholder (person or enterprise)", "股东名称"),
        Field("shareholder_type", _C, "person 自然人 | enterprise 企业法人", "股东类型", codes=SHAREHOLDER_TYPES),
        Field("capital_share", _F, "share of subscribed capital", "出资比例", unit="share",
              checks=(Check.SHARE,)),
        _amount("subscribed_capital", "capital subscribed by this shareholder", "认缴出资额"),
        Field("is_legal_rep", _B, "the shareholder is the legal representative", "是否法定代表人"),
    ),
)  # fmt: skip

REGISTRATION_CHANGES = SourceContract(
    name="registration_changes",
    en="Registration change log",
    zh="工商变更记录",
    grain="one row per registered change",
    key=("uscc", "seq"),
    time_field="change_date",
    lag_days=1,
    notes=("Changes of legal representative, shareholders and address cluster before distress.",),
    fields=(
        _uscc(),
        Field("seq", _I, "sequence of the change within the enterprise", "变更序号"),
        Field("change_date", _D, "date the change was registered", "变更日期", checks=_PAST),
        Field("change_item", _C, "what changed", "变更事项", codes=CHANGE_ITEMS),
        Field("before_value", _S, "value before the change (as registered text)", "变更前内容", nullable=True),
        Field("after_value", _S, "value after the change", "变更后内容", nullable=True),
    ),
)  # fmt: skip

ANNUAL_REPORTS = SourceContract(
    name="annual_reports",
    en="Enterprise annual reports",
    zh="企业年度报告",
    grain="one row per enterprise and reporting year",
    key=("uscc", "report_year"),
    time_field="period_end",
    lag_days=181,
    description="Filed through the enterprise credit publicity system (国家企业信用信息公示系统) between "
    "1 January and 30 June of the following year; a firm that does not file is put on the abnormal-operation "
    "list (public_records).",
    fields=(
        _uscc(),
        Field("report_year", _I, "year reported", "报告年度", unit="year"),
        Field("period_end", _D, "last day of the reporting year", "报告期末"),
        Field("filed_date", _D, "date the report was filed", "报送日期", checks=_PAST),
        Field("employees", _I, "persons employed (从业人数) at year end", "从业人数", unit="persons", checks=_NN),
        _amount("total_assets", "total assets at year end", "资产总额"),
        _amount("operating_revenue", "operating revenue of the year (self-reported)", "营业总收入"),
        _amount("total_tax", "taxes paid in the year (self-reported)", "纳税总额"),
    ),
)  # fmt: skip

# ---- tax (税务) ----------------------------------------------------------------------------------------

TAX_MONTHLY = SourceContract(
    name="tax_monthly",
    en="Monthly tax filings and invoices",
    zh="税务月度申报与开票",
    grain="one row per enterprise and month",
    key=("uscc", "month"),
    time_field="month",
    lag_days=15,
    description="From the tax bureau with the taxpayer's authorisation (银税互动). VAT is filed by the 15th of "
    "the following month (申报期); e-invoice (开票) totals are known to the bureau at issue. Enterprise income "
    "tax is prepaid quarterly, so cit_paid is non-zero in January, April, July and October.",
    notes=("Only enterprises that authorised the bank to read their tax data appear (about nine in ten).",),
    fields=(
        _uscc(),
        _month(),
        Field("taxpayer_type", _C, "general 一般纳税人 | small_scale 小规模纳税人", "纳税人类型",
              codes=TAXPAYER_TYPES),
        Field("filed", _B, "the return for the month was filed on time", "是否按期申报"),
        Field("zero_declaration", _B, "filed with zero sales (零申报)", "是否零申报"),
        _amount("invoice_sales", "sales invoiced in the month, VAT excluded (all invoice types)", "开票销售额"),
        _amount("vat_payable", "VAT payable for the month; null when not filed", "应纳增值税额", nullable=True),
        _amount("vat_paid", "VAT paid for the month; null when not filed", "实缴增值税额", nullable=True),
        _amount("cit_paid", "enterprise income tax prepaid in the month (quarterly)", "企业所得税预缴额"),
        _amount("arrears", "tax owed and overdue at month end", "欠税余额"),
    ),
)  # fmt: skip

TAX_CREDIT_GRADES = SourceContract(
    name="tax_credit_grades",
    en="Annual tax credit grade",
    zh="纳税信用等级",
    grain="one row per enterprise and tax year",
    key=("uscc", "tax_year"),
    time_field="period_end",
    lag_days=120,
    description="Evaluated yearly by the tax bureau and published in April of the following year; the "
    "banks' 税务贷 admit grades A and B (and M since 2019).",
    fields=(
        _uscc(),
        Field("tax_year", _I, "year evaluated", "评价年度", unit="year"),
        Field("period_end", _D, "last day of the year evaluated", "评价期末"),
        Field("grade", _C, "tax credit grade", "纳税信用级别", codes=TAX_GRADES),
        Field("score", _F, "evaluation score (0–100); null when judged D directly or graded M as new",
              "评价得分", nullable=True, checks=_NN),
    ),
)  # fmt: skip

# ---- in-bank flows ------------------------------------------------------------------------------------

SETTLEMENT_MONTHLY = SourceContract(
    name="settlement_monthly",
    en="Settlement account flows at the bank",
    zh="对公结算流水(月汇总)",
    grain="one row per enterprise and month",
    key=("uscc", "month"),
    time_field="month",
    lag_days=1,
    notes=("Only enterprises holding a settlement account at the bank (about six in ten).",),
    fields=(
        _uscc(),
        _month(),
        _amount("inflow", "credits to the enterprise's accounts (receipts)", "入账金额"),
        _amount("outflow", "debits (payments)", "出账金额"),
        Field("inflow_txns", _I, "number of credit transactions", "入账笔数", checks=_NN),
        Field("outflow_txns", _I, "number of debit transactions", "出账笔数", checks=_NN),
        Field("inflow_counterparties", _I, "distinct payers", "入账交易对手数", checks=_NN),
        Field("outflow_counterparties", _I, "distinct payees", "出账交易对手数", checks=_NN),
        Field("top_counterparty_share", _F, "share of inflow from the largest payer", "第一大交易对手占比",
              unit="share", checks=(Check.SHARE,)),
        _amount("avg_balance", "average daily balance", "日均余额"),
        _amount("month_end_balance", "balance at month end", "月末余额"),
    ),
)  # fmt: skip

PAYROLL_MONTHLY = SourceContract(
    name="payroll_monthly",
    en="Payroll paid through the bank",
    zh="代发工资",
    grain="one row per enterprise and month with a payroll run",
    key=("uscc", "month"),
    time_field="month",
    lag_days=1,
    notes=("Only enterprises paying salaries through the bank (about one in five); a month without a row "
           "is a missed or moved payroll.",),
    fields=(
        _uscc(),
        _month(),
        Field("headcount", _I, "employees paid", "代发人数", unit="persons", checks=_NN),
        _amount("amount", "total net salaries paid", "代发金额"),
        Field("pay_day", _I, "day of the month of the payroll run", "代发日"),
    ),
)  # fmt: skip

# ---- government and utility data -----------------------------------------------------------------------

SOCIAL_INSURANCE_MONTHLY = SourceContract(
    name="social_insurance_monthly",
    en="Social insurance contributions",
    zh="社会保险缴费",
    grain="one row per enterprise and month",
    key=("uscc", "month"),
    time_field="month",
    lag_days=30,
    fields=(
        _uscc(),
        _month(),
        Field("insured_headcount", _I, "employees insured", "参保人数", unit="persons", checks=_NN),
        _amount("contribution_base", "total contribution base (缴费基数)", "缴费基数合计"),
        _amount("contribution_due", "contributions due for the month (employer and employee)", "应缴金额"),
        _amount("contribution_paid", "contributions paid for the month", "实缴金额"),
        _amount("arrears", "contributions overdue at month end", "欠缴金额"),
    ),
)  # fmt: skip

ELECTRICITY_MONTHLY = SourceContract(
    name="electricity_monthly",
    en="Electricity consumption and payment",
    zh="用电信息",
    grain="one row per enterprise and month",
    key=("uscc", "month"),
    time_field="month",
    lag_days=20,
    description="From the grid company (国家电网/南方电网) with consent, as used by 电e贷: meters read at month "
    "end, bills issued and paid in the following weeks.",
    notes=("Only enterprises with their own meter account in their name (most manufacturers; fewer shops and "
           "offices, which often share a landlord's meter).",),
    fields=(
        _uscc(),
        _month(),
        Field("meter_account", _S, "electricity customer number (户号)", "用电户号"),
        Field("tariff_category", _C, "tariff category", "用电类别", codes=TARIFF_CATEGORIES),
        Field("contracted_capacity_kva", _F, "contracted transformer capacity", "合同容量", unit="kVA",
              checks=_NN),
        Field("kwh", _F, "energy consumed in the month", "用电量", unit="kWh", checks=_NN),
        _amount("fee", "electricity fee billed for the month", "电费金额"),
        Field("paid_on_time", _B, "the bill was paid by its due date", "是否按期缴费"),
        _amount("arrears", "unpaid electricity fees at month end", "欠费金额"),
    ),
)  # fmt: skip

CUSTOMS_MONTHLY = SourceContract(
    name="customs_monthly",
    en="Customs import and export declarations",
    zh="海关进出口报关",
    grain="one row per trading enterprise and month",
    key=("uscc", "month"),
    time_field="month",
    lag_days=10,
    notes=("Only enterprises registered as consignors/consignees with customs (exporters, importers).",),
    fields=(
        _uscc(),
        _month(),
        Field("export_declarations", _I, "export declarations (报关单) released", "出口报关单数", checks=_NN),
        _amount("export_value", "export value (FOB) in CNY", "出口金额"),
        Field("import_declarations", _I, "import declarations released", "进口报关单数", checks=_NN),
        _amount("import_value", "import value (CIF) in CNY", "进口金额"),
        Field("main_market", _C, "main export destination of the month; null without exports", "主要出口市场",
              nullable=True, codes=MARKETS),
    ),
)  # fmt: skip

LOGISTICS_MONTHLY = SourceContract(
    name="logistics_monthly",
    en="Logistics shipments",
    zh="物流运单",
    grain="one row per shipping enterprise and month",
    key=("uscc", "month"),
    time_field="month",
    lag_days=5,
    notes=("From partner logistics platforms, for enterprises shipping goods through them.",),
    fields=(
        _uscc(),
        _month(),
        Field("waybills", _I, "waybills issued", "运单数", checks=_NN),
        Field("weight_tons", _F, "gross weight shipped", "货运重量", unit="t", checks=_NN),
        _amount("freight_fee", "freight charges", "运费金额"),
        Field("destinations", _I, "distinct destination cities", "目的城市数", checks=_NN),
    ),
)  # fmt: skip

MEDICAL_INSURANCE_MONTHLY = SourceContract(
    name="medical_insurance_monthly",
    en="Medical-insurance settlement of designated clinics and pharmacies",
    zh="医保结算",
    grain="one row per designated institution and month",
    key=("uscc", "month"),
    time_field="month",
    lag_days=30,
    notes=("Only clinics and pharmacies designated by the medical-insurance bureau (医保定点).",),
    fields=(
        _uscc(),
        _month(),
        Field("institution_type", _C, "clinic 定点医疗机构 | pharmacy 定点零售药店", "定点机构类型",
              codes=MEDICAL_INSTITUTION_TYPES),
        Field("designated_code", _S, "designated-institution code", "定点机构编码"),
        Field("visits", _I, "settled visits or purchases", "结算人次", checks=_NN),
        _amount("settled_amount", "amount settled by the medical-insurance fund", "医保基金结算金额"),
        _amount("rejected_amount", "amount refused at audit (审核扣款)", "审核扣款金额"),
    ),
)  # fmt: skip

AGRICULTURE_ANNUAL = SourceContract(
    name="agriculture_annual",
    en="Agricultural land, production and subsidies",
    zh="农业经营信息",
    grain="one row per farm and year",
    key=("uscc", "year"),
    time_field="period_end",
    lag_days=90,
    notes=("Only agricultural producers (section A): land rights registration, subsidy and insurance records.",),
    fields=(
        _uscc(),
        Field("year", _I, "production year", "年度", unit="year"),
        Field("period_end", _D, "last day of the year", "期末"),
        Field("land_area_mu", _F, "land operated (contracted plus transferred in)", "经营土地面积", unit="mu",
              checks=_NN),
        Field("transferred_area_mu", _F, "land transferred in (土地流转)", "流转土地面积", unit="mu", checks=_NN),
        Field("main_product", _C, "main product", "主营品种", codes=AGRI_PRODUCTS),
        _amount("subsidy_amount", "agricultural subsidies received", "农业补贴金额"),
        Field("insured", _B, "holds agricultural insurance", "是否参加农业保险"),
        _amount("output_value", "gross output value of the year", "产值"),
    ),
)  # fmt: skip

ECOMMERCE_MONTHLY = SourceContract(
    name="ecommerce_monthly",
    en="E-commerce store sales",
    zh="电商经营数据",
    grain="one row per online seller and month",
    key=("uscc", "month"),
    time_field="month",
    lag_days=7,
    notes=("Only enterprises selling on a partner platform (shops, restaurants on delivery platforms, brands).",),
    fields=(
        _uscc(),
        _month(),
        Field("platform", _C, "main platform of the store", "电商平台", codes=ECOMMERCE_PLATFORMS),
        Field("orders", _I, "orders paid", "订单数", checks=_NN),
        _amount("gmv", "gross merchandise value of paid orders", "成交额"),
        _amount("refund_amount", "refunds", "退款金额"),
        Field("store_rating", _F, "store rating (0–5)", "店铺评分", checks=_NN),
    ),
)  # fmt: skip

GOV_PROCUREMENT_AWARDS = SourceContract(
    name="gov_procurement_awards",
    en="Government procurement awards",
    zh="政府采购中标",
    grain="one row per contract awarded",
    key=("award_id",),
    time_field="award_date",
    lag_days=3,
    description="Award notices are published within two working days of the award (政府采购法实施条例 Art 43).",
    fields=(
        Field("award_id", _S, "award notice identifier", "中标公告编号"),
        _uscc(),
        Field("award_date", _D, "date of the award", "中标日期", checks=_PAST),
        Field("purchaser_city", _S, "GB/T 2260 city code of the purchasing body", "采购人所在城市"),
        Field("category", _C, "goods 货物 | works 工程 | services 服务", "采购类别", codes=PROCUREMENT_CATEGORIES),
        _amount("amount", "contract amount", "中标金额"),
        Field("contract_months", _I, "contract duration", "合同期限", unit="months", checks=_NN),
    ),
)  # fmt: skip

# ---- credit bureau (人行征信) -----------------------------------------------------------------------------

BUREAU_ENTERPRISE_ACCOUNTS = SourceContract(
    name="bureau_enterprise_accounts",
    en="Enterprise credit report: credit accounts by lender, monthly",
    zh="企业征信 信贷账户(月度)",
    grain="one row per credit account and month",
    key=("account_id", "month"),
    time_field="month",
    lag_days=30,
    description="信贷信息 of the enterprise credit report (二代): each lender reports every account monthly; "
    "the report shows the previous month's position. five_class follows 金融资产风险分类办法 (2023): "
    "any overdue → at least 关注, > 90 days → 次级, > 270 → 可疑, > 360 → 损失.",
    notes=("A one-year facility renewed each year is a new account (new account_id and open date).",),
    fields=(
        _uscc(),
        _month(),
        Field("account_id", _S, "account identifier", "账户编号"),
        Field("lender", _C, "reporting institution", "授信机构", codes=LENDERS),
        Field("account_type", _C, "product", "业务种类", codes=CREDIT_ACCOUNT_TYPES),
        Field("guarantee_type", _C, "main security", "担保方式", codes=GUARANTEE_TYPES),
        Field("open_date", _D, "date the account was opened", "开立日期", checks=_PAST),
        Field("maturity_date", _D, "contractual maturity", "到期日期"),
        _amount("credit_amount", "facility amount", "授信/借款金额"),
        _amount("balance", "outstanding balance at month end", "余额"),
        _amount("overdue_amount", "overdue principal and interest at month end", "逾期金额"),
        Field("overdue_days", _I, "days past due at month end (0 = current)", "逾期天数", unit="days",
              checks=_NN),
        Field("five_class", _C, "risk classification", "五级分类", codes=FIVE_CLASSES),
    ),
)  # fmt: skip

BUREAU_ENTERPRISE_QUERIES = SourceContract(
    name="bureau_enterprise_queries",
    en="Enterprise credit report: query records",
    zh="企业征信 查询记录",
    grain="one row per query",
    key=("query_id",),
    time_field="query_date",
    lag_days=1,
    notes=("Many loan-approval queries in a short time (多头查询) signal a firm hunting for credit.",),
    fields=(
        Field("query_id", _S, "query identifier", "查询编号"),
        _uscc(),
        Field("query_date", _D, "date of the query", "查询日期", checks=_PAST),
        Field("querier", _C, "institution that queried", "查询机构", codes=LENDERS),
        Field("reason", _C, "purpose of the query", "查询原因", codes=ENTERPRISE_QUERY_REASONS),
    ),
)  # fmt: skip

BUREAU_ENTERPRISE_GUARANTEES = SourceContract(
    name="bureau_enterprise_guarantees",
    en="Enterprise credit report: guarantees given",
    zh="企业征信 对外担保",
    grain="one row per guarantee given, as of the report date",
    key=("guarantee_id",),
    time_field="start_date",
    lag_days=30,
    fields=(
        Field("guarantee_id", _S, "guarantee identifier", "担保编号"),
        _uscc(name="uscc", en="guarantor"),
        Field("debtor_uscc", _S, "USCC of the enterprise whose debt is guaranteed", "被担保企业统一社会信用代码",
              checks=(Check.USCC,)),
        Field("debtor_name", _S, "name of the debtor", "被担保企业名称"),
        Field("lender", _C, "creditor institution", "债权机构", codes=LENDERS),
        _amount("guaranteed_amount", "amount guaranteed", "担保金额"),
        Field("start_date", _D, "start of the guarantee", "担保起始日", checks=_PAST),
        Field("end_date", _D, "end of the guarantee", "担保到期日"),
        Field("debtor_five_class", _C, "classification of the guaranteed debt at the report date", "被担保债务五级分类",
              codes=FIVE_CLASSES),
        Field("as_of", _D, "report date", "报告日期"),
    ),
)  # fmt: skip

BUREAU_PERSON_ACCOUNTS = SourceContract(
    name="bureau_person_accounts",
    en="Personal credit report of the legal representative: accounts with 24-month repayment history",
    zh="法定代表人个人征信 信贷账户",
    grain="one row per account and report month",
    key=("account_id", "report_month"),
    time_field="report_month",
    lag_days=30,
    subject="person",
    description="The 还款记录 of each account: 24 characters, oldest month first, the last one the report month. "
    "Codes: N normal; 1–7 overdue 1–30 … 180+ days; * no payment due; / not yet opened; C closed.",
    fields=(
        Field("person_id", _S, "resident ID number of the legal representative", "身份证号码", checks=(Check.RIC,)),
        _uscc(),
        Field("report_month", _MO, "month of the report snapshot", "报告月份", checks=_PAST),
        Field("account_id", _S, "account identifier", "账户编号"),
        Field("lender", _C, "lending institution", "发放机构", codes=LENDERS),
        Field("account_type", _C, "product", "账户类型", codes=PERSON_ACCOUNT_TYPES),
        Field("open_date", _D, "date the account was opened", "开立日期", checks=_PAST),
        _amount("credit_amount", "loan amount or card limit", "借款金额/授信额度"),
        _amount("balance", "outstanding balance (used amount for cards)", "余额/已用额度"),
        _amount("overdue_amount", "overdue amount", "当前逾期金额"),
        Field("status", _C, "account status at the report month", "账户状态", codes=PERSON_ACCOUNT_STATUSES),
        Field("repayment_24m", _S, "24-month repayment status string (see description)", "近24个月还款记录"),
    ),
)  # fmt: skip

BUREAU_PERSON_QUERIES = SourceContract(
    name="bureau_person_queries",
    en="Personal credit report of the legal representative: query records",
    zh="法定代表人个人征信 查询记录",
    grain="one row per query",
    key=("query_id",),
    time_field="query_date",
    lag_days=1,
    subject="person",
    fields=(
        Field("query_id", _S, "query identifier", "查询编号"),
        Field("person_id", _S, "resident ID number of the person", "身份证号码", checks=(Check.RIC,)),
        _uscc(),
        Field("query_date", _D, "date of the query", "查询日期", checks=_PAST),
        Field("querier", _C, "institution that queried", "查询机构", codes=LENDERS),
        Field("reason", _C, "purpose of the query", "查询原因", codes=PERSON_QUERY_REASONS),
    ),
)  # fmt: skip

# ---- public records ----------------------------------------------------------------------------------

PUBLIC_RECORDS = SourceContract(
    name="public_records",
    en="Public records: lawsuits, enforcement, dishonest-debtor and abnormal-operation lists, penalties",
    zh="公共记录 涉诉、被执行、失信、经营异常、行政处罚",
    grain="one row per record",
    key=("record_id",),
    time_field="record_date",
    lag_days=7,
    description="From court disclosure (中国裁判文书网, 中国执行信息公开网) and the enterprise credit publicity "
    "system (经营异常名录, 行政处罚).",
    fields=(
        Field("record_id", _S, "record identifier", "记录编号"),
        _uscc(),
        Field("record_date", _D, "date of filing, listing or decision", "立案/列入/决定日期", checks=_PAST),
        Field("record_type", _C, "kind of record", "记录类型", codes=RECORD_TYPES),
        Field("cause", _C, "cause of action or reason for listing", "案由/列入原因", codes=RECORD_CAUSES),
        Field("case_no", _S, "court case number (案号); null for lists and penalties", "案号", nullable=True),
        _amount("amount", "amount in dispute, to enforce, or of the fine; null where none", "涉案/执行/罚款金额",
                nullable=True),
        Field("removed_date", _D, "date removed from the list or case closed; null if still open", "移出/结案日期",
              nullable=True, checks=_PAST),
    ),
)  # fmt: skip

# ---- supply chain (数字供应链) -----------------------------------------------------------------------------

CHAIN_CORE_ENTERPRISES = SourceContract(
    name="chain_core_enterprises",
    en="Core enterprises of the supply chains",
    zh="供应链核心企业",
    grain="one row per core enterprise",
    key=("core_uscc",),
    time_field=None,
    lag_days=0,
    subject="chain",
    fields=(
        _uscc("core_uscc", "core enterprise", "核心企业统一社会信用代码"),
        Field("name", _S, "registered name", "企业名称"),
        Field("sector", _C, "key sector of the chain", "产业链板块", codes=CHAIN_SECTORS),
        Field("industry_section", _C, "GB/T 4754-2017 section", "行业门类", codes=INDUSTRY_SECTIONS),
        Field("industry_code", _S, "GB/T 4754-2017 division", "国民经济行业代码"),
        Field("city_code", _S, "GB/T 2260 city code of the head office", "所在城市区划代码"),
        _amount("annual_revenue", "operating revenue of the last year", "上年营业收入"),
        Field("employees", _I, "persons employed", "从业人数", unit="persons", checks=_NN),
        Field("listed", _B, "shares listed on an exchange", "是否上市"),
        Field("rating", _C, "issuer credit rating", "主体信用评级", codes=RATINGS),
    ),
)  # fmt: skip

CHAIN_RELATIONS = SourceContract(
    name="chain_relations",
    en="Supply-chain membership: suppliers and distributors of a core enterprise",
    zh="供应链上下游关系",
    grain="one row per core enterprise and member",
    key=("core_uscc", "member_uscc"),
    time_field="since_date",
    lag_days=1,
    subject="chain",
    description="Tier 1 trades with the core enterprise directly; tier 2 trades with a tier-1 member "
    "(counterparty_uscc) — a supplier's supplier or a distributor's sub-distributor.",
    fields=(
        _uscc("core_uscc", "core enterprise", "核心企业统一社会信用代码"),
        _uscc("member_uscc", "member", "成员企业统一社会信用代码"),
        Field("role", _C, "supplier 供应商 | distributor 经销商", "链上角色", codes=CHAIN_ROLES),
        Field("tier", _I, "1 direct with the core, 2 through a tier-1 member", "层级"),
        Field("counterparty_uscc", _S, "USCC of the direct trading partner (the core for tier 1)",
              "直接交易对手统一社会信用代码", checks=(Check.USCC,)),
        Field("since_date", _D, "start of the trading relation", "合作起始日", checks=_PAST),
        Field("share_of_business", _F, "share of the member's sales (supplier) or purchases (distributor) "
              "with the counterparty", "业务占比", unit="share", checks=(Check.SHARE,)),
        Field("payment_terms_days", _I, "contractual payment term", "约定账期", unit="days", checks=_NN),
    ),
)  # fmt: skip

CHAIN_TRADE_MONTHLY = SourceContract(
    name="chain_trade_monthly",
    en="Supply-chain trade flows, monthly",
    zh="供应链交易流水(月度)",
    grain="one row per member and month",
    key=("core_uscc", "member_uscc", "month"),
    time_field="month",
    lag_days=5,
    subject="chain",
    description="From the core enterprise's ERP and the chain platform: invoices between the member and its "
    "counterparty, payments made, actual payment days and amounts past the contractual term.",
    fields=(
        _uscc("core_uscc", "core enterprise", "核心企业统一社会信用代码"),
        _uscc("member_uscc", "member", "成员企业统一社会信用代码"),
        _month(),
        Field("counterparty_uscc", _S, "USCC of the counterparty", "交易对手统一社会信用代码",
              checks=(Check.USCC,)),
        Field("direction", _C, "sale: the member sells; purchase: the member buys", "交易方向",
              codes=TRADE_DIRECTIONS),
        _amount("invoiced_amount", "invoiced in the month", "开票金额"),
        Field("invoices", _I, "number of invoices", "发票张数", checks=_NN),
        _amount("paid_amount", "payments settled in the month", "结算金额"),
        Field("avg_payment_days", _F, "average days from invoice to payment of the invoices settled",
              "平均回款/付款天数", unit="days", checks=_NN),
        _amount("past_due_amount", "unpaid invoices past the contractual term at month end", "逾期应付/应收金额"),
    ),
)  # fmt: skip

ENTERPRISE_CONTRACTS: tuple[SourceContract, ...] = (
    REGISTRATION,
    REGISTRATION_SHAREHOLDERS,
    REGISTRATION_CHANGES,
    ANNUAL_REPORTS,
    TAX_MONTHLY,
    TAX_CREDIT_GRADES,
    SETTLEMENT_MONTHLY,
    PAYROLL_MONTHLY,
    SOCIAL_INSURANCE_MONTHLY,
    ELECTRICITY_MONTHLY,
    CUSTOMS_MONTHLY,
    LOGISTICS_MONTHLY,
    MEDICAL_INSURANCE_MONTHLY,
    AGRICULTURE_ANNUAL,
    ECOMMERCE_MONTHLY,
    GOV_PROCUREMENT_AWARDS,
    BUREAU_ENTERPRISE_ACCOUNTS,
    BUREAU_ENTERPRISE_QUERIES,
    BUREAU_ENTERPRISE_GUARANTEES,
    BUREAU_PERSON_ACCOUNTS,
    BUREAU_PERSON_QUERIES,
    PUBLIC_RECORDS,
    CHAIN_CORE_ENTERPRISES,
    CHAIN_RELATIONS,
    CHAIN_TRADE_MONTHLY,
)
"""Every enterprise-side source, in the order the documentation lists them."""
