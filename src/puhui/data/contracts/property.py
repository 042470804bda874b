"""Contracts of the national property database (房产数据库): cities → districts → compounds (小区) →
buildings (楼栋) → units (房屋), with deals (成交), listings (挂牌) and who holds a unit (产权/抵押).

This is what the collateral loans (网贷通 / e抵快贷) value online: the automated valuation model reads
compounds, units, deals and listings; the admission and limit rules read holdings (does the applicant
or its legal representative own a home, and how much mortgage is on it). Reference tables carry no
time field; deals and listings are placed in time by their dates and reach the bank with a lag
(网签/过户 data arrives monthly, listings the next day). Codes follow GB/T 2260 for places. What the
generator knows but a bank never sees — the true price index and true values — is not here; it lives
in the truth folder beside the raw zone.
"""

from __future__ import annotations

from puhui.data.contracts.base import Check, Field, FieldType, SourceContract
from puhui.data.synth.geography import CITIES, PROVINCES

_CITY_CODES = tuple(c.code for c in CITIES)
_PROVINCE_CODES = tuple(PROVINCES)

PROPERTY_TYPES = ("ordinary", "apartment", "villa")
"""ordinary 普通住宅 (70-year residential land) | apartment 公寓 (商住, 40/50-year land) | villa 别墅."""
BUILDING_TYPES = ("multi_storey", "mid_rise", "high_rise", "low_rise")
"""multi_storey 多层 (≤ 7 floors, usually no lift) | mid_rise 小高层 (8–18) | high_rise 高层 (≥ 19) |
low_rise 低层 (villas, 2–3 floors)."""
ORIENTATIONS = ("south", "south_north", "east", "west", "north", "east_west")
"""朝向: 南 | 南北通透 | 东 | 西 | 北 | 东西."""
DECORATIONS = ("rough", "simple", "fine")
"""装修: 毛坯 | 简装 | 精装."""
CHANNELS = ("agency", "private", "auction")
"""agency 中介成交 | private 自行成交 (incl. transfers between relatives; prices less reliable) |
auction 司法拍卖 (forced sale, not arm's length: sells below value)."""
DELIST_REASONS = ("sold", "withdrawn")
OWNER_TYPES = ("enterprise", "person")


_ID = FieldType.STRING
_CODE = FieldType.CODE

PROPERTY_CITIES = SourceContract(
    name="property_cities",
    en="Cities covered by the property database",
    zh="城市",
    grain="one row per city",
    key=("city_code",),
    time_field=None,
    lag_days=0,
    subject="property",
    fields=(
        Field("city_code", _CODE, "GB/T 2260 code of the prefecture-level city or municipality", "城市行政区划代码",
           codes=_CITY_CODES),
        Field("city_name", FieldType.STRING, "city name", "城市名称"),
        Field("province_code", _CODE, "GB/T 2260 province code", "省级行政区划代码", codes=_PROVINCE_CODES),
        Field("province_name", FieldType.STRING, "province name", "省份名称"),
        Field("tier", FieldType.INT, "city tier: 1 first-tier, 2 new first/second tier, 3 third tier", "城市等级"),
        Field("lat", FieldType.FLOAT, "latitude of the city centre (WGS-84)", "纬度", unit="deg"),
        Field("lon", FieldType.FLOAT, "longitude of the city centre (WGS-84)", "经度", unit="deg"),
    ),
)  # fmt: skip

PROPERTY_DISTRICTS = SourceContract(
    name="property_districts",
    en="Districts of the covered cities",
    zh="区县",
    grain="one row per district",
    key=("district_code",),
    time_field=None,
    lag_days=0,
    subject="property",
    fields=(
        Field("district_code", FieldType.STRING, "GB/T 2260 code of the district", "区县行政区划代码"),
        Field("city_code", _CODE, "city of the district", "城市行政区划代码", codes=_CITY_CODES),
        Field("district_name", FieldType.STRING, "district name", "区县名称"),
        Field("lat", FieldType.FLOAT, "latitude of the district centre", "纬度", unit="deg"),
        Field("lon", FieldType.FLOAT, "longitude of the district centre", "经度", unit="deg"),
    ),
)  # fmt: skip

PROPERTY_COMPOUNDS = SourceContract(
    name="property_compounds",
    en="Residential compounds",
    zh="小区",
    grain="one row per compound",
    key=("compound_id",),
    time_field=None,
    lag_days=0,
    subject="property",
    fields=(
        Field("compound_id", _ID, "compound identifier", "小区编号"),
        Field("city_code", _CODE, "city", "城市行政区划代码", codes=_CITY_CODES),
        Field("district_code", FieldType.STRING, "district (a key of property_districts)", "区县行政区划代码"),
        Field("name", FieldType.STRING, "compound name", "小区名称"),
        Field("lat", FieldType.FLOAT, "latitude of the compound gate", "纬度", unit="deg"),
        Field("lon", FieldType.FLOAT, "longitude of the compound gate", "经度", unit="deg"),
        Field("build_year", FieldType.INT, "year the compound was completed", "建成年份", unit="year"),
        Field("property_type", _CODE, "property type: ordinary 普通住宅 | apartment 公寓 | villa 别墅", "物业类型",
           codes=PROPERTY_TYPES),
        Field("land_tenure_years", FieldType.INT, "land-use right term of the land (70 residential, 40/50 mixed)",
           "土地使用年限", unit="year"),
        Field("greening_rate", FieldType.FLOAT, "share of the site that is green space", "绿化率", unit="share",
           nullable=True, checks=(Check.SHARE,)),
        Field("plot_ratio", FieldType.FLOAT, "floor area over site area", "容积率", nullable=True,
           checks=(Check.NON_NEGATIVE,)),
        Field("property_fee", FieldType.AMOUNT, "property management fee per m² and month", "物业费",
           unit="CNY/m²/month", nullable=True, checks=(Check.NON_NEGATIVE,)),
        Field("school_district", FieldType.BOOL, "assigned to a sought-after primary school", "学区房"),
        Field("metro_distance_m", FieldType.FLOAT, "walking distance to the nearest metro station", "距地铁距离",
           unit="m", nullable=True, checks=(Check.NON_NEGATIVE,)),
        Field("n_buildings", FieldType.INT, "number of buildings", "楼栋数", checks=(Check.NON_NEGATIVE,)),
        Field("n_units", FieldType.INT, "number of residential units", "总户数", checks=(Check.NON_NEGATIVE,)),
    ),
)  # fmt: skip

PROPERTY_BUILDINGS = SourceContract(
    name="property_buildings",
    en="Buildings of the compounds",
    zh="楼栋",
    grain="one row per building",
    key=("building_id",),
    time_field=None,
    lag_days=0,
    subject="property",
    fields=(
        Field("building_id", _ID, "building identifier (compound id + building number)", "楼栋编号"),
        Field("compound_id", _ID, "compound of the building", "小区编号"),
        Field("building_no", FieldType.STRING, "building number as signposted", "楼栋号"),
        Field("building_type", _CODE, "multi_storey 多层 | mid_rise 小高层 | high_rise 高层 | low_rise 低层",
           "建筑类型", codes=BUILDING_TYPES),
        Field("total_floors", FieldType.INT, "floors above ground", "总层数", checks=(Check.NON_NEGATIVE,)),
        Field("units_per_floor", FieldType.INT, "units on each floor", "每层户数", checks=(Check.NON_NEGATIVE,)),
        Field("elevator", FieldType.BOOL, "has a lift", "有电梯"),
        Field("build_year", FieldType.INT, "year the building was completed", "建成年份", unit="year"),
    ),
)  # fmt: skip

PROPERTY_UNITS = SourceContract(
    name="property_units",
    en="Residential units",
    zh="房屋",
    grain="one row per unit",
    key=("unit_id",),
    time_field=None,
    lag_days=0,
    subject="property",
    fields=(
        Field("unit_id", _ID, "unit identifier (building id + room number)", "房屋编号"),
        Field("building_id", _ID, "building of the unit", "楼栋编号"),
        Field("room_no", FieldType.STRING, "room number: floor and door, e.g. 1203", "房号"),
        Field("floor", FieldType.INT, "floor of the unit (1 = ground)", "所在楼层", checks=(Check.NON_NEGATIVE,)),
        Field("total_floors", FieldType.INT, "floors of the building", "总层数", checks=(Check.NON_NEGATIVE,)),
        Field("area", FieldType.FLOAT, "gross floor area (建筑面积)", "建筑面积", unit="m²",
           checks=(Check.NON_NEGATIVE,)),
        Field("rooms", FieldType.INT, "bedrooms (室); null where not recorded", "室", nullable=True,
           checks=(Check.NON_NEGATIVE,)),
        Field("halls", FieldType.INT, "living rooms (厅); null where not recorded", "厅", nullable=True,
           checks=(Check.NON_NEGATIVE,)),
        Field("orientation", _CODE, "main orientation; null where not recorded", "朝向", nullable=True,
           codes=ORIENTATIONS),
        Field("decoration", _CODE, "finish: rough 毛坯 | simple 简装 | fine 精装; null where not recorded", "装修",
           nullable=True, codes=DECORATIONS),
    ),
)  # fmt: skip

PROPERTY_TRANSACTIONS = SourceContract(
    name="property_transactions",
    en="Registered residential sales",
    zh="房屋成交",
    grain="one row per sale of a unit",
    key=("txn_id",),
    time_field="date",
    lag_days=30,
    subject="property",
    fields=(
        Field("txn_id", _ID, "sale identifier", "成交编号"),
        Field("unit_id", _ID, "unit sold", "房屋编号"),
        Field("date", FieldType.DATE, "contract date (网签日期)", "成交日期", checks=(Check.NOT_FUTURE,)),
        Field("price", FieldType.AMOUNT, "total sale price", "成交总价", unit="CNY", checks=(Check.NON_NEGATIVE,)),
        Field("area", FieldType.FLOAT, "area in the contract", "成交面积", unit="m²", checks=(Check.NON_NEGATIVE,)),
        Field("channel", _CODE, "agency 中介 | private 自行成交 | auction 司法拍卖", "成交渠道", codes=CHANNELS),
    ),
    notes=("Auction and private sales are not arm's length; valuation models should exclude or flag them.",),
)  # fmt: skip

PROPERTY_LISTINGS = SourceContract(
    name="property_listings",
    en="Listings of units for sale",
    zh="挂牌房源",
    grain="one row per listing",
    key=("listing_id",),
    time_field="list_date",
    lag_days=1,
    subject="property",
    fields=(
        Field("listing_id", _ID, "listing identifier", "挂牌编号"),
        Field("unit_id", _ID, "unit listed", "房屋编号"),
        Field("list_date", FieldType.DATE, "first day on the market", "挂牌日期", checks=(Check.NOT_FUTURE,)),
        Field("asking_price", FieldType.AMOUNT, "asking price", "挂牌总价", unit="CNY", checks=(Check.NON_NEGATIVE,)),
        Field("delist_date", FieldType.DATE, "day taken off the market; null while still listed", "下架日期",
           nullable=True, checks=(Check.NOT_FUTURE,)),
        Field("delist_reason", _CODE, "sold | withdrawn; null while still listed", "下架原因", nullable=True,
           codes=DELIST_REASONS),
    ),
)  # fmt: skip

PROPERTY_HOLDINGS = SourceContract(
    name="property_holdings",
    en="Registered holdings of units by the bank's enterprises and their legal representatives",
    zh="不动产权属及抵押",
    grain="one row per unit and owner, as of the snapshot date",
    key=("unit_id", "owner_id"),
    time_field="as_of",
    lag_days=0,
    subject="property",
    fields=(
        Field("unit_id", _ID, "unit held", "房屋编号"),
        Field("owner_type", _CODE, "enterprise | person (the enterprise's legal representative)", "权利人类型",
           codes=OWNER_TYPES),
        Field("owner_id", _ID, "USCC of an enterprise, or the person id of a legal representative", "权利人标识"),
        Field("uscc", _ID, "enterprise the holding is linked to (the owner or the owner's enterprise)",
           "关联企业统一社会信用代码", checks=(Check.USCC,)),
        Field("acquired_date", FieldType.DATE, "date the owner acquired the unit", "取得日期",
           checks=(Check.NOT_FUTURE,)),
        Field("purchase_price", FieldType.AMOUNT, "price paid, where known", "取得价格", unit="CNY", nullable=True,
           checks=(Check.NON_NEGATIVE,)),
        Field("mortgaged", FieldType.BOOL, "an existing mortgage is registered on the unit", "已抵押"),
        Field("mortgage_balance", FieldType.AMOUNT, "outstanding balance of the existing mortgage (0 if none)",
           "抵押贷款余额", unit="CNY", checks=(Check.NON_NEGATIVE,)),
        Field("as_of", FieldType.DATE, "snapshot date of the registry query", "查询日期"),
    ),
    notes=("The same unit is never held by two owners of different enterprises.",),
)  # fmt: skip

PROPERTY_CONTRACTS: tuple[SourceContract, ...] = (
    PROPERTY_CITIES,
    PROPERTY_DISTRICTS,
    PROPERTY_COMPOUNDS,
    PROPERTY_BUILDINGS,
    PROPERTY_UNITS,
    PROPERTY_TRANSACTIONS,
    PROPERTY_LISTINGS,
    PROPERTY_HOLDINGS,
)
