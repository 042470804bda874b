"""The fixed vocabulary of the synthetic SME universe: industries with their shapes, names, calendars.

`INDUSTRIES` is the one table that makes industries differ: how many firms (weight), how big (median
annual revenue and its spread, revenue per employee), how seasonal (a 12-month profile and the Spring
Festival dip or pre-festival boost), how risky (target yearly default rate, 2–6%), how they pay VAT, and
how likely each external source covers them (electricity meter in their own name, customs, logistics,
e-commerce, medical insurance, agriculture, government procurement, supply-chain roles). Numbers are
plausible shapes for a synthetic world, not statistics to quote. Names (surnames weighted roughly by
frequency, 字号 characters, industry words, shop words, road names) are built vectorised by the name
module. `SPRING_FESTIVAL` holds 正月初一 (Chinese New Year's day) by year, a lunar-calendar fact
(紫金山天文台 published calendar); the tests cross-check the years the State Council holiday data covers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from puhui.core.errors import ConfigurationError


@dataclass(frozen=True)
class IndustryProfile:
    """Shape parameters of one synthetic industry (a GB/T 4754-2017 division or class)."""

    key: str
    section: str
    code: str
    zh: str
    en: str
    weight: float  # share of enterprises (normalised)
    individual_share: float  # share registered as 个体工商户
    revenue_median: float  # yuan per year, enterprises (individuals: ×0.35)
    revenue_sigma: float  # lognormal spread of annual revenue
    revenue_per_employee: float  # yuan per employee per year
    annual_pd: float  # target yearly default rate
    season: tuple[float, ...]  # Jan..Dec relative activity
    sf_dip: float  # share of activity lost in the Spring Festival window (negative = none)
    sf_boost: float  # extra activity in the three weeks before the festival (年货)
    vat_rate: float  # general-taxpayer VAT rate (13% goods, 9% construction/transport, 6% services)
    value_added: float  # VAT base as a share of sales (sales − deductible inputs)
    margin: float  # typical net margin
    invoice_ratio: float  # typical share of sales invoiced (cash retail invoices less)
    manufacturer: bool  # kWh tracks output
    kwh_per_kyuan: float  # kWh per 1,000 yuan of sales (manufacturers) or per 1,000 yuan of base (others)
    p_electricity: float
    p_customs: float
    p_logistics: float
    p_ecommerce: float
    p_medical: float  # designated by medical insurance
    p_agri: float  # agricultural records
    procurement_rate: float  # government awards per enterprise-year at median size
    p_supplier: float  # chain membership as supplier
    p_distributor: float  # chain membership as distributor


_FLAT = (1.0,) * 12
_S_CROP = (0.6, 0.6, 0.7, 0.8, 0.9, 1.0, 1.0, 1.1, 1.4, 1.6, 1.3, 0.9)
_S_LIVESTOCK = (1.25, 1.1, 0.9, 0.9, 0.9, 0.85, 0.85, 0.9, 1.0, 1.05, 1.1, 1.3)
_S_FOOD = (1.2, 1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 1.0, 1.2, 1.1, 1.0, 1.2)
_S_MANUF = (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.95, 0.95, 1.05, 1.05, 1.1, 1.2)
_S_EXPORT = (1.0, 0.95, 0.95, 1.0, 1.0, 1.0, 1.05, 1.1, 1.15, 1.1, 1.0, 0.95)
_S_BUILD = (0.85, 0.75, 1.0, 1.05, 1.05, 1.0, 0.9, 0.9, 1.05, 1.1, 1.15, 1.3)
_S_WHOLESALE = (1.05, 0.95, 1.0, 1.0, 1.0, 0.95, 0.95, 1.0, 1.05, 1.05, 1.05, 1.1)
_S_RETAIL = (1.1, 1.05, 0.9, 0.9, 0.95, 1.0, 0.95, 0.95, 1.0, 1.05, 1.1, 1.1)
_S_PHARMACY = (1.15, 1.0, 1.0, 0.95, 0.9, 0.9, 0.9, 0.9, 0.95, 1.0, 1.1, 1.2)
_S_TRANSPORT = (1.0, 0.9, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.05, 1.05, 1.1, 1.1)
_S_HOTEL = (0.8, 1.0, 0.9, 1.0, 1.05, 1.0, 1.2, 1.25, 1.0, 1.15, 0.85, 0.8)
_S_CATERING = (1.1, 1.1, 0.9, 0.95, 1.0, 0.95, 1.0, 1.0, 0.95, 1.05, 0.95, 1.05)
_S_SERVICES = (1.0, 0.85, 1.0, 1.0, 1.0, 1.05, 1.0, 1.0, 1.0, 1.0, 1.05, 1.25)
_S_EDU = (1.0, 0.9, 1.0, 0.9, 0.9, 0.9, 1.4, 1.4, 1.1, 0.9, 0.8, 0.8)
_S_CLINIC = (1.1, 1.0, 1.05, 1.0, 0.95, 0.9, 0.9, 0.9, 0.95, 1.0, 1.05, 1.15)
_S_LEISURE = (1.1, 1.2, 0.9, 0.9, 1.0, 1.0, 1.1, 1.1, 0.9, 1.1, 0.85, 0.95)
_S_HOUSEHOLD = (1.1, 1.0, 0.95, 1.0, 1.0, 0.95, 0.95, 0.95, 1.0, 1.0, 1.0, 1.1)


def _p(*a: object) -> IndustryProfile:
    return IndustryProfile(*a)  # type: ignore[arg-type]


# key, section, code, zh, en, weight, indiv, rev median, sigma, rev/emp, pd, season, sf_dip, sf_boost,
# vat, value_added, margin, invoice ratio, manufacturer, kwh/k, p_elec, p_customs, p_logistics, p_ecom,
# p_medical, p_agri, procurement/yr, p_supplier, p_distributor
INDUSTRIES: tuple[IndustryProfile, ...] = (
    _p("A01", "A", "01", "农业", "crop farming", .030, .35, 1.2e6, 1.0, 1.5e5, .045, _S_CROP, .10, 0,
       .09, .3, .08, .6, False, 8, .45, .01, .20, .10, 0, .85, .02, .10, 0),
    _p("A03", "A", "03", "畜牧业", "animal husbandry", .012, .30, 2.0e6, 1.0, 3.0e5, .050, _S_LIVESTOCK, .05, 0,
       .09, .3, .06, .7, False, 15, .55, .01, .25, .05, 0, .85, .01, .12, 0),
    _p("C13", "C", "13", "农副食品加工业", "agri-food processing", .025, .10, 8.0e6, 1.2, 6.0e5, .035, _S_FOOD,
       .35, 0, .13, .22, .05, .92, True, 40, .88, .10, .45, .10, 0, 0, .02, .22, 0),
    _p("C18", "C", "18", "纺织服装、服饰业", "textiles and apparel", .020, .10, 6.0e6, 1.2, 3.0e5, .045,
       _S_EXPORT, .45, 0, .13, .2, .04, .95, True, 30, .9, .40, .50, .15, 0, 0, .01, .22, 0),
    _p("C29", "C", "29", "橡胶和塑料制品业", "rubber and plastics", .020, .05, 8.0e6, 1.2, 5.0e5, .035, _S_MANUF,
       .45, 0, .13, .22, .05, .95, True, 70, .9, .15, .40, .05, 0, 0, .01, .30, 0),
    _p("C33", "C", "33", "金属制品业", "metal products", .025, .05, 9.0e6, 1.2, 5.0e5, .035, _S_MANUF, .45, 0,
       .13, .22, .05, .95, True, 90, .9, .15, .40, .03, 0, 0, .02, .32, 0),
    _p("C34", "C", "34", "通用设备制造业", "general machinery", .025, .03, 1.0e7, 1.2, 6.0e5, .030, _S_MANUF, .45, 0,
       .13, .25, .06, .97, True, 50, .9, .20, .40, .03, 0, 0, .03, .32, 0),
    _p("C39", "C", "39", "计算机、通信和其他电子设备制造业", "electronics manufacturing", .015, .02, 1.2e7, 1.2,
       7.0e5, .030, _S_EXPORT, .45, 0, .13, .2, .05, .98, True, 45, .9, .35, .45, .05, 0, 0, .02, .35, 0),
    _p("D44", "D", "44", "电力、热力生产和供应业", "power and heat supply", .005, 0, 1.0e7, 1.0, 2.0e6, .020,
       _FLAT, .05, 0, .13, .3, .08, 1.0, True, 20, .95, 0, .02, 0, 0, 0, .05, .05, 0),
    _p("E48", "E", "48", "土木工程建筑业", "civil engineering", .020, 0, 1.5e7, 1.2, 8.0e5, .050, _S_BUILD, .55, 0,
       .09, .25, .04, .95, False, 5, .35, 0, .10, 0, 0, 0, .25, .15, 0),
    _p("E50", "E", "50", "建筑装饰、装修和其他建筑业", "building finishing", .040, .20, 3.0e6, 1.1, 4.0e5, .050,
       _S_BUILD, .50, 0, .09, .25, .05, .85, False, 5, .25, 0, .10, .05, 0, 0, .08, .12, 0),
    _p("F51", "F", "51", "批发业", "wholesale", .150, .25, 5.0e6, 1.3, 1.5e6, .035, _S_WHOLESALE, .30, .05,
       .13, .12, .03, .9, False, 4, .35, .12, .45, .12, 0, 0, .02, .06, .30),
    _p("F52", "F", "52", "零售业", "retail", .140, .60, 8.0e5, 1.1, 3.0e5, .040, _S_RETAIL, .10, .25,
       .13, .2, .04, .6, False, 12, .35, .01, .10, .30, 0, 0, .005, 0, .10),
    _p("F5251", "F", "5251", "西药零售(药店)", "pharmacies", .015, .40, 1.5e6, .9, 4.0e5, .025, _S_PHARMACY, .05,
       .05, .13, .25, .06, .8, False, 10, .45, 0, .10, .20, .90, 0, .01, 0, .25),
    _p("G54", "G", "54", "道路运输业", "road transport", .040, .40, 2.0e6, 1.1, 4.0e5, .040, _S_TRANSPORT, .35, 0,
       .09, .35, .04, .9, False, 3, .25, 0, .30, 0, 0, 0, .02, .15, 0),
    _p("G59", "G", "59", "装卸搬运和仓储业", "warehousing", .010, .10, 3.0e6, 1.0, 5.0e5, .035, _S_TRANSPORT, .30,
       0, .06, .5, .06, .95, False, 10, .60, .05, .50, 0, 0, 0, .02, .20, 0),
    _p("G60", "G", "60", "邮政业(快递)", "courier", .005, .20, 2.0e6, 1.0, 2.5e5, .040, _S_RETAIL, .40, .10,
       .06, .5, .03, .95, False, 4, .40, 0, .60, .05, 0, 0, .01, .10, 0),
    _p("H61", "H", "61", "住宿业", "accommodation", .015, .40, 1.5e6, 1.0, 2.0e5, .045, _S_HOTEL, .05, 0,
       .06, .5, .06, .75, False, 25, .55, 0, 0, .40, 0, 0, .01, 0, 0),
    _p("H62", "H", "62", "餐饮业", "catering", .080, .70, 8.0e5, 1.0, 1.5e5, .055, _S_CATERING, .05, .15,
       .06, .45, .06, .5, False, 30, .45, 0, 0, .35, 0, 0, .005, 0, 0),
    _p("I64", "I", "64", "互联网和相关服务", "internet services", .010, 0, 3.0e6, 1.2, 6.0e5, .035, _S_SERVICES,
       .20, 0, .06, .6, .07, .98, False, 3, .15, 0, .05, .30, 0, 0, .04, .05, 0),
    _p("I65", "I", "65", "软件和信息技术服务业", "software and IT services", .040, 0, 3.0e6, 1.2, 5.0e5, .025,
       _S_SERVICES, .20, 0, .06, .6, .08, .98, False, 3, .15, .02, .05, .05, 0, 0, .12, .10, 0),
    _p("K7010", "K", "7010", "房地产开发经营", "real estate development", .004, 0, 2.0e7, 1.3, 2.0e6, .060, _FLAT,
       .15, 0, .09, .4, .06, .95, False, 2, .20, 0, 0, 0, 0, 0, .03, 0, 0),
    _p("K7020", "K", "7020", "物业管理", "property management", .015, 0, 4.0e6, 1.0, 1.0e5, .025, _FLAT, .05, 0,
       .06, .6, .05, .98, False, 8, .50, 0, 0, 0, 0, 0, .10, .05, 0),
    _p("L72", "L", "72", "商务服务业", "business services", .050, .10, 2.0e6, 1.2, 5.0e5, .030, _S_SERVICES, .20,
       0, .06, .6, .07, .95, False, 3, .20, .02, .05, .05, 0, 0, .08, .08, 0),
    _p("M75", "M", "75", "科技推广和应用服务业", "technology services", .025, 0, 1.5e6, 1.1, 4.0e5, .025,
       _S_SERVICES, .20, 0, .06, .6, .08, .98, False, 3, .15, .02, .05, .03, 0, 0, .08, .08, 0),
    _p("O80", "O", "80", "居民服务业", "household services", .030, .60, 6.0e5, 1.0, 1.5e5, .040, _S_HOUSEHOLD,
       .10, .10, .06, .5, .06, .5, False, 20, .30, 0, 0, .25, 0, 0, .005, 0, 0),
    _p("O81", "O", "81", "机动车、电子产品和日用产品修理业", "repairs", .015, .60, 6.0e5, 1.0, 2.0e5, .040,
       _S_HOUSEHOLD, .15, 0, .13, .5, .06, .6, False, 20, .30, 0, .05, .10, 0, 0, .01, .05, 0),
    _p("P83", "P", "83", "教育(培训)", "education and training", .010, .10, 1.0e6, 1.0, 2.0e5, .045, _S_EDU, .05,
       0, .06, .6, .06, .8, False, 10, .25, 0, 0, .15, 0, 0, .02, 0, 0),
    _p("Q84", "Q", "84", "卫生(诊所)", "clinics", .015, .30, 1.5e6, .9, 3.0e5, .020, _S_CLINIC, .05, 0,
       .06, .5, .08, .9, False, 15, .45, 0, 0, .03, .85, 0, .01, 0, .05),
    _p("R90", "R", "90", "娱乐业", "entertainment", .010, .40, 8.0e5, 1.0, 2.0e5, .045, _S_LEISURE, .05, .05,
       .06, .6, .06, .7, False, 30, .40, 0, 0, .20, 0, 0, .005, 0, 0),
)  # fmt: skip
"""The synthetic industries (15 GB/T 4754 sections, 30 divisions/classes)."""


def industry_weights() -> np.ndarray:
    w = np.array([p.weight for p in INDUSTRIES], dtype=np.float64)
    return w / w.sum()


def industry_array(attr: str) -> np.ndarray:
    """One attribute of every industry as a numpy array, in `INDUSTRIES` order."""
    return np.array([getattr(p, attr) for p in INDUSTRIES])


def seasonality() -> np.ndarray:
    """(industries, 12) activity profile normalised to mean 1 per industry."""
    s = np.array([p.season for p in INDUSTRIES], dtype=np.float64)
    return s / s.mean(axis=1, keepdims=True)


# ---- chain sectors: which industries supply to / distribute for a core enterprise of each sector -------

CORE_SECTOR_INDUSTRY: dict[str, tuple[str, str]] = {
    # sector: (core's GB/T 4754 section, code)
    "agriculture": ("A", "01"),
    "construction": ("E", "47"),
    "medical": ("C", "27"),
    "logistics": ("G", "58"),
    "advanced_manufacturing": ("C", "35"),
    "automotive": ("C", "36"),
    "electronics": ("C", "39"),
    "energy": ("D", "44"),
    "food": ("C", "14"),
    "retail_distribution": ("F", "52"),
    "textiles": ("C", "17"),
    "chemicals": ("C", "26"),
}
"""The core enterprise's own industry per chain sector."""

CORE_SECTOR_WORDS: dict[str, str] = {
    "agriculture": "农业发展", "construction": "建设工程", "medical": "医药", "logistics": "物流",
    "advanced_manufacturing": "智能装备", "automotive": "汽车", "electronics": "电子科技", "energy": "能源",
    "food": "食品", "retail_distribution": "商业连锁", "textiles": "纺织", "chemicals": "化工",
}  # fmt: skip

SUPPLIERS_BY_SECTOR: dict[str, tuple[str, ...]] = {
    "agriculture": ("A01", "A03", "G54"),
    "construction": ("E50", "C33", "G54", "L72"),
    "medical": ("C13", "G59", "L72"),
    "logistics": ("G54", "G59", "G60"),
    "advanced_manufacturing": ("C33", "C34", "C29", "C39", "I65"),
    "automotive": ("C29", "C33", "C34", "C39"),
    "electronics": ("C39", "C29", "C33", "I65"),
    "energy": ("C34", "C33", "E48", "G54"),
    "food": ("A01", "A03", "C13", "G54"),
    "retail_distribution": ("C13", "C18", "F51", "G59"),
    "textiles": ("C18", "G54", "A01"),
    "chemicals": ("C29", "G54", "G59"),
}  # fmt: skip
DISTRIBUTORS_BY_SECTOR: dict[str, tuple[str, ...]] = {
    "agriculture": ("F51", "F52"),
    "construction": ("F51",),
    "medical": ("F5251", "Q84", "F51"),
    "logistics": ("F51",),
    "advanced_manufacturing": ("F51",),
    "automotive": ("F51", "F52", "O81"),
    "electronics": ("F51", "F52"),
    "energy": ("F51",),
    "food": ("F51", "F52", "H62"),
    "retail_distribution": ("F52", "F51"),
    "textiles": ("F51", "F52"),
    "chemicals": ("F51",),
}  # fmt: skip

# ---- names -------------------------------------------------------------------------------------------

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范"
    "金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
"""About 100 common surnames, most frequent first (weights fall with rank)."""
GIVEN_CHARS = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红娥玲芬燕彬建国志宏文斌海波鹏辉俊峰浩晨"
    "宇轩子涵欣怡梓萱雨婷佳琪晓东晓明红梅丽华春梅金凤立新永刚光明德胜成龙国强振华建华玉兰凤英"
)
BRAND_CHARS = (
    "恒泰鑫源盛达华宏顺兴隆昌丰利祥瑞嘉诚信德富康安和美新联创优佳博远中天宇金银锦程通汇聚力合众永"
    "宝荣凯旺晟鼎腾飞捷豪森茂弘益润泽鸿运正邦宜家乐福海川蓝图卓越智云星辰华夏东方南北启明致远"
)
INDUSTRY_WORDS: dict[str, tuple[str, ...]] = {
    "A01": ("农业科技", "种植", "生态农业", "果蔬"), "A03": ("养殖", "畜牧", "生态养殖"),
    "C13": ("食品", "粮油", "农产品加工"), "C18": ("服饰", "纺织", "制衣"), "C29": ("塑胶", "橡塑", "塑料制品"),
    "C33": ("金属制品", "五金", "钢结构"), "C34": ("机械", "机电设备", "精密机械"),
    "C39": ("电子", "电子科技", "通信设备"),
    "D44": ("新能源", "热力", "电力工程"), "E48": ("建设工程", "路桥工程", "市政工程"),
    "E50": ("装饰工程", "建筑装饰", "装修"), "F51": ("贸易", "商贸", "供应链管理", "进出口"),
    "F52": ("商贸", "百货", "超市"), "F5251": ("大药房", "医药连锁", "药房"), "G54": ("物流", "运输", "货运"),
    "G59": ("仓储", "仓储物流"), "G60": ("快递", "速递"), "H61": ("酒店管理", "宾馆"), "H62": ("餐饮管理", "餐饮"),
    "I64": ("网络科技", "信息技术"), "I65": ("软件", "信息技术", "数据科技"), "K7010": ("房地产开发", "置业"),
    "K7020": ("物业管理", "物业服务"), "L72": ("企业管理咨询", "商务服务", "广告"), "M75": ("科技", "技术服务"),
    "O80": ("家政服务", "美容", "洗涤服务"), "O81": ("汽车维修", "电器维修"), "P83": ("教育科技", "培训"),
    "Q84": ("诊所", "医疗管理"), "R90": ("文化娱乐", "娱乐"),
}  # fmt: skip
SHOP_WORDS: dict[str, tuple[str, ...]] = {
    "A01": ("家庭农场", "种植园"), "A03": ("养殖场",), "C13": ("食品加工厂", "粮油加工坊"), "C18": ("服装加工厂",),
    "C29": ("塑料制品厂",), "C33": ("五金加工厂",), "C34": ("机械加工厂",), "C39": ("电子加工厂",),
    "D44": ("电力服务部",), "E48": ("工程队",), "E50": ("装饰工作室", "装修队"), "F51": ("商行", "批发部"),
    "F52": ("便利店", "超市", "百货店", "服装店", "水果店"), "F5251": ("药店", "大药房"), "G54": ("货运部", "运输队"),
    "G59": ("仓储服务部",), "G60": ("快递服务点",), "H61": ("宾馆", "民宿"),
    "H62": ("餐馆", "面馆", "火锅店", "小吃店"),
    "I64": ("网络工作室",), "I65": ("软件工作室",), "K7010": ("置业部",), "K7020": ("物业服务部",),
    "L72": ("广告部", "咨询服务部"), "M75": ("技术服务部",), "O80": ("美容美发店", "洗衣店", "家政服务部"),
    "O81": ("汽车修理厂", "家电维修部"), "P83": ("培训中心",), "Q84": ("诊所", "口腔诊所"), "R90": ("棋牌室", "KTV"),
}  # fmt: skip
ROADS = (
    "人民路", "解放路", "中山路", "建设路", "新华路", "和平路", "长江路", "黄河路", "胜利路", "文化路", "工业园路",
    "科技路", "创业路", "开发区大道", "北京路", "南京路", "青年路", "友谊路", "幸福路", "光明路", "朝阳路", "滨江路",
    "湖滨路", "学府路", "迎宾大道", "工农路", "东风路", "振兴路", "发展大道", "高新路",
)  # fmt: skip
PROVINCE_ABBR = {
    "11": "京", "12": "津", "13": "冀", "14": "晋", "15": "蒙", "21": "辽", "22": "吉", "23": "黑", "31": "沪",
    "32": "苏", "33": "浙", "34": "皖", "35": "闽", "36": "赣", "37": "鲁", "41": "豫", "42": "鄂", "43": "湘",
    "44": "粤", "45": "桂", "46": "琼", "50": "渝", "51": "川", "52": "贵", "53": "云", "54": "藏", "61": "陕",
    "62": "甘", "63": "青", "64": "宁", "65": "新",
}  # fmt: skip
"""Court-case-number province abbreviations (案号 省份简称)."""

# ---- calendars ---------------------------------------------------------------------------------------

SPRING_FESTIVAL: dict[int, date] = {
    y: date(y, m, d)
    for y, m, d in (
        (2010, 2, 14), (2011, 2, 3), (2012, 1, 23), (2013, 2, 10), (2014, 1, 31), (2015, 2, 19), (2016, 2, 8),
        (2017, 1, 28), (2018, 2, 16), (2019, 2, 5), (2020, 1, 25), (2021, 2, 12), (2022, 2, 1), (2023, 1, 22),
        (2024, 2, 10), (2025, 1, 29), (2026, 2, 17), (2027, 2, 6), (2028, 1, 26), (2029, 2, 13), (2030, 2, 3),
        (2031, 1, 23), (2032, 2, 11), (2033, 1, 31), (2034, 2, 19), (2035, 2, 8),
    )
}  # fmt: skip
"""正月初一 (Chinese New Year's day) by Gregorian year."""


def spring_festival(year: int) -> date:
    try:
        return SPRING_FESTIVAL[year]
    except KeyError:
        raise ConfigurationError(
            f"no Spring Festival date for {year}; the synthetic calendar covers {min(SPRING_FESTIVAL)}–"
            f"{max(SPRING_FESTIVAL)} (extend puhui.data.synth.vocab.SPRING_FESTIVAL)",
            code="calendar_out_of_range",
            year=year,
        ) from None
