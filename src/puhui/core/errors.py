"""The one exception tree of puhui, each error with a stable machine-readable code.

Every failure a caller can act on is a `PuhuiError` subclass carrying a `code` (stable, snake_case,
documented), a human message, and optional `details` (where and why). The API maps the tree to
RFC 9457 problem+json by `http_status`; the CLI prints the message and exits non-zero. Domain code
raises these and nothing else for bad input, so no bad request ever surfaces as a 500.
"""

from __future__ import annotations

from typing import Any


class PuhuiError(Exception):
    """Base of every puhui error: `code` is stable, `message` is for people, `details` say where."""

    code: str = "puhui_error"
    http_status: int = 500

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details: dict[str, Any] = details

    def to_problem(self) -> dict[str, Any]:
        """The RFC 9457 problem body for this error (type, title, status, detail, code, details)."""
        return {
            "type": f"https://puhui.dev/problems/{self.code}",
            "title": type(self).__name__,
            "status": self.http_status,
            "detail": self.message,
            "code": self.code,
            **({"details": self.details} if self.details else {}),
        }


class ValidationError(PuhuiError):
    """Input that is malformed or out of range (a bad USCC, a negative amount, an unknown code)."""

    code = "validation_error"
    http_status = 422


class NotFound(PuhuiError):
    """A referenced thing does not exist (an unknown enterprise, loan, voucher)."""

    code = "not_found"
    http_status = 404


class Forbidden(PuhuiError):
    """The caller is not the party allowed to act (not the holder of a voucher, not the assignee of a case)."""

    code = "forbidden"
    http_status = 403


class Conflict(PuhuiError):
    """The request clashes with the current state (same idempotency key in flight, stale version)."""

    code = "conflict"
    http_status = 409


class PolicyViolation(PuhuiError):
    """Well-formed, but a rule forbids it (over the available limit, a frozen line, a rate above the cap)."""

    code = "policy_violation"
    http_status = 422


class ConfigurationError(PuhuiError):
    """A shipped or supplied setting, scenario or definition is invalid (names the file and field)."""

    code = "configuration_error"
    http_status = 500


class ServiceUnavailable(PuhuiError):
    """A dependency the request needs is not configured or not reachable now (a registry adapter); retry later."""

    code = "service_unavailable"
    http_status = 503
