"""The `puhui vouchers` commands (mounted by `puhui.cli`): chains, chain limits, payables and the voucher ledger.

Thin: each command parses, calls `puhui.supplychain.service` (or the chain reader, or the pure discount
formula) and prints a Rich table, or JSON with `--json`. The database is the configured one
(`PUHUI_DATABASE_URL`, else the SQLite file under `PUHUI_HOME`) unless `--database-url` says otherwise; it
must be migrated (`puhui db upgrade`). Every command that changes the ledger takes `--idempotency-key`
(default: a fresh one, so re-running a command is a new request; pass the same key to make a retry safe).
Errors of the `PuhuiError` tree print as one line `[code] message` and exit with status 2.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from puhui.clikit import err_console
from puhui.clikit import fail as _fail
from puhui.core.errors import PuhuiError

vouchers_app = typer.Typer(help="Digital supply chain: chains, chain limits and credit vouchers (数字信用凭据).",
                           no_args_is_help=True, pretty_exceptions_enable=False)
console = Console(soft_wrap=True)  # one-line answers stay one line (and greppable) in any width

DbOpt = Annotated[str | None, typer.Option("--database-url", help="Database URL (default: the configured one).")]
KeyOpt = Annotated[str | None, typer.Option("--idempotency-key", help="Idempotency key (default: a fresh one).")]
OnOpt = Annotated[str | None, typer.Option("--on", help="Business date YYYY-MM-DD (default: today, CST).")]
ActorOpt = Annotated[str, typer.Option("--actor", help="Who acts, for the audit trail.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the answer as JSON (money as strings).")]
ByOpt = Annotated[str, typer.Option("--by", help="The acting party (USCC, or a funder's code).")]
HomeOpt = Annotated[Path | None, typer.Option("--home", help="PUHUI_HOME whose raw zone to read (default ./var).")]




def _on(text: str | None) -> Any:
    from puhui.core.dates import SystemClock, parse_date

    return parse_date(text, field="on") if text else SystemClock().today()


def _k(key: str | None) -> str:
    return key or f"cli-{uuid.uuid4()}"


@contextmanager
def _engine(url: str | None) -> Iterator[Any]:
    from puhui.store import make_engine

    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def _run(url: str | None, fn: Callable[[Any], Any]) -> Any:
    from sqlalchemy.exc import OperationalError, ProgrammingError

    try:
        with _engine(url) as engine:
            return fn(engine)
    except PuhuiError as e:
        raise _fail(e) from e
    except (OperationalError, ProgrammingError) as e:
        if "no such table" not in str(e) and "does not exist" not in str(e):
            raise
        err_console.print("[bold red]error[/] " + escape("[schema_missing] the database has no voucher tables: run "
                                                         "`puhui db upgrade` first"), soft_wrap=True)
        raise typer.Exit(code=2) from e


def _source(home: Path | None) -> Any:
    from puhui.config import paths
    from puhui.supplychain.chains import ChainSource

    return ChainSource((Path(home).resolve() if home else paths().home) / "raw")


def _emit_json(body: Any) -> None:
    typer.echo(json.dumps(body, ensure_ascii=False, indent=2, default=str))


def _show_change(body: dict[str, Any], as_json: bool) -> None:
    if as_json:
        _emit_json(body)
        return
    v = body.get("voucher", {})
    console.print(f"[bold]{body.get('event')}[/] voucher {v.get('voucher_no')} ({v.get('status')}) "
                  f"face {v.get('face')}, matures {v.get('maturity_date')}"
                  + ("  [yellow]tenor review[/]" if v.get("tenor_review") else ""))
    if body.get("holdings"):
        _holdings_table(body["holdings"])
    elif body.get("holdings_count"):
        console.print(f"{body['holdings_count']} holdings changed")
    for f in body.get("financings", []):
        console.print(f"financed {f['face']} by {f['funder']} at {f['annual_rate']} for {f['days']} days: "
                      f"interest {f['interest']}, proceeds {f['proceeds']} (registration {f['registration_ref']})")
    if "paid_total" in body:
        console.print(f"paid {body['paid_total']} in {body['payments_count']} payments to "
                      f"{body['recipients_count']} recipients")


def _holdings_table(rows: list[dict[str, Any]], *, title: str | None = None) -> None:
    table = Table("holding", "range (子票区间)", "amount", "holder", "status", "opened", "closed", title=title)
    for h in rows:
        status = h["status"] + (f" → {h['pending']['to']}" if h.get("pending") else "")
        table.add_row(h["ref"], h["sub_ticket_range"], h["amount"], h["holder"], status, h["opened_on"],
                      h.get("closed_on") or "")
    console.print(table)


@vouchers_app.command("chains")
def chains_cmd(home: HomeOpt = None, database_url: DbOpt = None, as_json: JsonOpt = False) -> None:
    """List the core enterprises of the raw zone and their approved chain limits."""
    from puhui.supplychain import service

    try:
        cores = _source(home).cores()
    except PuhuiError as e:
        raise _fail(e) from e
    limits = {x["core"]: x for x in _run(database_url, service.list_limits)}
    if as_json:
        _emit_json([{**c.to_dict(), "limit": limits.get(c.uscc)} for c in cores])
        return
    table = Table("core (USCC)", "name", "sector", "rating", "limit", "outstanding", title="核心企业")
    for c in cores:
        lim = limits.get(c.uscc)
        table.add_row(c.uscc, c.name, c.sector, c.rating, lim["limit"] if lim else "—", lim["outstanding"] if lim
                      else "—")
    console.print(table)


@vouchers_app.command("chain")
def chain_cmd(core: Annotated[str, typer.Argument(help="USCC of the core enterprise.")],
              as_of: Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD (default today).")] = None,
              window: Annotated[int, typer.Option(help="Months of trade.")] = 12,
              home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Show one chain: members by tier and role, tenure, dependence on the core, trade of the window."""
    try:
        chain = _source(home).chain(core, as_of=_on(as_of), window_months=window)
    except PuhuiError as e:
        raise _fail(e) from e
    if as_json:
        _emit_json(chain.graph())
        return
    dep = chain.dependence()
    table = Table("member", "role", "tier", "counterparty", "tenure (m)", "share", "dependence", "invoiced",
                  "paid", "pay days", "past due",
                  title=f"{chain.core.name} {chain.core.uscc} as of {chain.as_of} ({len(chain.members)} members)")
    for m in chain.members:
        t = m.trade
        table.add_row(m.uscc, m.role, str(m.tier), m.counterparty, str(m.tenure_months(chain.as_of)),
                      str(m.share_of_business), str(dep[m.uscc]), str(t.invoiced), str(t.paid),
                      "" if t.avg_payment_days is None else str(t.avg_payment_days), str(t.past_due))
    console.print(table)


@vouchers_app.command("approve-limit")
def approve_limit_cmd(core: Annotated[str, typer.Argument(help="USCC of the core enterprise.")],
                      limit: Annotated[str, typer.Option(help="Approved limit in yuan.")],
                      valid_from: Annotated[str, typer.Option(help="YYYY-MM-DD")],
                      valid_to: Annotated[str, typer.Option(help="YYYY-MM-DD")],
                      status: Annotated[str, typer.Option(help="active or frozen")] = "active",
                      name: Annotated[str, typer.Option(help="Name (default: from the raw zone if there).")] = "",
                      home: HomeOpt = None, on: OnOpt = None, actor: ActorOpt = "cli", key: KeyOpt = None,
                      database_url: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Approve, change or freeze a core enterprise's chain limit (供应链授信额度)."""
    from puhui.supplychain import service

    if not name:
        try:
            name = _source(home).core(core).name
        except PuhuiError:
            name = ""
    body = _run(database_url, lambda e: service.do_approve_chain_limit(
        e, core=core, limit=limit, valid_from=valid_from, valid_to=valid_to, on=_on(on), actor=actor, name=name,
        status=status, idempotency_key=_k(key)).body)
    _emit_json(body) if as_json else console.print(
        f"chain limit of {body['core']} {body['name']}: {body['limit']} ({body['status']}), outstanding "
        f"{body['outstanding']}, valid {body['valid_from']}–{body['valid_to']}")


@vouchers_app.command("confirm-payable")
def confirm_payable_cmd(payable_no: Annotated[str, typer.Argument(help="The payable's number.")],
                        core: Annotated[str, typer.Option(help="USCC of the core enterprise (debtor).")],
                        supplier: Annotated[str, typer.Option(help="USCC of the supplier (creditor).")],
                        amount: Annotated[str, typer.Option(help="Amount in yuan.")],
                        due_date: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
                        on: OnOpt = None, actor: ActorOpt = "cli", key: KeyOpt = None, database_url: DbOpt = None,
                        as_json: JsonOpt = False) -> None:
    """Record a payable the core enterprise confirmed (应付账款确权)."""
    from puhui.supplychain import service

    body = _run(database_url, lambda e: service.do_confirm_payable(
        e, payable_no=payable_no, core=core, supplier=supplier, amount=amount, on=_on(on), due_date=due_date,
        actor=actor, idempotency_key=_k(key)).body)
    _emit_json(body) if as_json else console.print(
        f"payable {body['payable_no']}: {body['core']} owes {body['supplier']} {body['amount']}")


@vouchers_app.command("issue")
def issue_cmd(payable_no: Annotated[str, typer.Argument(help="The confirmed payable it is issued against.")],
              face: Annotated[str, typer.Option(help="Face amount in yuan.")],
              maturity: Annotated[str, typer.Option(help="Maturity date YYYY-MM-DD.")], by: ByOpt,
              transferable: Annotated[bool, typer.Option(help="Transferable (else 不可转让).")] = True,
              notice: Annotated[bool, typer.Option(help="Transfers complete on notice (no acceptance).")] = False,
              on: OnOpt = None, actor: ActorOpt = "cli", key: KeyOpt = None, database_url: DbOpt = None,
              as_json: JsonOpt = False) -> None:
    """开立: issue a voucher (by the core enterprise) against a confirmed payable."""
    from puhui.supplychain import service

    body = _run(database_url, lambda e: service.do_issue(
        e, payable_no=payable_no, face=face, maturity=maturity, on=_on(on), by=by, transferable=transferable,
        transfer_mode="notice" if notice else "acceptance", actor=actor, idempotency_key=_k(key)).body)
    _show_change(body, as_json)


def _party_cmd(name: str, doc: str) -> None:
    def cmd(ref: Annotated[str, typer.Argument(help="Holding reference <voucher no>-<n>.")], by: ByOpt,
            on: OnOpt = None, actor: ActorOpt = "cli", key: KeyOpt = None, database_url: DbOpt = None,
            as_json: JsonOpt = False) -> None:
        from puhui.supplychain import service

        fn = {"accept": service.do_accept, "reject": service.do_reject, "withdraw": service.do_withdraw,
              "release": service.do_release_pledge}[name]
        _show_change(_run(database_url, lambda e: fn(e, ref, by=by, on=_on(on), actor=actor,
                                                     idempotency_key=_k(key)).body), as_json)

    cmd.__doc__ = doc
    vouchers_app.command(name)(cmd)


_party_cmd("accept", "签收: the payee signs an issued voucher, or the recipient a pending transfer.")
_party_cmd("reject", "拒签/驳回: refuse an issued voucher (cancelled) or a pending transfer (restored).")
_party_cmd("withdraw", "撤回: the issuer withdraws an unsigned voucher, or the holder its pending transfer.")
_party_cmd("release", "解除质押: the pledgee releases a pledged holding.")


@vouchers_app.command("split")
def split_cmd(ref: Annotated[str, typer.Argument(help="Holding reference.")],
              part: Annotated[list[str], typer.Option("--part", help="A part in yuan (repeat); rest is last.")],
              by: ByOpt, on: OnOpt = None, actor: ActorOpt = "cli", key: KeyOpt = None, database_url: DbOpt = None,
              as_json: JsonOpt = False) -> None:
    """拆分: cut a holding into parts of at least 0.01 yuan."""
    from puhui.supplychain import service

    _show_change(_run(database_url, lambda e: service.do_split(e, ref, parts=part, by=by, on=_on(on), actor=actor,
                                                               idempotency_key=_k(key)).body), as_json)


@vouchers_app.command("transfer")
def transfer_cmd(ref: Annotated[str, typer.Argument(help="Holding reference.")],
                 to: Annotated[str, typer.Option(help="USCC of the recipient.")], by: ByOpt,
                 amount: Annotated[str | None, typer.Option(help="Part to transfer, in yuan (default all).")] = None,
                 on: OnOpt = None, actor: ActorOpt = "cli", key: KeyOpt = None, database_url: DbOpt = None,
                 as_json: JsonOpt = False) -> None:
    """转让: pass a holding (or part of it) to another enterprise."""
    from puhui.supplychain import service

    _show_change(_run(database_url, lambda e: service.do_transfer(e, ref, to=to, by=by, on=_on(on), amount=amount,
                                                                  actor=actor, idempotency_key=_k(key)).body), as_json)


@vouchers_app.command("finance")
def finance_cmd(ref: Annotated[str, typer.Argument(help="Holding reference.")],
                funder: Annotated[str, typer.Option(help="The funder (bank code).")],
                rate: Annotated[str, typer.Option(help="Annual discount rate: 0.02 or 2%.")],
                registration_ref: Annotated[str, typer.Option(help="动产融资统一登记公示系统 registration number.")],
                by: ByOpt, amount: Annotated[str | None, typer.Option(help="Part to finance (default all).")] = None,
                basis: Annotated[int, typer.Option(help="Day basis 360 or 365.")] = 360, on: OnOpt = None,
                actor: ActorOpt = "cli", key: KeyOpt = None, database_url: DbOpt = None,
                as_json: JsonOpt = False) -> None:
    """融资: discount a holding at a funder (proceeds = face − face × rate × days / basis)."""
    from puhui.supplychain import service

    _show_change(_run(database_url, lambda e: service.do_finance(
        e, ref, funder=funder, annual_rate=rate, registration_ref=registration_ref, by=by, on=_on(on), amount=amount,
        basis=basis, actor=actor, idempotency_key=_k(key)).body), as_json)


@vouchers_app.command("pledge")
def pledge_cmd(ref: Annotated[str, typer.Argument(help="Holding reference.")],
               pledgee: Annotated[str, typer.Option(help="The pledgee (bank code).")],
               registration_ref: Annotated[str, typer.Option(help="动产融资统一登记公示系统 registration number.")],
               by: ByOpt, on: OnOpt = None, actor: ActorOpt = "cli", key: KeyOpt = None, database_url: DbOpt = None,
               as_json: JsonOpt = False) -> None:
    """质押: pledge a holding to a bank."""
    from puhui.supplychain import service

    _show_change(_run(database_url, lambda e: service.do_pledge(
        e, ref, pledgee=pledgee, registration_ref=registration_ref, by=by, on=_on(on), actor=actor,
        idempotency_key=_k(key)).body), as_json)


@vouchers_app.command("settle")
def settle_cmd(voucher_no: Annotated[str, typer.Argument(help="Voucher number.")], on: OnOpt = None,
               actor: ActorOpt = "cli", key: KeyOpt = None, database_url: DbOpt = None,
               as_json: JsonOpt = False) -> None:
    """兑付: at maturity pay every current holder of a voucher exactly."""
    from puhui.supplychain import service

    _show_change(_run(database_url, lambda e: service.do_settle(e, voucher_no, on=_on(on), actor=actor,
                                                                idempotency_key=_k(key)).body), as_json)


@vouchers_app.command("show")
def show_cmd(voucher_no: Annotated[str, typer.Argument(help="Voucher number.")], database_url: DbOpt = None,
             as_json: JsonOpt = False) -> None:
    """A voucher, its current holdings and totals."""
    from puhui.supplychain import service

    body = _run(database_url, lambda e: service.get_voucher(e, voucher_no))
    if as_json:
        _emit_json(body)
        return
    console.print(f"voucher {body['voucher_no']}: {body['issuer']} → {body['payee']}, face {body['face']}, "
                  f"{body['issue_date']} – {body['maturity_date']}, {body['status']}; totals {body['totals']}")
    _holdings_table(body["holdings"])


@vouchers_app.command("history")
def history_cmd(voucher_no: Annotated[str, typer.Argument(help="Voucher number.")], database_url: DbOpt = None,
                as_json: JsonOpt = False) -> None:
    """全程流转记录: who held which part, when; every event, financing and payment."""
    from puhui.supplychain import service

    body = _run(database_url, lambda e: service.voucher_history(e, voucher_no))
    if as_json:
        _emit_json(body)
        return
    _holdings_table(body["holdings"], title=f"voucher {voucher_no}: every holding")
    table = Table("date", "event", "by", "holdings", title="events")
    for ev in body["events"]:
        refs = ev["holdings"]
        table.add_row(ev["on"], ev["kind"], ev["by"], ", ".join(refs[:4]) + (f" … (+{len(refs) - 4})"
                                                                             if len(refs) > 4 else ""))
    console.print(table)


@vouchers_app.command("holdings")
def holdings_cmd(party: Annotated[str, typer.Argument(help="USCC or funder code.")],
                 all_holdings: Annotated[bool, typer.Option("--all", help="Include closed holdings.")] = False,
                 database_url: DbOpt = None, as_json: JsonOpt = False) -> None:
    """An enterprise's voucher holdings and the transfers waiting for its signature."""
    from puhui.supplychain import service

    body = _run(database_url, lambda e: service.holdings_of(e, party, live_only=not all_holdings))
    if as_json:
        _emit_json(body)
        return
    _holdings_table(body["holdings"], title=f"holdings of {party}: {body['totals']}")
    for p in body["awaiting_acceptance"]:
        console.print(f"awaiting your signature: {p['holding']} {p['amount']} from {p['from']}")


@vouchers_app.command("discount")
def discount_cmd(face: Annotated[str, typer.Option(help="Face in yuan.")],
                 rate: Annotated[str, typer.Option(help="Annual rate: 0.02 or 2%.")],
                 maturity: Annotated[str, typer.Option(help="Maturity date YYYY-MM-DD.")],
                 start: Annotated[str | None, typer.Option(help="Financing date (default today).")] = None,
                 basis: Annotated[int, typer.Option(help="Day basis 360 or 365.")] = 360,
                 as_json: JsonOpt = False) -> None:
    """贴现试算: days, interest, proceeds and 每十万贴息 (no database)."""
    from puhui.core.dates import parse_date
    from puhui.supplychain import vouchers as dom
    from puhui.supplychain.service import default_calendar

    try:
        q = dom.discount(dom.to_fen(face, "face"), rate, start=_on(start), maturity=parse_date(maturity, "maturity"),
                         basis=basis, calendar=default_calendar()).to_dict()
    except PuhuiError as e:
        raise _fail(e) from e
    if as_json:
        _emit_json(q)
        return
    console.print(f"{q['face']} at {q['annual_rate']} from {q['start']} to {q['payment_date']} "
                  f"({q['days']} days, /{q['basis']}): interest {q['interest']}, proceeds {q['proceeds']}, "
                  f"每十万贴息 {q['per_100k']}")


@vouchers_app.command("check")
def check_cmd(database_url: DbOpt = None) -> None:
    """Reconcile the voucher ledger: every invariant on every voucher, chain limit and payable."""
    from puhui.supplychain import service

    body = _run(database_url, service.reconcile)
    console.print(f"voucher ledger reconciled: {body['vouchers']} vouchers, {body['holdings']} holdings")
