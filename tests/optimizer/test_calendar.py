"""Local wall times, the slot grid and UTC offsets across daylight-saving changes."""

from __future__ import annotations

import datetime as dt

from careplan.optimizer.calendar import Clock

from .builders import line, patient, problem, provider, solved, window

EVERY_MORNING = [window(d, "08:00", "12:00") for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]


def test_offsets_change_with_the_clocks_in_toronto():
    doc = problem([provider("pt", ["physiotherapy"], EVERY_MORNING)],
                  [patient("p", EVERY_MORNING, [line("physiotherapy")], weeks=2, earliest="2027-03-08")],
                  start="2027-03-08", weeks=2)
    solution = solved(doc)
    starts = sorted(a["start"] for a in solution["appointments"])
    assert starts[0][:10] == "2027-03-08" and starts[0].endswith("-05:00")
    assert "2027-03-15" <= starts[1][:10] <= "2027-03-21" and starts[1].endswith("-04:00")


def test_an_appointment_across_the_skipped_hour_lasts_its_real_minutes():
    # 01:00-03:30 on 14 March is only 90 real minutes; a 60-minute session
    # must start by 01:30 EST and ends after 03:00 EDT. 02:xx never exists.
    night = [window("sun", "01:00", "03:30")]
    doc = problem([provider("pt", ["physiotherapy"], night)],
                  [patient("p", night, [line("physiotherapy")], earliest="2027-03-14")],
                  start="2027-03-08", max_wait=None)
    solution = solved(doc)
    [appointment] = solution["appointments"]
    start = dt.datetime.fromisoformat(appointment["start"])
    end = dt.datetime.fromisoformat(appointment["end"])
    assert appointment["start"].endswith("-05:00") and appointment["end"].endswith("-04:00")
    assert end - start == dt.timedelta(minutes=60)
    assert start.hour == 1


def test_grid_skips_the_missing_hour_and_repeats_the_doubled_one():
    clock = Clock("America/Toronto", dt.date(2027, 3, 1), 40, 15)
    spring = clock.day_index(dt.date(2027, 3, 14))
    autumn = clock.day_index(dt.date(2027, 11, 7))
    assert len(clock.grid(spring)) == 96 - 4
    assert len(clock.grid(autumn)) == 96 + 4
    assert all(clock.local(m).hour != 2 for m in clock.grid(spring))
    repeated = [clock.iso(m) for m in clock.grid(autumn) if clock.local(m).hour == 1 and clock.local(m).minute == 30]
    assert repeated == ["2027-11-07T01:30:00-04:00", "2027-11-07T01:30:00-05:00"]


def test_wall_windows_map_to_real_minutes_on_the_change_day():
    clock = Clock("America/Toronto", dt.date(2027, 3, 8), 1, 15)
    sunday = clock.day_index(dt.date(2027, 3, 14))
    assert clock.wall_minute(sunday, 12 * 60) - clock.wall_minute(sunday, 0) == 11 * 60
    assert clock.wall_minute(sunday, 24 * 60) - clock.wall_minute(sunday, 0) == 23 * 60
