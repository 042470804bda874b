"""What every `puhui` command shares: how a `PuhuiError` reaches the terminal.

An error prints as one line on stderr, `error [code] message`, with the code and message escaped so Rich
never reads `[code]` as markup, and the command exits with status 2. Packages that own sub-commands
import `fail` from here (not from `puhui.cli`, which mounts them and would import them back).
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape

from puhui.core.errors import PuhuiError

err_console = Console(stderr=True)


def fail(e: PuhuiError) -> typer.Exit:
    """Print `e` as one line and return the Exit(2) to raise: `raise fail(e) from e`."""
    err_console.print(f"[bold red]error[/] {escape(f'[{e.code}]')} {escape(e.message)}", soft_wrap=True)
    return typer.Exit(code=2)
