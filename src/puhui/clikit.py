"""What every `puhui` command shares: how a `PuhuiError` reaches the terminal, and how JSON is printed.

An error prints as one line on stderr, `error [code] message`, with the code and message escaped so Rich
never reads `[code]` as markup, and the command exits with status 2. `--json` output is one indented
UTF-8 document (Chinese stays readable, dates and Decimals as text); `publish` also keeps it in a file.
Packages that own sub-commands import from here (not from `puhui.cli`, which mounts them and would import
them back).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from puhui.core.errors import PuhuiError

err_console = Console(stderr=True)


def fail(e: PuhuiError) -> typer.Exit:
    """Print `e` as one line and return the Exit(2) to raise: `raise fail(e) from e`."""
    err_console.print(f"[bold red]error[/] {escape(f'[{e.code}]')} {escape(e.message)}", soft_wrap=True)
    return typer.Exit(code=2)


def json_text(obj: Any) -> str:
    """The JSON a command prints: indented, UTF-8 kept, anything else (dates, Decimals) as its text."""
    return json.dumps(obj, ensure_ascii=False, indent=1, default=str)


def echo_json(obj: Any) -> None:
    """Print `obj` as JSON on stdout."""
    typer.echo(json_text(obj))


def publish(result: Any, out: Path, *, as_json: bool, show: Callable[[], None], console: Console) -> None:
    """Write `result` as JSON to `out`, then print it as JSON (`as_json`) or as tables (`show`) with the path."""
    text = json_text(result)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    if as_json:
        typer.echo(text)
    else:
        show()
        console.print(f"written {out}")
