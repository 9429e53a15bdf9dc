"""Times keep their instant on every backend; SQLite is tuned for concurrent writers."""
import os
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from careplan.extensions import db
from careplan.providers.models import ProviderTimeOff
from tests import factories

TORONTO = ZoneInfo("America/Toronto")


def test_toronto_morning_reads_back_as_the_same_instant(ctx):
    provider = factories.provider()
    written = datetime(2027, 1, 5, 9, 0, tzinfo=TORONTO)
    row = ProviderTimeOff(provider=provider, starts_at=written, ends_at=datetime(2027, 1, 5, 17, 0, tzinfo=TORONTO))
    db.session.add(row)
    db.session.commit()
    row_id = row.id
    db.session.remove()

    read = db.session.get(ProviderTimeOff, row_id).starts_at
    assert read == written
    assert read.utcoffset().total_seconds() == 0
    assert read == datetime(2027, 1, 5, 14, 0, tzinfo=timezone.utc)


def test_summer_time_keeps_its_own_offset(ctx):
    provider = factories.provider()
    written = datetime(2027, 7, 5, 9, 0, tzinfo=TORONTO)
    db.session.add(ProviderTimeOff(provider=provider, starts_at=written, ends_at=written.replace(hour=10)))
    db.session.commit()
    db.session.remove()
    read = db.session.scalars(db.select(ProviderTimeOff)).one().starts_at
    assert read == datetime(2027, 7, 5, 13, 0, tzinfo=timezone.utc)


def test_stored_value_is_utc_on_disk(ctx):
    provider = factories.provider()
    db.session.add(ProviderTimeOff(provider=provider, starts_at=datetime(2027, 1, 5, 9, 0, tzinfo=TORONTO),
                                   ends_at=datetime(2027, 1, 5, 10, 0, tzinfo=TORONTO)))
    db.session.commit()
    raw = db.session.execute(text("SELECT starts_at FROM provider_time_off")).scalar_one()
    if db.engine.dialect.name == "sqlite":
        assert str(raw).startswith("2027-01-05 14:00:00")
    else:
        assert raw == datetime(2027, 1, 5, 14, 0, tzinfo=timezone.utc)


def test_naive_datetime_is_refused(ctx):
    provider = factories.provider()
    db.session.add(ProviderTimeOff(provider=provider, starts_at=datetime(2027, 1, 5, 9), ends_at=datetime(2027, 1, 6)))
    with pytest.raises(Exception, match="naive datetime"):
        db.session.commit()
    db.session.rollback()


def test_backend_is_tuned(ctx):
    if db.engine.dialect.name == "sqlite":
        assert db.session.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    else:
        assert db.engine.dialect.driver == "psycopg"
        assert int(db.session.execute(text("SHOW server_version_num")).scalar_one()) >= 130000


def test_a_reading_transaction_reads_beside_a_writer(app):
    """A transaction marked `reading` (a solve job's read) neither waits for a writer nor delays one: on SQLite
    it begins deferred, so it never takes or waits for the write lock that every other transaction takes at
    BEGIN; on PostgreSQL readers never wait for writers."""
    import time

    from careplan.db import reading

    with app.app_context():
        factories.provider()
        db.session.commit()
        with db.engine.connect() as writer:
            writer.execute(text("UPDATE providers SET name = name"))  # BEGIN IMMEDIATE: the write lock held
            began = time.monotonic()
            reading(db.session)
            assert db.session.execute(text("SELECT count(*) FROM providers")).scalar() == 1
            assert time.monotonic() - began < 1.0
            writer.commit()
        # While the reading transaction is open, another connection writes at once.
        with db.engine.connect() as writer:
            began = time.monotonic()
            writer.execute(text("UPDATE providers SET name = name"))
            writer.commit()
            assert time.monotonic() - began < 1.0
        db.session.rollback()
        db.session.remove()


@pytest.mark.skipif("os.environ.get('CAREPLAN_TEST_ON_POSTGRES')",
                    reason="SQLite's one write lock; PostgreSQL locks rows")
def test_a_waiting_writer_is_served_in_turn(app):
    """A write transaction waiting beside a stream of short ones gets its turn after the one under way, not
    whenever SQLite's busy handler (sleeping longer and longer between tries) happens to find the lock free:
    counted in the stream's transactions that commit while it waits, not in seconds."""
    import threading
    import time

    with app.app_context():
        factories.provider()
        db.session.commit()
        db.session.remove()
        engine = db.engine
        committed = 0
        stop = threading.Event()
        streaming = threading.Event()

        def stream():
            nonlocal committed
            with engine.connect() as connection:
                while not stop.is_set():
                    connection.execute(text("UPDATE providers SET name = name"))
                    streaming.set()
                    time.sleep(0.005)  # a request's work inside its transaction
                    connection.commit()
                    committed += 1
                    time.sleep(0.001)  # the next request arrives

        streamer = threading.Thread(target=stream)
        streamer.start()
        try:
            streaming.wait(5)
            before = committed
            with db.engine.connect() as waiting:
                waiting.execute(text("UPDATE providers SET name = name"))
                passed = committed - before
                waiting.commit()
        finally:
            stop.set()
            streamer.join()
        assert passed <= 2, f"{passed} transactions went first"


def test_json_columns_are_stored_without_spaces(ctx):
    """A proposal keeps its problem document in a JSON column: stored compact, as it is served."""
    from sqlalchemy import String, cast, select

    from careplan.reminders.models import OutboundEmail

    patient = factories.patient()
    db.session.add(OutboundEmail(kind="reminder", patient_id=patient.id, payload={"a": 1, "b": [1, 2]},
                                 due_at=datetime(2027, 1, 5, tzinfo=timezone.utc)))
    db.session.commit()
    stored = db.session.scalar(select(cast(OutboundEmail.payload, String)))
    assert stored == '{"a":1,"b":[1,2]}'
    assert db.session.scalar(select(OutboundEmail.payload)) == {"a": 1, "b": [1, 2]}


@pytest.mark.skipif("os.environ.get('CAREPLAN_TEST_ON_POSTGRES')", reason="the write turn is SQLite's")
def test_an_invalidated_write_transaction_rolls_back_and_gives_up_the_turn(app):
    """A connection invalidated inside a write transaction (a disconnect, an interrupt mid-statement) still
    rolls back and closes without an error, and the next writer gets the turn at once."""
    import threading
    import time

    with app.app_context():
        factories.provider()
        db.session.commit()
        db.session.remove()
        with db.engine.connect() as connection:
            connection.execute(text("UPDATE providers SET name = name"))
            connection.invalidate()
        db.session.execute(text("UPDATE providers SET name = name"))
        db.session.connection().invalidate()
        db.session.rollback()
        db.session.remove()

        engine = db.engine
        took = []

        def write():
            started = time.perf_counter()
            with engine.begin() as other:
                other.execute(text("UPDATE providers SET name = name"))
            took.append(time.perf_counter() - started)

        writer = threading.Thread(target=write)
        writer.start()
        writer.join(10)
        assert took and took[0] < 1


@pytest.mark.skipif("not os.environ.get('CAREPLAN_TEST_ON_POSTGRES')", reason="prepared statements are PostgreSQL's")
def test_postgresql_plans_each_statement_for_its_own_values(ctx):
    """No server-side prepared statements (psycopg prepares a statement from its fifth run, and PostgreSQL's
    generic plan for a time range over the appointments was the slower one): a statement run ten times leaves
    none on the connection."""
    moment = datetime(2027, 1, 4, 14, tzinfo=timezone.utc)
    for _ in range(10):
        db.session.execute(text("SELECT count(*) FROM appointments WHERE starts_at >= :moment"), {"moment": moment})
    assert db.session.scalar(text("SELECT count(*) FROM pg_prepared_statements")) == 0
