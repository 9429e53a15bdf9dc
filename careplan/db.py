"""The declarative base, the column types every model shares, and backend tuning.

Times are stored in UTC everywhere. SQLite has no time zone type: its
``DateTime(timezone=True)`` silently drops the offset, so `UTCDateTime`
normalises every value to UTC on the way in and marks it UTC on the way out.
"""
from __future__ import annotations

import threading
from datetime import datetime, time, timezone

from sqlalchemy import CheckConstraint, DateTime, MetaData, SmallInteger, Time, event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column
from sqlalchemy.types import TypeDecorator

# Constraint names must be stable for Alembic to alter them (and SQLite batch mode needs names).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class WeeklyWindow:
    """Columns of a weekly window in the clinic's local time (day 0 = Monday), for providers and patients alike."""

    @declared_attr.directive
    def __table_args__(cls):
        return (CheckConstraint("day BETWEEN 0 AND 6", name="day_of_week"),
                CheckConstraint("start < \"end\"", name="start_before_end"))

    day: Mapped[int] = mapped_column(SmallInteger)
    start: Mapped[time] = mapped_column(Time)
    end: Mapped[time] = mapped_column(Time)


class UTCDateTime(TypeDecorator):
    """An aware datetime, stored as UTC; naive values are refused rather than guessed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} has no UTC offset")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class naive_utc(FunctionElement):  # noqa: N801  (used as a SQL function: naive_utc(Appointment.starts_at))
    """A `UTCDateTime` column's instants as naive UTC, converted by the database: PostgreSQL's
    `timezone('UTC', ...)`, SQLite's stored text as it is; each dialect writes its own form when the statement
    is compiled. For reads of thousands of rows: an aware value made and converted in Python for each
    (`UTCDateTime`) was most of what such a read cost."""

    type = DateTime()
    inherit_cache = True


@compiles(naive_utc)
def _naive_utc_as_stored(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(naive_utc, "postgresql")
def _naive_utc_on_postgresql(element, compiler, **kw):
    return f"timezone('UTC', {compiler.process(element.clauses, **kw)})"


# The execution option `reading` marks a transaction that only reads (careplan.jobs: a solve's read of the
# clinic). On SQLite it begins deferred: in WAL mode it reads its snapshot beside a writer instead of taking
# the write lock, so it neither waits for a write nor makes the requests' transactions wait for it.
READING = "careplan_reading"


def reading(session) -> None:
    """The session's next transaction only reads (call it before its first statement). Elsewhere than on
    SQLite nothing changes; on SQLite a write in it could fail on a stale snapshot, so it must not write."""
    session.connection(execution_options={READING: True})


def tune_sqlite(engine: Engine, wait_seconds: float = 30.0) -> None:
    """WAL, foreign keys, and BEGIN IMMEDIATE so that concurrent writers queue instead of failing (a
    transaction marked `reading` begins deferred: it never writes, so it has nothing to queue for).

    The writers of this process queue on a lock of their own before they ask SQLite for its write lock.
    SQLite's busy handler only sleeps and tries again, waiting longer each time (up to 100 ms between
    tries), so a writer that has waited a while keeps missing the lock to writers that come and go between
    its tries: measured with two clients of `make run`, reads that write their audit line waited up to
    2.5 s behind 15 ms transactions. A lock the operating system wakes in turn serves them in order; only
    the one at its head ever meets SQLite's handler, for the moment a commit takes. Other processes on the
    same file (a `flask worker` beside `make run`) still meet it, as before."""
    turn = threading.Lock()
    holding = "careplan_write_turn"

    def _release(info) -> None:
        if info.pop(holding, False):
            turn.release()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(wait_seconds * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        if connection.get_execution_options().get(READING):
            connection.exec_driver_sql("BEGIN")
            return
        info = connection.connection.info
        # After the wait SQLite's own handler takes over (and fails as it always has, "database is locked").
        info[holding] = turn.acquire(timeout=wait_seconds)
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _release(info)
            raise

    # The turn passes on as the transaction ends; a connection returned to the pool or thrown away without
    # ending one (it is rolled back there) gives it up too.
    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _on_end(connection):
        # An invalidated connection (a lost database, an interrupt mid-statement) has given the turn up at
        # its pool's invalidate event, and asking it for its DBAPI connection raises: its rollback and close
        # would fail instead of ending the transaction.
        if not connection.invalidated:
            _release(connection.connection.info)

    @event.listens_for(engine.pool, "checkin")
    def _on_checkin(_dbapi_connection, record):
        if record is not None:
            _release(record.info)

    @event.listens_for(engine.pool, "invalidate")
    def _on_invalidate(_dbapi_connection, record, _exception):
        _release(record.info)
