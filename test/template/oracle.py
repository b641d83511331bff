"""The reference our template engine is held to: python3-jinja2's
SandboxedEnvironment set up as Frappe v15 sets it up (frappe/utils/jinja.py:
DebugUndefined, filters json/len/int/str/flt, the safe globals), Python's eval
for webhook conditions (frappe.safe_eval: builtins int, float, long, round;
locals doc and utils), and CPython's json for the body text.

frappe.utils is not installed here, so the helpers the engine offers are
written below from Frappe's own definitions (frappe/utils/data.py), over the
real python3-dateutil that Frappe uses.  The clock is fixed.

One deliberate difference is built in, as SPEC.md §1 decides: in templates
doc.<field> is the field even where a dict method has that name (doc.items is
the child table), so the environment's getattr looks at dict keys first.
"""
import datetime
import json
import math
import re
import warnings

from dateutil import parser
from dateutil.relativedelta import relativedelta
from jinja2 import DebugUndefined
from jinja2.exceptions import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

warnings.filterwarnings("ignore")

NOW = datetime.datetime(2024, 5, 6, 10, 20, 30, 123456)
DATE_FORMAT = "%Y-%m-%d"
TIME_FORMAT = "%H:%M:%S.%f"
DATETIME_FORMAT = f"{DATE_FORMAT} {TIME_FORMAT}"


class _dict(dict):
    """frappe._dict: attribute access, a missing key reads as None"""

    __getattr__ = dict.get


# ---------------------------------------------------------- frappe.utils


def now_datetime():
    return NOW


def is_invalid_date_string(date_string):
    return not isinstance(date_string, str) or (
        (not date_string) or (date_string or "").startswith(("0001-01-01", "0000-00-00")))


def getdate(string_date=None, parse_day_first=False):
    if not string_date:
        return now_datetime().date()
    if isinstance(string_date, datetime.datetime):
        return string_date.date()
    elif isinstance(string_date, datetime.date):
        return string_date
    if is_invalid_date_string(string_date):
        return None
    try:
        return parser.parse(string_date, dayfirst=parse_day_first).date()
    except parser.ParserError:
        raise ValueError(f"{string_date} is not a valid date string.")


def get_datetime(datetime_str=None):
    if datetime_str is None:
        return now_datetime()
    if isinstance(datetime_str, datetime.datetime | datetime.timedelta):
        return datetime_str
    elif isinstance(datetime_str, list | tuple):
        return datetime.datetime(datetime_str)
    elif isinstance(datetime_str, datetime.date):
        return datetime.datetime.combine(datetime_str, datetime.time())
    if is_invalid_date_string(datetime_str):
        return None
    try:
        return datetime.datetime.strptime(datetime_str, DATETIME_FORMAT)
    except ValueError:
        return parser.parse(datetime_str)


def add_to_date(date, years=0, months=0, weeks=0, days=0, hours=0, minutes=0, seconds=0,
                as_string=False, as_datetime=False):
    if date is None:
        date = now_datetime()
    if hours:
        as_datetime = True
    if isinstance(date, str):
        as_string = True
        if " " in date:
            as_datetime = True
        try:
            date = parser.parse(date)
        except parser.ParserError:
            raise ValueError("Please select a valid date filter")
    date = date + relativedelta(years=years, months=months, weeks=weeks, days=days,
                                hours=hours, minutes=minutes, seconds=seconds)
    if as_string:
        if as_datetime:
            return date.strftime(DATETIME_FORMAT)
        else:
            return date.strftime(DATE_FORMAT)
    else:
        return date


def add_days(date, days):
    return add_to_date(date, days=days)


def add_months(date, months):
    return add_to_date(date, months=months)


def add_years(date, years):
    return add_to_date(date, years=years)


def date_diff(string_ed_date, string_st_date):
    return (getdate(string_ed_date) - getdate(string_st_date)).days


def now():
    return now_datetime().strftime(DATETIME_FORMAT)


def nowdate():
    return now_datetime().strftime(DATE_FORMAT)


def today():
    return nowdate()


def nowtime():
    return now_datetime().strftime(TIME_FORMAT)


def get_first_day(dt, d_years=0, d_months=0, as_str=False):
    dt = getdate(dt)
    overflow_years, month = divmod(dt.month + d_months - 1, 12)
    year = dt.year + d_years + overflow_years
    return (datetime.date(year, month + 1, 1).strftime(DATE_FORMAT) if as_str
            else datetime.date(year, month + 1, 1))


def get_last_day(dt):
    return get_first_day(dt, 0, 1) + datetime.timedelta(-1)


def flt(s, precision=None, rounding_method=None):
    if s is None:
        return 0.0
    if isinstance(s, str):
        s = s.replace(",", "")
    try:
        num = float(s)
        if precision is not None:
            num = rounded(num, precision, rounding_method)
    except Exception:
        num = 0.0
    return num


def cint(s, default=0):
    try:
        return int(float(s))
    except Exception:
        return default


def cstr(s, encoding="utf-8"):
    if isinstance(s, str):
        return s
    elif s is None:
        return ""
    elif isinstance(s, bytes):
        return str(s, encoding)
    return str(s)


def rounded(num, precision=0, rounding_method=None):
    precision = cint(precision)
    rounding_method = rounding_method or "Banker's Rounding (legacy)"
    if rounding_method == "Banker's Rounding":
        return _bankers_rounding(num, precision)
    elif rounding_method == "Banker's Rounding (legacy)":
        return _bankers_rounding_legacy(num, precision)
    elif rounding_method == "Commercial Rounding":
        return _round_away_from_zero(num, precision)
    raise ValueError(f"Unknown Rounding Method: {rounding_method}")


def _bankers_rounding_legacy(num, precision):
    multiplier = 10**precision
    num = round(num * multiplier if precision else num, 8)
    floor_num = math.floor(num)
    decimal_part = num - floor_num
    if not precision and decimal_part == 0.5:
        num = floor_num if (floor_num % 2 == 0) else floor_num + 1
    else:
        if decimal_part == 0.5:
            num = floor_num + 1
        else:
            num = round(num)
    return (num / multiplier) if precision else num


def _round_away_from_zero(num, precision):
    if num == 0:
        return 0.0
    epsilon = 2.0 ** (math.log(abs(num), 2) - 52.0)
    return round(num + math.copysign(epsilon, num), precision)


def _bankers_rounding(num, precision):
    multiplier = 10**precision
    num = round(num * multiplier, 12)
    if num == 0:
        return 0.0
    floor_num = math.floor(num)
    decimal_part = num - floor_num
    epsilon = 2.0 ** (math.log(abs(num), 2) - 52.0)
    if abs(decimal_part - 0.5) < epsilon:
        num = floor_num if (floor_num % 2 == 0) else floor_num + 1
    else:
        num = round(num)
    return num / multiplier


_striptags_re = re.compile(r"(<!--.*?-->|<[^>]*>)")


def strip_html(text):
    return _striptags_re.sub("", text)


def escape_html(text):
    if not isinstance(text, str):
        return text
    table = {"&": "&amp;", '"': "&quot;", "'": "&apos;", ">": "&gt;", "<": "&lt;"}
    return "".join(table.get(c, c) for c in text)


def comma_sep(some_list, pattern, add_quotes=True):
    if isinstance(some_list, list | tuple):
        some_list = [str(s) for s in list(some_list)]
        if not some_list:
            return ""
        elif len(some_list) == 1:
            return some_list[0]
        else:
            some_list = ["'%s'" % s for s in some_list] if add_quotes else ["%s" % s for s in some_list]
            return pattern.format(", ".join(some_list[:-1]), some_list[-1])
    return some_list


def comma_and(some_list, add_quotes=True):
    return comma_sep(some_list, "{0} and {1}", add_quotes)


def comma_or(some_list, add_quotes=True):
    return comma_sep(some_list, "{0} or {1}", add_quotes)


def json_handler(obj):
    if isinstance(obj, datetime.date | datetime.timedelta | datetime.datetime | datetime.time):
        return str(obj)
    try:
        iter(obj)
    except TypeError:
        raise TypeError(f"Object of type {type(obj)} with value of {obj!r} is not JSON serializable")
    return list(obj)


def as_json(obj, indent=1, separators=None, ensure_ascii=True):
    if separators is None:
        separators = (",", ": ")
    try:
        return json.dumps(obj, indent=indent, sort_keys=True, default=json_handler,
                          separators=separators, ensure_ascii=ensure_ascii)
    except TypeError:
        return json.dumps(obj, indent=indent, default=json_handler, separators=separators,
                          ensure_ascii=ensure_ascii)


UTILS = _dict(
    getdate=getdate, get_datetime=get_datetime, nowdate=nowdate, today=today, now=now,
    nowtime=nowtime, now_datetime=now_datetime, add_to_date=add_to_date, add_days=add_days,
    add_months=add_months, add_years=add_years, date_diff=date_diff,
    get_first_day=get_first_day, get_last_day=get_last_day, flt=flt, cint=cint, cstr=cstr,
    rounded=rounded, strip_html=strip_html, escape_html=escape_html, comma_and=comma_and,
    comma_or=comma_or,
)

# ------------------------------------------------------------- templates


class FrappeEnvironment(SandboxedEnvironment):
    def getattr(self, obj, attribute):
        # SPEC §1: doc.<field> before any dict method (doc.items = child table)
        if isinstance(obj, dict) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


ENV = FrappeEnvironment(undefined=DebugUndefined)
ENV.filters.update({"json": as_json, "len": len, "int": cint, "str": cstr, "flt": flt})
ENV.globals.update({
    # frappe.utils.safe_exec.get_safe_globals(): python builtins + safe ones
    "abs": abs, "all": all, "any": any, "bool": bool, "dict": dict, "enumerate": enumerate,
    "list": list, "max": max, "min": min, "sorted": sorted, "sum": sum, "tuple": tuple,
    "len": len, "str": str, "int": int, "float": float, "round": round,
    "utils": UTILS, "frappe": _dict(utils=UTILS),
})


def as_frappe_dicts(v):
    if isinstance(v, dict):
        return _dict({k: as_frappe_dicts(x) for k, x in v.items()})
    if isinstance(v, list):
        return [as_frappe_dicts(x) for x in v]
    return v


def render(src, ctx):
    """frappe.render_template(src, ctx) (the string branch)"""
    if ".__" in src:
        raise SyntaxError("Illegal template")
    ctx = {k: as_frappe_dicts(v) for k, v in (ctx or {}).items()}
    return ENV.from_string(src).render(ctx)


# ------------------------------------------------------------ conditions


class Document:
    """enough of frappe.model.document.Document: fields as attributes, get()"""

    def __init__(self, d):
        for k, v in d.items():
            self.__dict__[k] = as_documents(v)

    def get(self, key, default=None):
        return self.__dict__.get(key, default)


def as_documents(v):
    if isinstance(v, dict):
        return Document(v)
    if isinstance(v, list):
        return [as_documents(x) for x in v]
    return v


def condition(src, ctx):
    """frappe.safe_eval(condition, eval_locals=get_context(doc))"""
    if ":=" in src:
        raise SyntaxError("walrus")
    if re.search(r"\b_", src.replace("\\_", "")) and re.search(r"\._|\b__", src):
        raise SyntaxError("names starting with _")
    loc = {k: as_documents(v) for k, v in (ctx or {}).items()}
    loc.setdefault("utils", UTILS)
    return bool(eval(compile(src, "<safe_eval>", "eval"),
                     {"__builtins__": {"int": int, "float": float, "long": int, "round": round}},
                     loc))


def normalize(src):
    """webhook body: json.dumps(json.loads(rendered))"""
    return json.dumps(json.loads(src))


def run(case):
    """one case -> the same JSON object the C driver writes"""
    kind, src, ctx = case["kind"], case["src"], case.get("ctx")
    try:
        if kind == "t":
            out = render(src, ctx)
        elif kind == "c":
            out = condition(src, ctx)
        else:
            out = normalize(src)
        return {"id": case["id"], "ok": True, "out": out}
    except (TemplateSyntaxError, SyntaxError) as e:
        return {"id": case["id"], "ok": False, "err": "syntax", "msg": f"{type(e).__name__}: {e}"}
    except RecursionError as e:
        return {"id": case["id"], "ok": False, "err": "limit", "msg": f"{type(e).__name__}: {e}"}
    except Exception as e:
        return {"id": case["id"], "ok": False, "err": "value", "msg": f"{type(e).__name__}: {e}"}
