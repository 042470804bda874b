"""puhui.store: the transactional store — engines, exact column types, the model base, audit, idempotency.

SQLAlchemy 2 models and Alembic migrations on one SQLite file under `var/` by default, PostgreSQL when
`PUHUI_DATABASE_URL` is set; the same models and migrations serve both. What it offers:

- `make_engine`, `transaction`, `get_for_update`, `session_factory` (`db`): connections and units of work;
- `Base`, `IdMixin`, `CreatedAtMixin`, `TimestampMixin`, `load_models` (`base`): where tables hang;
- `Amount`, `Rate`, `UTCDateTime`, `JSON_TYPE`, `PK_TYPE` (`types`): exact money, rates and instants;
- `audit` (`record`, `history`, `make_append_only`) and `idempotency` (`claim`, `complete`, `release`);
- `migrate.upgrade(url)`: bring a database to the latest schema (`puhui db upgrade`).

Domain packages (`puhui.core`, pure calculations) never import this package; services do.
"""

from puhui.store import audit, idempotency
from puhui.store.base import Base, CreatedAtMixin, IdMixin, TimestampMixin, load_models
from puhui.store.db import get_for_update, is_sqlite, make_engine, normalise_url, session_factory, transaction
from puhui.store.types import JSON_TYPE, PK_TYPE, Amount, Rate, UTCDateTime, utcnow

__all__ = [
    "JSON_TYPE",
    "PK_TYPE",
    "Amount",
    "Base",
    "CreatedAtMixin",
    "IdMixin",
    "Rate",
    "TimestampMixin",
    "UTCDateTime",
    "audit",
    "get_for_update",
    "idempotency",
    "is_sqlite",
    "load_models",
    "make_engine",
    "normalise_url",
    "session_factory",
    "transaction",
    "utcnow",
]
