"""Revisions of irp's database schema, oldest first by `down_revision`."""
