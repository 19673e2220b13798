"""The audit log (docs/rules.md §12): one append-only row per change, written in the
transaction of the change (`audit_record`; `audited_delete` for a deletion), read through `audit_entries_visible`."""

from monitoring.audit.services import audit_entries_visible, audit_record, audited_delete, snapshot

__all__ = ["audit_entries_visible", "audit_record", "audited_delete", "snapshot"]
