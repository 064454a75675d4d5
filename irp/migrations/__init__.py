"""Alembic migrations of irp's own database: the inventory and tracker tables.

`irp.db` runs them on every engine it creates, and `irp db upgrade` runs them by hand.
Add a revision as a new file in `versions/` whose `down_revision` is the newest one,
then check it with `tests/test_migrations.py`, which compares the upgraded schema
with the models.
"""
