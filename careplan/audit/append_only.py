"""The SQLite triggers that refuse UPDATE and DELETE on audit_events, as the migration installs them.
Only the test suite's cleanup uses this: it lifts them to empty the table between tests and puts them
back (on PostgreSQL its TRUNCATE does not fire the row trigger)."""

SQLITE_TRIGGERS = {
    "audit_events_no_update": (
        "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
        "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"),
    "audit_events_no_delete": (
        "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
        "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"),
}
