"""The geography the synthetic universe shares: cities, provinces and districts with real codes.

Enterprises, persons and the property database all place themselves in the same cities, so a borrower
in 杭州 owns a flat in 杭州 and a tax bureau code matches an address. Codes are the six-digit
administrative division codes of GB/T 2260 (中华人民共和国行政区划代码) as published by the Ministry of
Civil Affairs (民政部《县以上行政区划代码》, 2023 edition): digits 1–2 the province, 3–4 the prefecture
(地级市), 5–6 the district (市辖区). The four municipalities (直辖市 北京 天津 上海 重庆) are listed by
their province-level code (110000 …), as statistics and most bank systems do, and their districts carry
the 1101xx/3101xx … codes. Cities without districts (东莞, 中山) are left out so that every city has
district codes. Coordinates are city centres (approximate, WGS-84, [R]); district positions are
schematic rings around the centre, not survey data. `weight` is a sampling weight for where enterprises
are, proportional to rounded 2023 city GDP (国家统计局 / city statistical bulletins, [R]) and normalised
by `city_weights()`; `price_level` is a typical second-hand housing price in yuan per m² near the 2021
peak ([R], rounded) — both shape the synthetic data, neither is a statistic to quote.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np

from puhui.core.errors import NotFound

PROVINCES: dict[str, str] = {
    "110000": "北京市", "120000": "天津市", "130000": "河北省", "140000": "山西省",
    "150000": "内蒙古自治区", "210000": "辽宁省", "220000": "吉林省", "230000": "黑龙江省",
    "310000": "上海市", "320000": "江苏省", "330000": "浙江省", "340000": "安徽省",
    "350000": "福建省", "360000": "江西省", "370000": "山东省", "410000": "河南省",
    "420000": "湖北省", "430000": "湖南省", "440000": "广东省", "450000": "广西壮族自治区",
    "460000": "海南省", "500000": "重庆市", "510000": "四川省", "520000": "贵州省",
    "530000": "云南省", "540000": "西藏自治区", "610000": "陕西省", "620000": "甘肃省",
    "630000": "青海省", "640000": "宁夏回族自治区", "650000": "新疆维吾尔自治区",
}  # fmt: skip
"""GB/T 2260 province-level codes (省级) and names; 71/81/82 (台湾, 香港, 澳门) are not markets here."""

MUNICIPALITIES = frozenset({"110000", "120000", "310000", "500000"})
"""直辖市: listed as cities under their province-level code."""

RING_PRICE_FACTOR = (1.30, 1.00, 0.72)
"""Price multiplier by district ring: 0 core (核心区), 1 inner (近郊/新城), 2 outer (远郊)."""

_RING_RADIUS_KM = (2.5, 8.0, 18.0)


@dataclass(frozen=True)
class District:
    """A district (市辖区) of a city: GB/T 2260 code, name and ring (0 core, 1 inner, 2 outer)."""

    code: str
    name: str
    ring: int

    @property
    def price_factor(self) -> float:
        return RING_PRICE_FACTOR[self.ring]


@dataclass(frozen=True)
class City:
    """A prefecture-level city (地级市) or municipality with its districts and shaping parameters."""

    code: str  # GB/T 2260, six digits
    name: str
    province_code: str
    tier: int  # 1 一线, 2 新一线/二线 (provincial capitals and major cities), 3 三线
    lat: float
    lon: float
    weight: float  # unnormalised share of enterprises (≈ 2023 GDP, trillion yuan)
    price_level: int  # typical second-hand price near the 2021 peak, yuan per m²
    districts: tuple[District, ...]

    @property
    def province_name(self) -> str:
        return PROVINCES[self.province_code]

    @property
    def is_municipality(self) -> bool:
        return self.code in MUNICIPALITIES

    def district_position(self, index: int) -> tuple[float, float]:
        """Schematic centre (lat, lon) of district `index`: on its ring at an angle set by its index."""
        d = self.districts[index]
        angle = 2.0 * math.pi * (index * 0.381966 + 0.1 * d.ring)  # golden-angle spread, no overlaps
        r_km = _RING_RADIUS_KM[d.ring]
        dlat = r_km * math.sin(angle) / 111.0
        dlon = r_km * math.cos(angle) / (111.0 * math.cos(math.radians(self.lat)))
        return round(self.lat + dlat, 5), round(self.lon + dlon, 5)


def _c(code: str, name: str, tier: int, lat: float, lon: float, weight: float, price: int, *ds: str) -> City:
    """Compact constructor: each district as 'code name ring'."""
    districts = tuple(District(c, n, int(r)) for c, n, r in (d.split() for d in ds))
    return City(code, name, code[:2] + "0000", tier, lat, lon, weight, price, districts)


_CITY_LIST: tuple[City, ...] = (
    _c("110000", "北京", 1, 39.904, 116.407, 4.38, 60000,
       "110101 东城区 0", "110102 西城区 0", "110105 朝阳区 0", "110108 海淀区 0", "110106 丰台区 1",
       "110112 通州区 1", "110114 昌平区 2", "110115 大兴区 2"),
    _c("120000", "天津", 2, 39.084, 117.201, 1.67, 18000,
       "120101 和平区 0", "120103 河西区 0", "120104 南开区 1", "120102 河东区 1", "120116 滨海新区 2"),
    _c("310000", "上海", 1, 31.230, 121.474, 4.72, 65000,
       "310101 黄浦区 0", "310104 徐汇区 0", "310106 静安区 0", "310105 长宁区 0", "310115 浦东新区 1",
       "310107 普陀区 1", "310110 杨浦区 1", "310112 闵行区 1", "310113 宝山区 2", "310117 松江区 2"),
    _c("500000", "重庆", 2, 29.563, 106.551, 3.01, 12000,
       "500103 渝中区 0", "500105 江北区 0", "500112 渝北区 1", "500106 沙坪坝区 1", "500107 九龙坡区 1",
       "500108 南岸区 1"),
    _c("130100", "石家庄", 2, 38.042, 114.515, 0.78, 12000,
       "130102 长安区 0", "130104 桥西区 0", "130105 新华区 1", "130108 裕华区 1"),
    _c("140100", "太原", 2, 37.870, 112.549, 0.54, 11000,
       "140106 迎泽区 0", "140107 杏花岭区 0", "140105 小店区 1", "140109 万柏林区 1"),
    _c("150100", "呼和浩特", 3, 40.842, 111.749, 0.38, 10000,
       "150102 新城区 0", "150103 回民区 1", "150104 玉泉区 1", "150105 赛罕区 1"),
    _c("210100", "沈阳", 2, 41.806, 123.432, 0.80, 10000,
       "210102 和平区 0", "210103 沈河区 0", "210105 皇姑区 1", "210106 铁西区 1", "210104 大东区 1",
       "210112 浑南区 2"),
    _c("210200", "大连", 2, 38.914, 121.615, 0.85, 14000,
       "210202 中山区 0", "210203 西岗区 0", "210204 沙河口区 1", "210211 甘井子区 2"),
    _c("220100", "长春", 2, 43.817, 125.324, 0.70, 9000,
       "220102 南关区 0", "220104 朝阳区 0", "220103 宽城区 1", "220105 二道区 1", "220106 绿园区 2"),
    _c("230100", "哈尔滨", 2, 45.803, 126.535, 0.56, 9000,
       "230102 道里区 0", "230103 南岗区 0", "230104 道外区 1", "230110 香坊区 1", "230109 松北区 2"),
    _c("320100", "南京", 2, 32.060, 118.797, 1.74, 28000,
       "320102 玄武区 0", "320104 秦淮区 0", "320106 鼓楼区 0", "320105 建邺区 1", "320114 雨花台区 1",
       "320113 栖霞区 1", "320115 江宁区 2", "320111 浦口区 2"),
    _c("320200", "无锡", 2, 31.491, 120.312, 1.55, 16000,
       "320213 梁溪区 0", "320211 滨湖区 1", "320214 新吴区 1", "320206 惠山区 2", "320205 锡山区 2"),
    _c("320300", "徐州", 3, 34.205, 117.285, 0.89, 10000,
       "320302 鼓楼区 0", "320303 云龙区 0", "320311 泉山区 1", "320312 铜山区 2", "320305 贾汪区 2"),
    _c("320400", "常州", 3, 31.811, 119.974, 1.01, 14000,
       "320402 天宁区 0", "320404 钟楼区 0", "320411 新北区 1", "320412 武进区 2"),
    _c("320500", "苏州", 2, 31.299, 120.585, 2.47, 22000,
       "320508 姑苏区 0", "320505 虎丘区 1", "320506 吴中区 1", "320507 相城区 2", "320509 吴江区 2"),
    _c("320600", "南通", 3, 31.980, 120.894, 1.18, 15000,
       "320613 崇川区 0", "320612 通州区 1", "320614 海门区 2"),
    _c("321000", "扬州", 3, 32.394, 119.413, 0.74, 12000,
       "321002 广陵区 0", "321003 邗江区 1", "321012 江都区 2"),
    _c("330100", "杭州", 2, 30.274, 120.155, 2.01, 32000,
       "330102 上城区 0", "330105 拱墅区 0", "330106 西湖区 0", "330108 滨江区 1", "330110 余杭区 1",
       "330109 萧山区 1", "330113 临平区 2", "330114 钱塘区 2"),
    _c("330200", "宁波", 2, 29.868, 121.544, 1.65, 22000,
       "330203 海曙区 0", "330205 江北区 0", "330212 鄞州区 1", "330206 北仑区 2", "330211 镇海区 2",
       "330213 奉化区 2"),
    _c("330300", "温州", 3, 27.994, 120.699, 0.87, 20000,
       "330302 鹿城区 0", "330304 瓯海区 1", "330303 龙湾区 1", "330305 洞头区 2"),
    _c("330400", "嘉兴", 3, 30.746, 120.756, 0.74, 14000,
       "330402 南湖区 0", "330411 秀洲区 1"),
    _c("330600", "绍兴", 3, 30.030, 120.580, 0.79, 17000,
       "330602 越城区 0", "330603 柯桥区 1", "330604 上虞区 2"),
    _c("330700", "金华", 3, 29.079, 119.648, 0.60, 15000,
       "330702 婺城区 0", "330703 金东区 1"),
    _c("331000", "台州", 3, 28.656, 121.421, 0.62, 15000,
       "331002 椒江区 0", "331003 黄岩区 1", "331004 路桥区 1"),
    _c("340100", "合肥", 2, 31.821, 117.227, 1.27, 17000,
       "340103 庐阳区 0", "340104 蜀山区 0", "340111 包河区 1", "340102 瑶海区 1"),
    _c("350100", "福州", 2, 26.074, 119.296, 1.29, 22000,
       "350102 鼓楼区 0", "350103 台江区 0", "350104 仓山区 1", "350111 晋安区 1", "350105 马尾区 2"),
    _c("350200", "厦门", 2, 24.480, 118.089, 0.81, 40000,
       "350203 思明区 0", "350206 湖里区 0", "350211 集美区 1", "350205 海沧区 1", "350212 同安区 2",
       "350213 翔安区 2"),
    _c("350500", "泉州", 3, 24.874, 118.676, 1.22, 13000,
       "350502 鲤城区 0", "350503 丰泽区 0", "350504 洛江区 1", "350505 泉港区 2"),
    _c("360100", "南昌", 2, 28.682, 115.858, 0.72, 12000,
       "360102 东湖区 0", "360103 西湖区 0", "360104 青云谱区 1", "360111 青山湖区 1", "360112 新建区 2"),
    _c("370100", "济南", 2, 36.651, 117.120, 1.28, 15000,
       "370102 历下区 0", "370103 市中区 0", "370104 槐荫区 1", "370105 天桥区 1", "370112 历城区 2"),
    _c("370200", "青岛", 2, 36.067, 120.383, 1.58, 17000,
       "370202 市南区 0", "370203 市北区 0", "370212 崂山区 1", "370213 李沧区 1", "370214 城阳区 2",
       "370211 黄岛区 2"),
    _c("370600", "烟台", 3, 37.464, 121.448, 1.00, 10000,
       "370602 芝罘区 0", "370613 莱山区 1", "370611 福山区 2", "370612 牟平区 2"),
    _c("370700", "潍坊", 3, 36.707, 119.161, 0.77, 7500,
       "370705 奎文区 0", "370702 潍城区 0", "370703 寒亭区 1", "370704 坊子区 2"),
    _c("410100", "郑州", 2, 34.746, 113.625, 1.36, 12000,
       "410105 金水区 0", "410102 中原区 0", "410103 二七区 1", "410104 管城回族区 1", "410108 惠济区 2"),
    _c("410300", "洛阳", 3, 34.620, 112.454, 0.58, 8000,
       "410302 老城区 0", "410303 西工区 0", "410305 涧西区 1", "410311 洛龙区 1", "410304 瀍河回族区 2"),
    _c("420100", "武汉", 2, 30.593, 114.305, 2.00, 16000,
       "420102 江岸区 0", "420103 江汉区 0", "420106 武昌区 0", "420104 硚口区 1", "420105 汉阳区 1",
       "420111 洪山区 1"),
    _c("430100", "长沙", 2, 28.228, 112.939, 1.45, 11000,
       "430102 芙蓉区 0", "430103 天心区 0", "430104 岳麓区 1", "430105 开福区 1", "430111 雨花区 1"),
    _c("440100", "广州", 1, 23.129, 113.264, 3.04, 35000,
       "440104 越秀区 0", "440106 天河区 0", "440105 海珠区 0", "440103 荔湾区 1", "440111 白云区 1",
       "440112 黄埔区 1", "440113 番禺区 2"),
    _c("440300", "深圳", 1, 22.543, 114.058, 3.46, 60000,
       "440304 福田区 0", "440305 南山区 0", "440303 罗湖区 0", "440306 宝安区 1", "440309 龙华区 1",
       "440307 龙岗区 2"),
    _c("440400", "珠海", 3, 22.271, 113.577, 0.42, 25000,
       "440402 香洲区 0", "440404 金湾区 1", "440403 斗门区 2"),
    _c("440600", "佛山", 2, 23.022, 113.122, 1.33, 14000,
       "440604 禅城区 0", "440605 南海区 0", "440606 顺德区 1", "440607 三水区 2"),
    _c("441300", "惠州", 3, 23.112, 114.416, 0.56, 10000,
       "441302 惠城区 0", "441303 惠阳区 1"),
    _c("450100", "南宁", 2, 22.817, 108.367, 0.55, 11000,
       "450103 青秀区 0", "450102 兴宁区 0", "450105 江南区 1", "450107 西乡塘区 1"),
    _c("460100", "海口", 3, 20.044, 110.199, 0.24, 16000,
       "460106 龙华区 0", "460108 美兰区 0", "460105 秀英区 1", "460107 琼山区 1"),
    _c("510100", "成都", 2, 30.573, 104.066, 2.20, 16000,
       "510104 锦江区 0", "510105 青羊区 0", "510107 武侯区 0", "510106 金牛区 1", "510108 成华区 1",
       "510116 双流区 2"),
    _c("520100", "贵阳", 3, 26.647, 106.630, 0.52, 8500,
       "520102 南明区 0", "520103 云岩区 0", "520115 观山湖区 1", "520111 花溪区 2"),
    _c("530100", "昆明", 2, 25.038, 102.718, 0.78, 11000,
       "530102 五华区 0", "530103 盘龙区 0", "530111 官渡区 1", "530112 西山区 1"),
    _c("540100", "拉萨", 3, 29.652, 91.172, 0.08, 10000,
       "540102 城关区 0", "540103 堆龙德庆区 1"),
    _c("610100", "西安", 2, 34.342, 108.940, 1.20, 16000,
       "610103 碑林区 0", "610102 新城区 0", "610104 莲湖区 0", "610113 雁塔区 1", "610112 未央区 1",
       "610116 长安区 2"),
    _c("620100", "兰州", 3, 36.061, 103.834, 0.35, 10000,
       "620102 城关区 0", "620103 七里河区 1", "620105 安宁区 1", "620104 西固区 2"),
    _c("630100", "西宁", 3, 36.617, 101.778, 0.17, 9000,
       "630103 城中区 0", "630102 城东区 1", "630104 城西区 1", "630105 城北区 1"),
    _c("640100", "银川", 3, 38.487, 106.231, 0.27, 8000,
       "640104 兴庆区 0", "640106 金凤区 1", "640105 西夏区 1"),
    _c("650100", "乌鲁木齐", 3, 43.826, 87.617, 0.42, 9000,
       "650102 天山区 0", "650103 沙依巴克区 0", "650104 新市区 1", "650105 水磨沟区 1"),
)  # fmt: skip

CITIES: tuple[City, ...] = tuple(sorted(_CITY_LIST, key=lambda c: c.code))
"""Cities in GB/T 2260 code order; the index of a city in this tuple is stable for a given release."""


@cache
def _by_code() -> dict[str, City]:
    return {c.code: c for c in CITIES}


@cache
def _district_index() -> dict[str, tuple[City, District]]:
    return {d.code: (c, d) for c in CITIES for d in c.districts}


def city(code: str) -> City:
    """The city with GB/T 2260 code `code`; an unknown code raises NotFound."""
    try:
        return _by_code()[code]
    except KeyError:
        raise NotFound(f"unknown city code {code!r} (GB/T 2260, six digits)", code="unknown_city", city=code) from None


def district(code: str) -> tuple[City, District]:
    """The (city, district) for a GB/T 2260 district code; an unknown code raises NotFound."""
    try:
        return _district_index()[code]
    except KeyError:
        raise NotFound(f"unknown district code {code!r}", code="unknown_district", district=code) from None


def city_codes() -> np.ndarray:
    """City codes as a numpy unicode array, in `CITIES` order."""
    return np.array([c.code for c in CITIES], dtype="<U6")


def city_names() -> np.ndarray:
    return np.array([c.name for c in CITIES])


def province_codes() -> np.ndarray:
    """Province code of each city, in `CITIES` order."""
    return np.array([c.province_code for c in CITIES], dtype="<U6")


def city_weights() -> np.ndarray:
    """Sampling weights of cities for enterprises (float64, sums to 1), in `CITIES` order."""
    w = np.array([c.weight for c in CITIES], dtype=np.float64)
    return w / w.sum()


def city_tiers() -> np.ndarray:
    return np.array([c.tier for c in CITIES], dtype=np.int64)


def city_price_levels() -> np.ndarray:
    """Typical second-hand price, yuan per m² (float64), in `CITIES` order."""
    return np.array([c.price_level for c in CITIES], dtype=np.float64)


def city_latlon() -> np.ndarray:
    """City centres as an (n, 2) float64 array of (lat, lon)."""
    return np.array([(c.lat, c.lon) for c in CITIES], dtype=np.float64)


@dataclass(frozen=True)
class DistrictArrays:
    """All districts flattened, for vectorised sampling: parallel arrays of equal length."""

    city_index: np.ndarray  # int64 index into CITIES
    code: np.ndarray  # <U6 district code
    name: np.ndarray
    ring: np.ndarray  # int64 0/1/2
    price_factor: np.ndarray  # float64
    lat: np.ndarray
    lon: np.ndarray
    offsets: np.ndarray  # int64, len(CITIES)+1: districts of city i are [offsets[i], offsets[i+1])


def district_arrays() -> DistrictArrays:
    """Every district of every city as parallel numpy arrays (fresh copies; safe to mutate)."""
    ci, code, name, ring, lat, lon = [], [], [], [], [], []
    offsets = [0]
    for i, c in enumerate(CITIES):
        for j, d in enumerate(c.districts):
            la, lo = c.district_position(j)
            ci.append(i)
            code.append(d.code)
            name.append(d.name)
            ring.append(d.ring)
            lat.append(la)
            lon.append(lo)
        offsets.append(len(code))
    ring_a = np.array(ring, dtype=np.int64)
    return DistrictArrays(
        city_index=np.array(ci, dtype=np.int64),
        code=np.array(code, dtype="<U6"),
        name=np.array(name),
        ring=ring_a,
        price_factor=np.array(RING_PRICE_FACTOR, dtype=np.float64)[ring_a],
        lat=np.array(lat, dtype=np.float64),
        lon=np.array(lon, dtype=np.float64),
        offsets=np.array(offsets, dtype=np.int64),
    )


def sample_districts(city_index: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each city index, one district index (into `district_arrays()`), uniform within the city."""
    da = district_arrays()
    lo = da.offsets[city_index]
    n = da.offsets[city_index + 1] - lo
    return lo + np.floor(rng.random(len(city_index)) * n).astype(np.int64)
