"""Overlap queries carry a lower bound on starts_at, so the indexes read one range, and still miss nothing."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, text

from careplan.extensions import db
from careplan.schemas import SESSION_MINUTES
from careplan.scheduling.models import LONGEST_SESSION, Appointment, overlapping
from careplan.scheduling.service import appointments_between
from tests import factories

NOON = datetime(2027, 3, 3, 17, 0, tzinfo=timezone.utc)


def test_the_bound_is_the_longest_session_a_booking_may_have():
    assert LONGEST_SESSION == timedelta(minutes=SESSION_MINUTES[1])


def test_the_longest_session_that_still_runs_is_found_and_an_ended_one_is_not(ctx):
    provider = factories.provider()
    longest = factories.appointment(provider=provider, starts_at=NOON - LONGEST_SESSION + timedelta(minutes=1),
                                    minutes=SESSION_MINUTES[1])
    ended = factories.appointment(provider=provider, starts_at=NOON - timedelta(days=1), minutes=60)
    later = factories.appointment(provider=provider, starts_at=NOON + timedelta(hours=2), minutes=30)
    found = db.session.scalars(select(Appointment.id).where(
        overlapping(Appointment, NOON, NOON + timedelta(hours=3)))).all()
    assert set(found) == {longest.id, later.id} and ended.id not in found
    assert [a.id for a in appointments_between(NOON, NOON + timedelta(hours=1), provider_id=provider.id)] == [
        longest.id]
    open_ended = db.session.scalars(select(Appointment.id).where(overlapping(Appointment, NOON, None))).all()
    assert set(open_ended) == {longest.id, later.id}


def test_the_day_query_reads_the_start_index_not_the_table(ctx):
    if db.engine.dialect.name != "sqlite":
        # PostgreSQL's planner picks a scan of a test's few rows whatever the indexes; make bench shows it at scale.
        return
    statement = select(Appointment).where(overlapping(Appointment, NOON, NOON + timedelta(days=1)))
    compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
    plan = " ".join(row[-1] for row in db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
    assert "ix_appointments_starts_at" in plan and "SCAN appointments" not in plan


def test_the_flagged_appointments_to_come_read_the_partial_index_of_flagged_ones(ctx):
    if db.engine.dialect.name != "sqlite":
        # PostgreSQL's planner picks a scan of a test's few rows whatever the indexes; make bench shows it at scale.
        return
    from careplan.scheduling.attention import flagged_appointments

    statement = flagged_appointments(starts_from=NOON).limit(50)
    compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
    plan = " ".join(row[-1] for row in db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
    assert "ix_appointments_flagged_start" in plan, plan
