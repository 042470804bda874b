"""CEL for policy expressions: compile once, hand each program only the values it reads, convert values.

Scenario rules and limit formulas are CEL (Common Expression Language) run by the `cel` package
(common-expression-language 0.10, a Rust interpreter). That interpreter is strict, and this module is where
its strictness is met once for everyone:

* **Numbers are doubles.** CEL refuses arithmetic that mixes int and double (`x * 3` with `x` a double is a
  `TypeError`), so every number handed to CEL — `int`, `Decimal`, `float` — becomes a Python `float`, and
  policy authors write float literals in arithmetic (`tax_total_paid_12m * 3.0`). Comparisons across int and
  double are allowed by CEL, so `reg_age_months >= 24` is fine. Booleans stay booleans, codes stay strings.
* **Dates are ISO strings** (`"2026-06-30"`), which compare correctly as text.
* **Missing is not a value.** A `None` is never passed: the variable is left out of the context, and an
  evaluation that needs it raises `MissingInput` (the caller fails the rule as `<code>_no_data`, never
  passes it). CEL's logical operators short-circuit, so a rule may guard a missing source explicitly
  (`!has_bureau_enterprise_accounts || bur_worst_dpd_24m < 30`).
* **Small contexts.** The interpreter copies the whole context on every call (about 4 µs per 100 entries),
  so a program is executed with only the variables it reads (`Expr.variables`), not the 330 indicators.

`compile_expr` turns a parse error into a `ScenarioError` (a 422 `ValidationError`) naming the file and the
field; `Expr.run` turns the interpreter's other `RuntimeError`/`TypeError` into `ExprError` naming the
expression.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import cel

from puhui.core.errors import PuhuiError, ValidationError

__all__ = ["Expr", "ExprError", "MissingInput", "ScenarioError", "bound_names", "compile_expr", "to_cel"]


class ScenarioError(ValidationError):
    """A scenario (policy) text is invalid; `details` name the file and the field at fault (422)."""

    code = "invalid_scenario"


class ExprError(PuhuiError):
    """A policy expression failed at evaluation (wrong type, unknown function): a policy bug, not the input's."""

    code = "expression_error"
    http_status = 500


def to_cel(value: Any) -> Any:
    """A Python value as CEL sees it: numbers → float, dates → ISO text, bool/str unchanged, None stays None."""
    if value is None or isinstance(value, (bool, str, float)):
        return value
    if isinstance(value, (int, Decimal)):
        return float(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return to_cel(value.item())
    if isinstance(value, (list, tuple)):
        return [to_cel(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): to_cel(v) for k, v in value.items()}
    raise TypeError(f"cannot hand a {type(value).__name__} to CEL")


@dataclass(frozen=True)
class Expr:
    """One compiled CEL expression and the names it reads."""

    text: str
    program: Any = field(compare=False, repr=False)
    variables: tuple[str, ...]
    where: str = ""  # "file: field", for error messages

    def __reduce__(self) -> tuple[Any, ...]:
        # the interpreter's program is not picklable: a pickled scenario (a worker process) recompiles
        return (_recompile, (self.text, self.variables, self.where))

    def missing(self, values: Mapping[str, Any]) -> tuple[str, ...]:
        """The variables this expression reads that are absent (or None) in `values`."""
        return tuple(v for v in self.variables if values.get(v) is None)

    def run(self, values: Mapping[str, Any]) -> Any:
        """Evaluate over `values` (CEL values; a missing input is simply absent). Only the variables the
        expression reads are passed. Raises `MissingInput` when the evaluation needs an absent input —
        CEL's `&&`, `||` and `?:` short-circuit, so `!has_bureau_enterprise_accounts || bur_worst_dpd_24m
        < 30` holds without a bureau record — and `ExprError` on any other failure."""
        ctx = {v: values[v] for v in self.variables if values.get(v) is not None}
        try:
            return self.program.execute(ctx)
        except RuntimeError as exc:
            text = str(exc)
            m = _UNDEFINED.search(text)
            if m and m.group(1) in self.variables:
                raise MissingInput(m.group(1)) from None
            raise ExprError(f"{self.where}: CEL expression {self.text!r} failed: {text.splitlines()[0]}",
                            where=self.where, expression=self.text) from None  # fmt: skip
        except (TypeError, ValueError) as exc:
            raise ExprError(f"{self.where}: CEL expression {self.text!r} failed: {str(exc).splitlines()[0]}",
                            where=self.where, expression=self.text) from None  # fmt: skip


def _recompile(text: str, variables: tuple[str, ...], where: str) -> Expr:
    return Expr(text=text, program=cel.compile(text), variables=variables, where=where)


_UNDEFINED = re.compile(r"Undefined variable or function: '([^']+)'")


class MissingInput(Exception):
    """The evaluation needed an input that is missing (None): the rule fails as `<code>_no_data`."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def compile_expr(text: str, *, file: str = "<text>", field: str = "") -> Expr:
    """Compile `text` once; a syntax error is a `ScenarioError` naming the file and the field."""
    where = f"{file}: {field}" if field else file
    if not isinstance(text, str) or not text.strip():
        raise ScenarioError(f"{where}: empty CEL expression", file=file, field=field)
    try:
        program = cel.compile(text)
    except (ValueError, RuntimeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ScenarioError(f"{where}: CEL syntax error in {text!r}: {first}", file=file, field=field,
                            expression=text) from None
    bound = bound_names(text)
    names = tuple(v for v in program.variables() if v not in bound)
    return Expr(text=text, program=program, variables=names, where=where)


_MACRO = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\s*\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*,")


def bound_names(text: str) -> set[str]:
    """Names bound by comprehension macros (`xs.all(x, x > 0)` binds `x`): not inputs of the expression."""
    return set(_MACRO.findall(text))
