"""The declarative base, the column types every model shares, and backend tuning.

Times are stored in UTC everywhere. SQLite has no time zone type: its
``DateTime(timezone=True)`` silently drops the offset, so `UTCDateTime`
normalises every value to UTC on the way in and marks it UTC on the way out.
"""
from __future__ import annotations

from datetime import datetime, time, timezone

from sqlalchemy import CheckConstraint, DateTime, MetaData, SmallInteger, Time, event
from sqlalchemy.engine import Engine
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


# The execution option `reading` marks a transaction that only reads (careplan.jobs: a solve's read of the
# clinic). On SQLite it begins deferred: in WAL mode it reads its snapshot beside a writer instead of taking
# the write lock, so it neither waits for a write nor makes the requests' transactions wait for it.
READING = "careplan_reading"


def reading(session) -> None:
    """The session's next transaction only reads (call it before its first statement). Elsewhere than on
    SQLite nothing changes; on SQLite a write in it could fail on a stale snapshot, so it must not write."""
    session.connection(execution_options={READING: True})


def tune_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, and BEGIN IMMEDIATE so that concurrent writers queue instead of failing (a
    transaction marked `reading` begins deferred: it never writes, so it has nothing to queue for)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN" if connection.get_execution_options().get(READING)
                                   else "BEGIN IMMEDIATE")
