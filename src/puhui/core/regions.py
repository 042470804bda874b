"""Province-level 行政区划代码 (GB/T 2260) and the region checks identifiers use.

A GB/T 2260 code has six digits: 1–2 the province-level unit (省级), 3–4 the prefecture (地级, 00 at
province level), 5–6 the county (县级, 00 at prefecture level). Codes below province level are
created, retired and sometimes re-used every year (民政部 "县以上行政区划代码"), so a fixed table of
them ages badly; this module validates the **province level only** — the two leading digits must
name one of the 34 province-level units — plus the national code 100000 (中华人民共和国) that
central registration authorities use in 统一社会信用代码 (e.g. 国务院部门 111000…, 民政部-registered
national social organisations 511000…). Deeper checks need a dated code list
`(code, name, valid_from, valid_to)` and belong with the data that carries it.
"""

from __future__ import annotations

#: GB/T 2260 province-level units (省、自治区、直辖市、特别行政区), code of the two leading digits → name.
PROVINCES: dict[str, str] = {
    "11": "北京市",
    "12": "天津市",
    "13": "河北省",
    "14": "山西省",
    "15": "内蒙古自治区",
    "21": "辽宁省",
    "22": "吉林省",
    "23": "黑龙江省",
    "31": "上海市",
    "32": "江苏省",
    "33": "浙江省",
    "34": "安徽省",
    "35": "福建省",
    "36": "江西省",
    "37": "山东省",
    "41": "河南省",
    "42": "湖北省",
    "43": "湖南省",
    "44": "广东省",
    "45": "广西壮族自治区",
    "46": "海南省",
    "50": "重庆市",
    "51": "四川省",
    "52": "贵州省",
    "53": "云南省",
    "54": "西藏自治区",
    "61": "陕西省",
    "62": "甘肃省",
    "63": "青海省",
    "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区",
    "71": "台湾省",
    "81": "香港特别行政区",
    "82": "澳门特别行政区",
}

#: The national-level code used by central registration authorities (pos 3–8 of a USCC).
NATIONAL_CODE = "100000"


def province_name(code: str) -> str | None:
    """The province-level unit a region code (2 or 6 digits) belongs to, or None if unknown."""
    return PROVINCES.get(code[:2]) if len(code) >= 2 else None


def is_valid_region_code(code: str, *, allow_national: bool = True) -> bool:
    """Six digits whose province level is known (or 100000 when `allow_national`).

    Depth: province level only (see the module docstring); `110119` and `119999` both pass.
    """
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        return False
    if allow_national and code == NATIONAL_CODE:
        return True
    return code[:2] in PROVINCES
