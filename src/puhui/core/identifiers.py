"""Chinese identifiers: 统一社会信用代码 (USCC), 居民身份证号码 (RIC) and bank card numbers.

**USCC — GB 32100-2015.** 18 characters from `0123456789ABCDEFGHJKLMNPQRTUWXY` (no I, O, Z, S, V):
pos 1 登记管理部门 (registration authority), pos 2 机构类别 (category within that authority), pos 3–8
登记管理机关行政区划码 (GB/T 2260), pos 9–17 主体标识码 = GB 11714 organisation code (8 characters + its
own check character at pos 17), pos 18 the GB 32100 check character (GB/T 17710 MOD 31, weights
3^i mod 31). `validate_uscc` checks, in order and each with its own error code: length
(`uscc_length`), alphabet (`uscc_charset`), authority (`uscc_authority`), category for that authority
(`uscc_category`), region (`uscc_region`, province level only — see `puhui.core.regions`), the inner
GB 11714 check at pos 17 (`uscc_org_check`: weights 3,7,9,10,5,8,4,2 on pos 9–16 with A=10 … Z=35,
c = 11 − Σ mod 11, 10 → X, 11 → 0) and the MOD 31 check at pos 18 (`uscc_check`). python-stdnum
(`stdnum.cn.uscc`) checks only length, digits at pos 1–8, alphabet and pos 18, and so rejects letter
authorities (A 中央军委改革和编制办公室, N 农业农村, Y 其他 …) as a bad format;
this module accepts them. The authority/category table is GB 32100-2015 Appendix A plus later
allocations reported in practice ([U]: G 境外非政府组织代表机构, J 业主大会, Q 侨联,
5-4/5-5 村/居民委员会, 3-6 商事调解, 8-2 非法人工会); extend `USCC_CATEGORIES` when a real
code is refused. `strict=False` keeps only the length, alphabet and pos-18 checks, for raw data.

**RIC — GB 11643-1999.** 17 digits (6 address code, 8 birth date YYYYMMDD, 3 sequence: odd = male,
even = female) + ISO 7064 MOD 11-2 check (`"10X98765432"[Σ mod 11]`, weights 2^(17−i) mod 11). We check
length (`ric_length`; 15-digit pre-1999 numbers are unsupported), format (`ric_format`), the check
(`ric_check`), a real calendar date not before 1900 (`ric_birth_date`), no birth after `today`
(`ric_future_birth`) and a province-level address code (`ric_region`; 81/82/83 for the residence
permits of Hong Kong, Macao and Taiwan residents). Unlike `stdnum.cn.ric` we do not check the full
address code against a table of when each county code existed: those tables lag the 民政部 list.
Error messages mask the number (前6后4): an ID number never goes into a log in full.

**Bank cards.** Digits only, 16–19 long (errors `bank_card_format`, `bank_card_length`); a failed Luhn
(ISO/IEC 7812) check is a **warning**, not an error, because some legacy domestic cards are reported
not to follow it — the real check is account verification with the bank.

The `make_*` functions compute check characters to mint valid synthetic identifiers; `make_usccs` and
`make_rics` do it for numpy arrays (about 1.5 million codes a second; `make_uscc` about 270,000).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from operator import mul
from typing import Literal

import numpy as np

from puhui.core.errors import ValidationError
from puhui.core.regions import NATIONAL_CODE, PROVINCES, is_valid_region_code

# --------------------------------------------------------------------------------------------------
# USCC
# --------------------------------------------------------------------------------------------------

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, 16, …
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_VALUE = {**{str(i): i for i in range(10)}, **{chr(65 + i): 10 + i for i in range(26)}}
_USCC_SET = frozenset(USCC_ALPHABET)
_ORG_SET = frozenset(_ORG_VALUE)

#: 登记管理部门 → name (GB 32100-2015 Appendix A; G, J, Q from later practice [U]).
USCC_AUTHORITIES: dict[str, str] = {
    "1": "机构编制",
    "2": "外交",
    "3": "司法行政",
    "4": "文化",
    "5": "民政",
    "6": "旅游",
    "7": "宗教",
    "8": "工会",
    "9": "市场监管(工商)",
    "A": "中央军委改革和编制办公室",
    "G": "公安(境外非政府组织代表机构)",
    "J": "住房城乡建设(业主大会)",
    "N": "农业农村",
    "Q": "侨联",
    "Y": "其他",
}

#: 登记管理部门 → the 机构类别 codes allowed under it.
USCC_CATEGORIES: dict[str, dict[str, str]] = {
    "1": {"1": "机关", "2": "事业单位", "3": "中央编办直接管理机构编制的群众团体", "9": "其他"},
    "2": {"1": "外国常驻新闻机构", "9": "其他"},
    "3": {
        "1": "律师执业机构",
        "2": "公证处",
        "3": "基层法律服务所",
        "4": "司法鉴定机构",
        "5": "仲裁委员会",
        "6": "商事调解组织",
        "9": "其他",
    },
    "4": {"1": "外国在华文化中心", "9": "其他"},
    "5": {"1": "社会团体", "2": "民办非企业单位", "3": "基金会", "4": "村民委员会", "5": "居民委员会", "9": "其他"},
    "6": {"1": "外国政府旅游部门常驻代表机构", "2": "港澳台地区旅游部门常驻代表机构", "9": "其他"},
    "7": {"1": "宗教活动场所", "2": "宗教院校", "9": "其他"},
    "8": {"1": "基层工会", "2": "非法人工会组织", "9": "其他"},
    "9": {"1": "企业", "2": "个体工商户", "3": "农民专业合作社", "9": "其他"},
    "A": {"1": "军队事业单位", "9": "其他"},
    "G": {"1": "境外非政府组织代表机构", "9": "其他"},
    "J": {"1": "业主大会", "9": "其他"},
    "N": {"1": "组级集体经济组织", "2": "村级集体经济组织", "3": "乡镇级集体经济组织", "9": "其他"},
    "Q": {"1": "区县级侨联组织", "2": "乡镇级侨联组织", "3": "村级侨联组织", "9": "其他"},
    "Y": {"1": "其他"},
}


_TYPE_ERROR_CODE = {"uscc": "uscc_charset", "ric": "ric_format", "bank_card": "bank_card_format"}


def _compact(code: str, field: str) -> str:
    if not isinstance(code, str):
        raise ValidationError(
            f"{field}: expected text, got {type(code).__name__}", code=_TYPE_ERROR_CODE[field], field=field
        )
    return code.replace(" ", "").replace("-", "").strip().upper()


def _uscc_error(code: str, number: str, message: str, **details: object) -> ValidationError:
    return ValidationError(f"USCC {number!r}: {message}", code=code, field="uscc", **details)


def _org_check(body8: str) -> str:
    c = 11 - sum(map(mul, map(_ORG_VALUE.__getitem__, body8), _ORG_WEIGHTS)) % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def _uscc_check(body17: str) -> str:
    return USCC_ALPHABET[-sum(map(mul, map(_USCC_VALUE.__getitem__, body17), _USCC_WEIGHTS)) % 31]


def org_code_check_char(body8: str) -> str:
    """The GB 11714 check character of an 8-character organisation code body (pos 9–16 of a USCC)."""
    if len(body8) != 8 or not _ORG_SET.issuperset(body8):
        raise _uscc_error("uscc_charset", body8, "an organisation code body is 8 digits or capital letters")
    return _org_check(body8)


def uscc_check_char(body17: str) -> str:
    """The GB 32100 MOD 31 check character (pos 18) of the first 17 characters."""
    if len(body17) != 17 or not _USCC_SET.issuperset(body17):
        raise _uscc_error("uscc_charset", body17, "need 17 characters from the USCC alphabet")
    return _uscc_check(body17)


def uscc_check_chars(body16: str) -> str:
    """Both check characters (pos 17 and 18) for the first 16 characters of a USCC."""
    if len(body16) != 16 or not _USCC_SET.issuperset(body16):
        raise _uscc_error("uscc_charset", body16, "need 16 characters from the USCC alphabet to compute checks")
    org = _org_check(body16[8:])
    return org + _uscc_check(body16 + org)


def validate_uscc(code: str, *, strict: bool = True) -> str:
    """Return the compact USCC, or raise ValidationError with the failing check's code (module docstring)."""
    n = _compact(code, "uscc")
    if len(n) != 18:
        raise _uscc_error("uscc_length", n, f"must have 18 characters, has {len(n)}")
    if not _USCC_SET.issuperset(n):
        bad = sorted({c for c in n if c not in _USCC_SET})
        raise _uscc_error("uscc_charset", n, f"characters {bad} are outside the GB 32100 alphabet (no I, O, Z, S, V)")
    if strict:
        if n[0] not in USCC_AUTHORITIES:
            raise _uscc_error("uscc_authority", n, f"pos 1 registration authority {n[0]!r} is unknown")
        if n[1] not in USCC_CATEGORIES[n[0]]:
            raise _uscc_error(
                "uscc_category",
                n,
                f"pos 2 category {n[1]!r} is not defined for authority {n[0]!r} ({USCC_AUTHORITIES[n[0]]})",
            )
        if not is_valid_region_code(n[2:8]):
            raise _uscc_error("uscc_region", n, f"pos 3–8 {n[2:8]!r} is not a GB/T 2260 code with a known province")
        expected_org = _org_check(n[8:16])
        if n[16] != expected_org:
            raise _uscc_error(
                "uscc_org_check",
                n,
                f"pos 17 GB 11714 organisation-code check should be {expected_org!r}, is {n[16]!r}",
                position=17,
            )
    expected = _uscc_check(n[:17])
    if n[17] != expected:
        raise _uscc_error(
            "uscc_check", n, f"pos 18 GB 32100 MOD 31 check should be {expected!r}, is {n[17]!r}", position=18
        )
    return n


def is_valid_uscc(code: str, *, strict: bool = True) -> bool:
    try:
        validate_uscc(code, strict=strict)
    except ValidationError:
        return False
    return True


def make_uscc(authority: str, category: str, region: str | int, org_body8: str) -> str:
    """Mint a USCC, computing pos 17 and 18: `make_uscc("9", "1", "110108", "55138508")`."""
    region = f"{region:06d}" if isinstance(region, int) else region
    body = authority + category + region + org_body8
    if len(org_body8) != 8 or len(body) != 16 or not _USCC_SET.issuperset(body):
        raise _uscc_error("uscc_charset", body, "make_uscc needs 1+1+6+8 characters from the USCC alphabet")
    if category not in USCC_CATEGORIES.get(authority, ()):
        raise _uscc_error("uscc_category", body, f"category {category!r} is not defined for authority {authority!r}")
    if not (region[:2] in PROVINCES or region == NATIONAL_CODE) or not region.isdigit():
        raise _uscc_error("uscc_region", body, f"region {region!r} has no known province")
    org = _org_check(org_body8)
    body += org
    return body + _uscc_check(body)


# numpy lookup tables over ASCII codes; -1 marks characters outside the alphabet
_NP_USCC_VALUE = np.full(256, -1, dtype=np.int32)
for _c, _v in _USCC_VALUE.items():
    _NP_USCC_VALUE[ord(_c)] = _v
_NP_ORG_VALUE = np.full(256, -1, dtype=np.int32)
for _c, _v in _ORG_VALUE.items():
    _NP_ORG_VALUE[ord(_c)] = _v
_NP_ALPHABET = np.frombuffer(USCC_ALPHABET.encode(), dtype=np.uint8)
_NP_PROVINCE = np.zeros(100, dtype=bool)
_NP_PROVINCE[[int(p) for p in PROVINCES]] = True
_NP_USCC_W16 = np.array(_USCC_WEIGHTS[:16], dtype=np.int32)
_NP_ORG_W = np.array(_ORG_WEIGHTS, dtype=np.int32)


def _ascii_matrix(values: object, width: int, n: int, what: str) -> np.ndarray:
    """Strings (or ints for digit fields) → an (n, width) uint8 matrix of ASCII codes."""
    arr = np.asarray(values)
    if arr.dtype.kind in "iu":
        arr = np.broadcast_to(arr, (n,)).astype(np.int64)
        if (arr < 0).any() or (arr >= 10**width).any():
            raise ValidationError(f"{what}: integers must have at most {width} digits", code="uscc_charset")
        powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
        return ((arr[:, None] // powers) % 10 + 48).astype(np.uint8)
    try:
        b = np.broadcast_to(np.asarray(arr, dtype=f"S{width}"), (n,))
    except UnicodeEncodeError:
        raise ValidationError(f"{what}: non-ASCII characters", code="uscc_charset") from None
    m = np.ascontiguousarray(b).view(np.uint8).reshape(n, width)
    lengths = np.char.str_len(np.asarray(arr, dtype=str))
    if (np.broadcast_to(lengths, (n,)) != width).any():
        raise ValidationError(f"{what}: every value must have exactly {width} characters", code="uscc_length")
    return m


def _broadcast_len(*values: object) -> int:
    sizes = {np.asarray(v).size for v in values if np.asarray(v).ndim > 0}
    if len(sizes) > 1:
        raise ValidationError(f"arrays of different lengths {sorted(sizes)}", code="length_mismatch")
    return sizes.pop() if sizes else 1


def make_usccs(
    authority: str | Sequence[str] | np.ndarray,
    category: str | Sequence[str] | np.ndarray,
    region: str | int | Sequence[str] | np.ndarray,
    org_body8: Sequence[str] | np.ndarray,
) -> np.ndarray:
    """Vectorised `make_uscc`: scalars broadcast, arrays must share one length; returns a `<U18` array.

    Regions may be 6-character strings or integers. Every input is validated as in `make_uscc`
    (alphabet, authority/category pairs, province-level region).
    """
    n = _broadcast_len(authority, category, region, org_body8)
    auth = _ascii_matrix(authority, 1, n, "authority")
    cat = _ascii_matrix(category, 1, n, "category")
    reg = _ascii_matrix(region, 6, n, "region")
    body = _ascii_matrix(org_body8, 8, n, "org_body8")
    head16 = np.concatenate([auth, cat, reg, body], axis=1)
    values16 = _NP_USCC_VALUE[head16]
    if (values16 < 0).any():
        bad = int(np.argmax((values16 < 0).any(axis=1)))
        raise _uscc_error("uscc_charset", head16[bad].tobytes().decode(), "characters outside the USCC alphabet")
    for pair in np.unique(auth[:, 0].astype(np.int64) * 256 + cat[:, 0]):
        a, c = chr(int(pair) // 256), chr(int(pair) % 256)
        if c not in USCC_CATEGORIES.get(a, {}):
            raise _uscc_error("uscc_category", a + c, f"category {c!r} is not defined for authority {a!r}")
    digits = reg.astype(np.int16) - 48
    if ((digits < 0) | (digits > 9)).any():
        raise ValidationError("region: must be 6 digits", code="uscc_region", field="uscc")
    prefix = digits[:, 0] * 10 + digits[:, 1]
    national = (digits == np.array([1, 0, 0, 0, 0, 0])).all(axis=1)
    if not (_NP_PROVINCE[prefix] | national).all():
        bad = int(np.argmin(_NP_PROVINCE[prefix] | national))
        raise _uscc_error("uscc_region", reg[bad].tobytes().decode(), "region has no known province")
    c = 11 - (_NP_ORG_VALUE[body] @ _NP_ORG_W) % 11  # matmul: far faster than multiply + sum(axis=1)
    org = np.where(c == 11, 48, np.where(c == 10, ord("X"), 48 + c)).astype(np.uint8)
    total = values16 @ _NP_USCC_W16 + _NP_USCC_VALUE[org] * _USCC_WEIGHTS[16]
    check = _NP_ALPHABET[-total % 31]
    full = np.concatenate([head16, org[:, None], check[:, None]], axis=1)
    return np.ascontiguousarray(full).view("S18").reshape(n).astype("U18")


# --------------------------------------------------------------------------------------------------
# RIC (居民身份证号码)
# --------------------------------------------------------------------------------------------------

_RIC_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))  # 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, …
_RIC_CHECK = "10X98765432"
#: province-level prefixes allowed in an RIC address code: GB/T 2260 provinces + 83 (台湾居民居住证).
RIC_PROVINCES = frozenset(PROVINCES) | {"83"}


def mask_ric(number: str) -> str:
    """前6后4: `110105********002X`. Anything shorter than 11 characters is masked whole."""
    n = str(number)
    return n[:6] + "*" * (len(n) - 10) + n[-4:] if len(n) > 10 else "*" * len(n)


def ric_check_char(body17: str) -> str:
    """The GB 11643 (ISO 7064 MOD 11-2) check character of 17 digits."""
    return _RIC_CHECK[sum(int(c) * w for c, w in zip(body17, _RIC_WEIGHTS, strict=True)) % 11]


def _ric_error(code: str, number: str, message: str) -> ValidationError:
    return ValidationError(f"ID number {mask_ric(number)}: {message}", code=code, field="ric")


def _parse_ric(number: str, today: date | None, check_future: bool) -> tuple[str, date]:
    n = _compact(number, "ric")
    if len(n) != 18:
        hint = " (15-digit pre-1999 numbers are not supported)" if len(n) == 15 else ""
        raise _ric_error("ric_length", n, f"must have 18 characters, has {len(n)}{hint}")
    if not (n[:17].isascii() and n[:17].isdigit() and (n[17] == "X" or n[17].isdigit())):
        raise _ric_error("ric_format", n, "must be 17 digits followed by a digit or X")
    expected = ric_check_char(n[:17])
    if n[17] != expected:
        raise _ric_error("ric_check", n, "the GB 11643 MOD 11-2 check digit does not match")
    try:
        born = date(int(n[6:10]), int(n[10:12]), int(n[12:14]))
    except ValueError:
        raise _ric_error("ric_birth_date", n, "the birth date (pos 7–14) is not a calendar date") from None
    if born.year < 1900:
        raise _ric_error("ric_birth_date", n, "the birth year (pos 7–10) is before 1900")
    if check_future:
        if today is None:
            from puhui.core.dates import SystemClock

            today = SystemClock().today()
        if born > today:
            raise _ric_error("ric_future_birth", n, f"the birth date (pos 7–14) is after today ({today})")
    if n[:2] not in RIC_PROVINCES:
        raise _ric_error("ric_region", n, "the address code (pos 1–6) has no known province")
    return n, born


def validate_ric(number: str, *, today: date | None = None) -> str:
    """Return the compact 18-character ID number or raise ValidationError (codes in the module docstring).

    `today` is the business date for the future-birth check; None reads the Asia/Shanghai wall clock.
    """
    return _parse_ric(number, today, check_future=True)[0]


def is_valid_ric(number: str, *, today: date | None = None) -> bool:
    try:
        validate_ric(number, today=today)
    except ValidationError:
        return False
    return True


def ric_birth_date(number: str) -> date:
    """The birth date of a (structurally valid) ID number."""
    return _parse_ric(number, None, check_future=False)[1]


def ric_gender(number: str) -> Literal["M", "F"]:
    """Gender from the sequence code (pos 17): odd → "M" (male), even → "F" (female), GB 11643-1999."""
    n, _ = _parse_ric(number, None, check_future=False)
    return "M" if int(n[16]) % 2 else "F"


def ric_age(number: str, on: date) -> int:
    """Age in completed years (周岁) on a date; someone born 29 Feb turns a year older on 1 Mar."""
    born = ric_birth_date(number)
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def make_ric(region: str | int, birth_date: date, sequence: int) -> str:
    """Mint an ID number: 6-digit address code, birth date, sequence 0–999 (odd = male), computed check."""
    region = f"{region:06d}" if isinstance(region, int) else region
    if len(region) != 6 or not region.isdigit() or region[:2] not in RIC_PROVINCES:
        raise ValidationError(f"region {region!r} is not a 6-digit province-level code", code="ric_region")
    if not 0 <= sequence <= 999:
        raise ValidationError(f"sequence {sequence} is outside 0–999", code="ric_format")
    if not 1900 <= birth_date.year <= 9999:
        raise ValidationError(f"birth year {birth_date.year} is before 1900", code="ric_birth_date")
    body = f"{region}{birth_date:%Y%m%d}{sequence:03d}"
    return body + ric_check_char(body)


def make_rics(
    region: str | int | Sequence[str] | np.ndarray,
    birth_dates: Sequence[date] | np.ndarray,
    sequence: int | Sequence[int] | np.ndarray,
) -> np.ndarray:
    """Vectorised `make_ric`; birth dates as dates or `datetime64[D]`; returns a `<U18` array."""
    births0 = np.asarray(birth_dates, dtype="datetime64[D]")
    n = _broadcast_len(region, births0, sequence)
    reg = _ascii_matrix(region, 6, n, "region").astype(np.int64) - 48
    if ((reg < 0) | (reg > 9)).any():
        raise ValidationError("region: must be 6 digits", code="ric_region")
    ok = np.zeros(100, dtype=bool)
    ok[[int(p) for p in RIC_PROVINCES]] = True
    if not ok[reg[:, 0] * 10 + reg[:, 1]].all():
        raise ValidationError("region: a code has no known province", code="ric_region")
    seq = np.broadcast_to(np.asarray(sequence, dtype=np.int64), (n,))
    if ((seq < 0) | (seq > 999)).any():
        raise ValidationError("sequence outside 0–999", code="ric_format")
    births = np.broadcast_to(births0, (n,))
    years = births.astype("datetime64[Y]").astype(np.int64) + 1970
    if ((years < 1900) | (years > 9999)).any():
        raise ValidationError("birth year outside 1900–9999", code="ric_birth_date")
    months = births.astype("datetime64[M]").astype(np.int64) % 12 + 1
    days = (births - births.astype("datetime64[M]")).astype(np.int64) + 1
    ymd = years * 10000 + months * 100 + days
    digits = np.concatenate(
        [
            reg,
            (ymd[:, None] // 10 ** np.arange(7, -1, -1, dtype=np.int64)) % 10,
            (seq[:, None] // 10 ** np.arange(2, -1, -1, dtype=np.int64)) % 10,
        ],
        axis=1,
    )
    check = np.frombuffer(_RIC_CHECK.encode(), dtype=np.uint8)[(digits @ np.array(_RIC_WEIGHTS, dtype=np.int64)) % 11]
    full = np.concatenate([(digits + 48).astype(np.uint8), check[:, None]], axis=1)
    return np.ascontiguousarray(full).view("S18").reshape(n).astype("U18")


# --------------------------------------------------------------------------------------------------
# Bank cards
# --------------------------------------------------------------------------------------------------

#: warning code → explanation, for `check_bank_card`.
BANK_CARD_WARNINGS: dict[str, str] = {
    "bank_card_luhn": "the Luhn (ISO/IEC 7812) check digit does not match; some legacy domestic cards do "
    "not use Luhn, so verify the account with the bank before relying on it",
}


def luhn_checksum(number: str) -> int:
    """The Luhn sum mod 10 of a digit string (0 for a valid number)."""
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10


def luhn_is_valid(number: str) -> bool:
    """True when a digit string passes the Luhn check (`79927398713` does)."""
    return number.isascii() and number.isdigit() and luhn_checksum(number) == 0


def luhn_check_digit(body: str) -> str:
    """The digit to append to `body` so that the whole passes Luhn."""
    return str((10 - luhn_checksum(body + "0")) % 10)


def mask_bank_card(number: str) -> str:
    """前6后4: `622202******1234`."""
    return mask_ric(number)


def check_bank_card(number: str) -> list[str]:
    """Validate a bank card number's shape; return warning codes (see `BANK_CARD_WARNINGS`).

    Raises ValidationError `bank_card_format` (not digits) or `bank_card_length` (not 16–19 digits).
    """
    n = _compact(number, "bank_card")
    if not (n.isascii() and n.isdigit()):
        raise ValidationError(
            f"bank card {mask_bank_card(n)}: must contain digits only", code="bank_card_format", field="bank_card"
        )
    if not 16 <= len(n) <= 19:
        raise ValidationError(
            f"bank card {mask_bank_card(n)}: must have 16–19 digits, has {len(n)}",
            code="bank_card_length",
            field="bank_card",
        )
    return [] if luhn_checksum(n) == 0 else ["bank_card_luhn"]
