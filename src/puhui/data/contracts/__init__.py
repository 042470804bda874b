"""Data contracts for every source puhui reads: the registry `CONTRACTS`, keyed by raw-zone folder."""

from __future__ import annotations

from puhui.data.contracts.base import Check, Field, FieldType, SourceContract
from puhui.data.contracts.enterprise import ENTERPRISE_CONTRACTS
from puhui.data.contracts.property import PROPERTY_CONTRACTS

CONTRACTS: dict[str, SourceContract] = {c.name: c for c in (*ENTERPRISE_CONTRACTS, *PROPERTY_CONTRACTS)}

__all__ = ["CONTRACTS", "Check", "Field", "FieldType", "SourceContract", "contract"]


def contract(name: str) -> SourceContract:
    """The contract of a source by name; an unknown name lists the known ones."""
    from puhui.core.errors import NotFound

    try:
        return CONTRACTS[name]
    except KeyError:
        raise NotFound(
            f"unknown source {name!r}; known sources: {', '.join(sorted(CONTRACTS))}",
            code="unknown_source",
            source=name,
        ) from None
