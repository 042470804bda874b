"""Alembic environment and revision scripts of the transactional store (run through puhui.store.migrate)."""
