"""The journey walk (`puhui journey`): one enterprise through the whole online journey over real HTTP.

consent → estimate → apply → accept → drawdown → repay, each step a request to a running puhui server,
its answer printed in one line (and in full with `--verbose`). Without `--uscc` the walk invites the
enterprise with the largest open pre-approval offer (`GET /v1/preapproved-offers`, 精准获客) and decides as of
that offer's date; with `--uscc` it decides on the server's default date unless `--as-of` is given.
The walk stops at the first step that does not go on (a decline, a referral, an error) and says why.
`walk(client, ...)` takes any `httpx.Client` (a `fastapi.testclient.TestClient` in tests).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Any

import httpx
import typer

__all__ = ["WalkError", "WalkResult", "journey_command", "walk"]

SIGNER = "法定代表人（演示）"
DEFAULT_SCENARIO = "tax_loan"


class WalkError(RuntimeError):
    """A step answered something other than what the journey needs next (the message says which and why)."""


@dataclass
class WalkResult:
    uscc: str = ""
    scenario_id: str = ""
    steps: list[tuple[str, int, dict[str, Any]]] = field(default_factory=list)
    completed: bool = False


def _check(step: str, r: httpx.Response, ok: tuple[int, ...]) -> dict[str, Any]:
    try:
        body = r.json()
    except ValueError:
        body = {"text": r.text[:300]}
    if r.status_code not in ok:
        raise WalkError(f"{step}: HTTP {r.status_code} {body.get('code', '')}: {body.get('detail', body)}")
    return body


def walk(client: httpx.Client, *, uscc: str | None = None, scenario_id: str | None = None,
         as_of: date | None = None, actor: str = "demo:journey", draw: Decimal | None = None,
         echo: Callable[[str], None] = print) -> WalkResult:  # fmt: skip
    """Walk one enterprise through the journey; returns every step's status and body."""
    res = WalkResult()
    headers = {"X-Actor": actor}

    def post(step: str, path: str, body: dict[str, Any], ok: tuple[int, ...] = (200, 201)) -> dict[str, Any]:
        r = client.post(path, json=body, headers={**headers, "Idempotency-Key": f"walk-{uuid.uuid4().hex}"})
        out = _check(step, r, ok)
        res.steps.append((step, r.status_code, out))
        return out

    if uscc is None:
        r = client.get("/v1/preapproved-offers", params={"limit": 1, **({"scenario_id": scenario_id}
                                                                        if scenario_id else {})})  # fmt: skip
        offers = _check("invite", r, (200,))
        if not offers:
            raise WalkError("no open pre-approval offer to invite: run `puhui preapprove` first or pass --uscc")
        top = offers[0]
        uscc, scenario_id = top["uscc"], scenario_id or top["scenario_id"]
        as_of = as_of or date.fromisoformat(top["as_of"])
        echo(f"invite    {uscc} pre-approved for {scenario_id}: up to {top['limit']} at {top['annual_rate']} "
             f"(as of {top['as_of']})")  # fmt: skip
    scenario_id = scenario_id or DEFAULT_SCENARIO
    res.uscc, res.scenario_id = uscc, scenario_id
    when = {} if as_of is None else {"as_of": as_of.isoformat()}
    biz = {} if as_of is None else {"business_date": as_of.isoformat()}

    granted = post("consent", "/v1/consents", {
        "uscc": uscc, "scenario_id": scenario_id, "granted_by": SIGNER,
        "expires_on": ((as_of or date.today()) + timedelta(days=365)).isoformat(),
        "evidence_text": "本企业同意贵行为授信审批查询并使用下列数据", **biz})  # fmt: skip
    echo(f"consent   {len(granted['consents'])} purposes granted: "
         f"{', '.join(c['purpose'] for c in granted['consents'])}")  # fmt: skip
    est = post("estimate", "/v1/limit-estimates", {"uscc": uscc, "scenario_id": scenario_id, **when})
    lr, rr = est.get("limit_range"), est.get("annual_rate_range")
    echo(f"estimate  {est['outcome']}: limit {lr['low']}–{lr['high']}, rate {rr['low']}–{rr['high']} (no bureau query)"
         if lr else f"estimate  {est['outcome']}: {', '.join(x['code'] for x in est['reasons'])}")  # fmt: skip
    requested = lr["high"] if lr else "100000"
    app = post("apply", "/v1/applications", {"uscc": uscc, "scenario_id": scenario_id,
                                             "requested_amount": requested, **when})  # fmt: skip
    reasons = ", ".join(x["code"] for x in app.get("reasons") or []) or "none"
    if app["status"] != "approved":
        echo(f"apply     application {app['application_id']} {app['status']} (reasons: {reasons}); the walk stops")
        return res
    offer = app["offer"]
    echo(f"apply     application {app['application_id']} approved: {offer['limit']} at {offer['annual_rate']} "
         f"(APR {offer['apr']}), offer valid to {offer['expires_on']}")  # fmt: skip
    acc = post("accept", f"/v1/applications/{app['application_id']}/accept", {"signer": SIGNER})
    line = acc["line"]
    echo(f"accept    contract {acc['contract']['contract_no']} signed; line {line['line_id']} of {line['limit']} "
         f"valid {line['valid_from']}–{line['valid_to']}")  # fmt: skip
    amount = min(Decimal(line["limit"]), draw if draw is not None else Decimal("100000.00"))
    loan = post("drawdown", f"/v1/lending/lines/{line['line_id']}/drawdowns",
                {"amount": str(amount), "business_date": acc["business_date"]})  # fmt: skip
    echo(f"drawdown  loan {loan['loan_id']}: {loan['principal']} for {loan['term_months']} months "
         f"({loan['method']}), available on the line now {loan['line']['available']}")  # fmt: skip
    r = client.get(f"/v1/lending/loans/{loan['loan_id']}/payoff-quote",
                   params={"business_date": acc["business_date"]}, headers=headers)  # fmt: skip
    quote = _check("payoff-quote", r, (200,))
    paid = post("repay", f"/v1/lending/loans/{loan['loan_id']}/repayments",
                {"amount": quote["total"], "kind": "payoff", "business_date": acc["business_date"]})  # fmt: skip
    after = paid.get("loan", paid)
    echo(f"repay     paid off {quote['total']} (principal {quote['principal']}, interest {quote['interest']}); "
         f"loan {after.get('status', '?')}")  # fmt: skip
    res.completed = True
    return res


def journey_command(
    base_url: Annotated[str, typer.Option("--base-url", help="The puhui server, e.g. http://127.0.0.1:8000")],
    uscc: Annotated[str | None, typer.Option(help="The enterprise; default: the largest pre-approval offer.")] = None,
    scenario: Annotated[str | None, typer.Option(help="Scenario id; default the offer's (else tax_loan).")] = None,
    as_of: Annotated[str | None, typer.Option(help="Decision date YYYY-MM-DD; default the offer's date.")] = None,
    verbose: Annotated[bool, typer.Option(help="Print every answer in full (JSON).")] = False,
) -> None:
    """Walk one enterprise over HTTP: consent → estimate → apply → accept → drawdown → repay."""
    import json

    from rich.console import Console

    console = Console()
    try:
        with httpx.Client(base_url=base_url, timeout=60.0) as client:
            res = walk(client, uscc=uscc, scenario_id=scenario, as_of=date.fromisoformat(as_of) if as_of else None,
                       echo=lambda line: console.print(line, markup=False, highlight=False))  # fmt: skip
    except (WalkError, httpx.HTTPError, ValueError) as e:
        console.print(f"[red]journey stopped:[/] {e}")
        raise typer.Exit(1) from e
    if verbose:
        for step, status, body in res.steps:
            console.print(f"--- {step} ({status})")
            console.print_json(json.dumps(body, ensure_ascii=False))
    if not res.completed:
        raise typer.Exit(2)
