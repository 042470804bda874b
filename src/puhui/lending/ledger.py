"""The general ledger (总账), pure: chart of accounts, balanced journal entries, balances, trial balance.

Modelled on Beancount (`beancount/core/data.py`): a journal entry is an immutable, dated set of postings
whose amounts sum to zero (debits positive, credits negative), and the books are checked by balance
assertions rather than trusted. Nothing is ever edited: a correction is a *reversing* entry
(`reverse`) that negates the original and names it. Off-balance-sheet memo accounts (表外科目) live in
the same journal but must balance among themselves, so every entry balances on-balance and off-balance
separately, and the trial balance of each side sums to zero.

Chart of accounts (codes follow the shape of the 金融企业会计科目 used by Chinese banks; the names are
Beancount-style so a bank can map them to its own chart):

=========================  =========  ==========================================================
account                    code       meaning
=========================  =========  ==========================================================
Assets:Loans:Normal        1303.01    贷款-正常类 (principal of loans classified 正常)
Assets:Loans:SpecialMention 1303.02   贷款-关注类
Assets:Loans:Substandard   1303.03    贷款-次级类
Assets:Loans:Doubtful      1303.04    贷款-可疑类
Assets:Loans:Loss          1303.05    贷款-损失类
Assets:InterestReceivable  1132.01    应收利息 (contract interest accrued, not yet received)
Assets:PenaltyReceivable   1132.02    应收罚息复利 (罚息 and 复利 accrued, not yet received)
Liabilities:Clearing       2241.01    待清算款项-客户结算 (the borrower's settlement account side)
Income:Interest            6011.01    利息收入-贷款
Income:Penalty             6011.02    罚息复利收入
Memo:Suspense:Interest     7101.01    表外应收未收利息 (interest of non-accrual loans, > 90 dpd)
Memo:Suspense:Penalty      7101.02    表外应收未收罚息复利
Memo:Suspense:Contra       7199       表外科目对方 (the balancing side of every memo posting)
=========================  =========  ==========================================================

Posting rules (which event debits and credits what) are in `puhui.lending.loans`; this module only
guarantees that whatever is posted balances and names an account of the chart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from puhui.core.errors import PuhuiError, ValidationError
from puhui.core.money import MINOR_UNIT, to_decimal
from puhui.lending.classification import FiveClass

__all__ = [
    "CHART",
    "CLEARING",
    "INTEREST_INCOME",
    "INTEREST_RECEIVABLE",
    "LOANS_BY_CLASS",
    "PENALTY_INCOME",
    "PENALTY_RECEIVABLE",
    "SUSPENSE_CONTRA",
    "SUSPENSE_INTEREST",
    "SUSPENSE_PENALTY",
    "Account",
    "AccountType",
    "BalanceAssertion",
    "Balances",
    "EntryKind",
    "JournalEntry",
    "Posting",
    "ReconciliationError",
    "TrialBalance",
    "TrialBalanceRow",
    "account",
    "make_entry",
    "reverse",
]

_FEN = MINOR_UNIT["CNY"]
_ZERO = Decimal("0.00")


class AccountType(StrEnum):
    """The five Beancount account types plus MEMO for off-balance-sheet (表外) accounts."""

    ASSETS = "Assets"
    LIABILITIES = "Liabilities"
    EQUITY = "Equity"
    INCOME = "Income"
    EXPENSES = "Expenses"
    MEMO = "Memo"


@dataclass(frozen=True)
class Account:
    """One account of the chart: a Beancount-style name, a bank code, the Chinese name."""

    name: str
    code: str
    chinese: str

    @property
    def type(self) -> AccountType:
        return AccountType(self.name.split(":", 1)[0])

    @property
    def on_balance(self) -> bool:
        """False for memo (表外) accounts, which balance among themselves."""
        return self.type is not AccountType.MEMO

    @property
    def debit_normal(self) -> bool:
        """Assets, expenses and memo receivables carry debit balances; the others credit balances."""
        return self.type in (AccountType.ASSETS, AccountType.EXPENSES) or (
            self.type is AccountType.MEMO and not self.name.endswith(":Contra")
        )


_ACCOUNTS = (
    Account("Assets:Loans:Normal", "1303.01", "贷款-正常类"),
    Account("Assets:Loans:SpecialMention", "1303.02", "贷款-关注类"),
    Account("Assets:Loans:Substandard", "1303.03", "贷款-次级类"),
    Account("Assets:Loans:Doubtful", "1303.04", "贷款-可疑类"),
    Account("Assets:Loans:Loss", "1303.05", "贷款-损失类"),
    Account("Assets:InterestReceivable", "1132.01", "应收利息"),
    Account("Assets:PenaltyReceivable", "1132.02", "应收罚息复利"),
    Account("Liabilities:Clearing", "2241.01", "待清算款项-客户结算"),
    Account("Income:Interest", "6011.01", "利息收入-贷款"),
    Account("Income:Penalty", "6011.02", "罚息复利收入"),
    Account("Memo:Suspense:Interest", "7101.01", "表外应收未收利息"),
    Account("Memo:Suspense:Penalty", "7101.02", "表外应收未收罚息复利"),
    Account("Memo:Suspense:Contra", "7199", "表外科目对方"),
)

#: The chart of accounts by name.
CHART: Mapping[str, Account] = {a.name: a for a in _ACCOUNTS}

LOANS_BY_CLASS: Mapping[FiveClass, str] = {
    FiveClass.NORMAL: "Assets:Loans:Normal",
    FiveClass.SPECIAL_MENTION: "Assets:Loans:SpecialMention",
    FiveClass.SUBSTANDARD: "Assets:Loans:Substandard",
    FiveClass.DOUBTFUL: "Assets:Loans:Doubtful",
    FiveClass.LOSS: "Assets:Loans:Loss",
}
INTEREST_RECEIVABLE = "Assets:InterestReceivable"
PENALTY_RECEIVABLE = "Assets:PenaltyReceivable"
CLEARING = "Liabilities:Clearing"
INTEREST_INCOME = "Income:Interest"
PENALTY_INCOME = "Income:Penalty"
SUSPENSE_INTEREST = "Memo:Suspense:Interest"
SUSPENSE_PENALTY = "Memo:Suspense:Penalty"
SUSPENSE_CONTRA = "Memo:Suspense:Contra"


def account(name: str) -> Account:
    """The account called `name`; an unknown name is a ValidationError (`unknown_account`)."""
    try:
        return CHART[name]
    except KeyError:
        raise ValidationError(
            f"unknown account {name!r}; the chart has {sorted(CHART)}", code="unknown_account", field="account"
        ) from None


class EntryKind(StrEnum):
    """What produced a journal entry."""

    DRAWDOWN = "drawdown"
    """放款: a loan opened from a credit line."""
    REPAYMENT = "repayment"
    """还款: cash received and allocated (principal, interest, 罚息/复利)."""
    EOD = "eod"
    """日终: accrual, suspense transfers and reclassification of one batch on one business date."""
    REVERSAL = "reversal"
    """冲正: the negation of an earlier entry."""
    OPENING = "opening"
    """期初: balances brought in (a migration, a benchmark seed)."""


@dataclass(frozen=True, slots=True)
class Posting:
    """One leg of an entry: `amount` > 0 debits the account, < 0 credits it; whole fen, never zero."""

    account: str
    amount: Decimal
    memo: str = ""

    def __post_init__(self) -> None:
        account(self.account)
        amount = to_decimal(self.amount, field="amount")
        if amount == 0:
            raise ValidationError(f"posting to {self.account} has amount zero", code="zero_posting")
        if amount != amount.quantize(_FEN):
            raise ValidationError(
                f"posting to {self.account}: {amount} is not a whole number of fen",
                code="sub_fen_amount", field="amount",
            )
        object.__setattr__(self, "amount", amount.quantize(_FEN))

    @property
    def debit(self) -> Decimal:
        return self.amount if self.amount > 0 else _ZERO

    @property
    def credit(self) -> Decimal:
        return -self.amount if self.amount < 0 else _ZERO


@dataclass(frozen=True)
class JournalEntry:
    """A dated, balanced, immutable journal entry (记账凭证). `ref` is unique across the journal."""

    business_date: date
    kind: EntryKind
    ref: str
    description: str
    postings: tuple[Posting, ...]
    reverses: str | None = None
    """The `ref` of the entry this one reverses (REVERSAL entries only)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", EntryKind(self.kind))
        object.__setattr__(self, "postings", tuple(self.postings))
        if not self.ref or len(self.ref) > 120:
            raise ValidationError("a journal entry needs a ref of 1–120 characters", code="invalid_entry_ref")
        if len(self.postings) < 2:
            raise ValidationError(
                f"entry {self.ref}: a journal entry needs at least two postings", code="entry_too_short"
            )
        on = sum((p.amount for p in self.postings if CHART[p.account].on_balance), _ZERO)
        memo = sum((p.amount for p in self.postings if not CHART[p.account].on_balance), _ZERO)
        if on != 0 or memo != 0:
            raise ValidationError(
                f"entry {self.ref} does not balance: on-balance {on}, memo {memo} (debits must equal credits)",
                code="entry_unbalanced", ref=self.ref, on_balance=str(on), memo=str(memo),
            )
        if (self.kind is EntryKind.REVERSAL) != (self.reverses is not None):
            raise ValidationError(
                f"entry {self.ref}: a reversal names the entry it reverses, and only a reversal does",
                code="invalid_reversal",
            )

    @property
    def total_debits(self) -> Decimal:
        return sum((p.debit for p in self.postings), _ZERO)


def make_entry(
    business_date: date,
    kind: EntryKind | str,
    ref: str,
    description: str,
    legs: Iterable[tuple[str, Decimal] | tuple[str, Decimal, str]],
) -> JournalEntry | None:
    """An entry from (account, amount[, memo]) legs; zero legs are dropped, and None when none remain."""
    postings = []
    for leg in legs:
        name, amount = leg[0], leg[1]
        if amount != 0:
            postings.append(Posting(name, amount, leg[2] if len(leg) > 2 else ""))  # type: ignore[misc]
    if not postings:
        return None
    return JournalEntry(business_date, EntryKind(kind), ref, description, tuple(postings))


def reverse(original: JournalEntry, *, on: date, ref: str, reason: str) -> JournalEntry:
    """冲正: an entry that negates every posting of `original` (which stays in the journal untouched)."""
    if original.kind is EntryKind.REVERSAL:
        raise ValidationError(f"entry {original.ref} is itself a reversal", code="reversal_of_reversal")
    if not reason.strip():
        raise ValidationError("a reversal needs a reason", code="reversal_reason_required", field="reason")
    postings = tuple(Posting(p.account, -p.amount, p.memo) for p in original.postings)
    return JournalEntry(on, EntryKind.REVERSAL, ref, f"reversal of {original.ref}: {reason}", postings,
                        reverses=original.ref)


class ReconciliationError(PuhuiError):
    """The books disagree with themselves (a balance assertion failed): a bug, never bad input."""

    code = "reconciliation_failed"
    http_status = 500


@dataclass(frozen=True)
class BalanceAssertion:
    """Beancount's `balance` directive: `account` holds `expected` (signed, debit positive)."""

    account: str
    expected: Decimal
    source: str = ""
    """What the expectation comes from, e.g. "loan sub-ledger: Σ principal of 正常 loans"."""


@dataclass
class Balances:
    """Running account balances (debit positive) built from entries; `check` evaluates assertions."""

    amounts: dict[str, Decimal] = field(default_factory=dict)

    @classmethod
    def of(cls, entries: Iterable[JournalEntry]) -> Balances:
        b = cls()
        for e in entries:
            b.apply(e)
        return b

    def apply(self, entry: JournalEntry) -> None:
        for p in entry.postings:
            self.amounts[p.account] = self.amounts.get(p.account, _ZERO) + p.amount

    def balance(self, name: str) -> Decimal:
        account(name)
        return self.amounts.get(name, _ZERO)

    def check(self, assertions: Iterable[BalanceAssertion]) -> None:
        """Raise ReconciliationError naming every assertion that fails."""
        failed = [
            f"{a.account}: books {self.balance(a.account)}, expected {a.expected} ({a.source})"
            for a in assertions
            if self.balance(a.account) != a.expected
        ]
        if failed:
            raise ReconciliationError("balance assertions failed: " + "; ".join(failed), failures=failed)

    def trial_balance(self) -> TrialBalance:
        rows = []
        for a in _ACCOUNTS:
            amount = self.amounts.get(a.name, _ZERO)
            rows.append(TrialBalanceRow(a, amount if amount > 0 else _ZERO, -amount if amount < 0 else _ZERO))
        return TrialBalance(tuple(rows))


@dataclass(frozen=True)
class TrialBalanceRow:
    account: Account
    debit: Decimal
    credit: Decimal

    @property
    def balance(self) -> Decimal:
        return self.debit - self.credit


@dataclass(frozen=True)
class TrialBalance:
    """试算平衡表: every account's debit or credit balance; each side (on-balance, memo) must sum to zero."""

    rows: tuple[TrialBalanceRow, ...]

    def _sum(self, on_balance: bool, side: str) -> Decimal:
        return sum((getattr(r, side) for r in self.rows if r.account.on_balance is on_balance), _ZERO)

    @property
    def debits(self) -> Decimal:
        return self._sum(True, "debit")

    @property
    def credits(self) -> Decimal:
        return self._sum(True, "credit")

    @property
    def memo_debits(self) -> Decimal:
        return self._sum(False, "debit")

    @property
    def memo_credits(self) -> Decimal:
        return self._sum(False, "credit")

    @property
    def balanced(self) -> bool:
        return self.debits == self.credits and self.memo_debits == self.memo_credits

    def assert_balanced(self) -> None:
        if not self.balanced:
            raise ReconciliationError(
                f"trial balance does not balance: debits {self.debits} vs credits {self.credits}, "
                f"memo {self.memo_debits} vs {self.memo_credits}",
            )

    def to_rows(self) -> list[dict[str, str]]:
        return [
            {"account": r.account.name, "code": r.account.code, "name": r.account.chinese,
             "debit": str(r.debit), "credit": str(r.credit)}
            for r in self.rows
        ]
