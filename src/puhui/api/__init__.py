"""puhui.api: the HTTP surface — one FastAPI app, routers per capability, errors as RFC 9457 problems."""

from puhui.api.app import create_app

__all__ = ["create_app"]
