"""The SQLite triggers that refuse UPDATE and DELETE on audit_events and audit_event_patients, as the
migrations install them.
Only the test suite's cleanup uses this: it lifts them to empty the table between tests and puts them
back (on PostgreSQL its TRUNCATE does not fire the row trigger)."""

SQLITE_TRIGGERS = {
    "audit_events_no_update": (
        "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
        "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"),
    "audit_events_no_delete": (
        "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
        "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"),
    "audit_event_patients_no_update": (
        "CREATE TRIGGER audit_event_patients_no_update BEFORE UPDATE ON audit_event_patients "
        "BEGIN SELECT RAISE(ABORT, 'audit_event_patients is append-only'); END"),
    "audit_event_patients_no_delete": (
        "CREATE TRIGGER audit_event_patients_no_delete BEFORE DELETE ON audit_event_patients "
        "BEGIN SELECT RAISE(ABORT, 'audit_event_patients is append-only'); END"),
}
