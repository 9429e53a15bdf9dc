"""Why a session is unscheduled, in words a front desk can act on.

Each reason names the discipline and the plan week with its dates, says what
blocks it (the horizon, no qualified provider, nobody working inside the
patient's windows, calendars already full, the assessment, spacing, the
daily cap, waiting, other patients of the same run) and, when it can, what
would help: which extra patient availability would add options.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from . import ledger as rules
from .demand import Demand, intersect
from .ledger import Ledger
from .space import Booking, Space

_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def explain(space: Space, bookings: list[Booking]) -> list[tuple[Demand, str]]:
    """One (demand, reason) per session the schedule leaves unmet, in plan order."""
    booked = Counter(b.demand for b in bookings)
    final = Ledger(space)
    for booking in bookings:
        final.add(booking)
    out = []
    for demand in space.demands:
        missing = demand.count - booked[demand.index]
        if missing > 0:
            reason = _reason(space, final, demand, booked)
            out.extend((demand, reason) for _ in range(missing))
    return out


def _when(space: Space, demand: Demand) -> str:
    if demand.is_assessment:
        return "for the assessment"
    monday = space.clock.date(space.week0(demand.patient) + 7 * demand.week)
    sunday = monday + dt.timedelta(days=6)
    # People read this sentence and count a plan's weeks from 1; the `week` fields keep the problem's 0.
    return f"in plan week {demand.week + 1} ({_day(monday)}–{_day(sunday)})"


def _day(day: dt.date) -> str:
    """"Mon 4 Jan", as the clinic's pages write a day."""
    return f"{day:%a} {day.day} {day:%b}"


def _reason(space: Space, final: Ledger, demand: Demand, booked: Counter) -> str:
    clock = space.clock
    when = _when(space, demand)
    discipline = demand.discipline
    if not space.calendars.days(demand):
        last = clock.date(clock.days - 1)
        return (f"{discipline} {when} falls outside the scheduling horizon "
                f"({clock.first_day.day} {clock.first_day:%b}–{last.day} {last:%b %Y}); plan it in a later run or extend the horizon")
    if not space.calendars.qualified.get(discipline):
        return f"no provider of the clinic offers {discipline}; add a {discipline} provider or change the plan"
    # The contract asks that a session only the required clinician may take says so, naming them.
    required = space.problem.patients[demand.patient].required_providers.get(discipline)
    only = f"only {required} may give this patient {discipline} (required by the plan); " if required else ""
    first = space.assessment(demand.patient)
    if first is not None and not demand.is_assessment and booked[first.index] == 0:
        return only + (f"the {first.discipline} assessment could not be placed, and nothing can be booked before it; "
                f"{discipline} {when} waits for it (see the assessment's reason)")
    options = space.options(demand.index)
    help_text = _what_would_help(space, demand)
    if not options:
        return only + _no_option(space, demand, when) + help_text
    blocked = Counter()
    free = []
    for option in options:
        why = final.blocker(demand, option)
        if why is None:
            free.append(option)
        else:
            blocked[why] += 1
    if free:
        option = free[0]
        return only + (f"{discipline} {when} still had room (e.g. {clock.label(option.start)} with "
                f"{space.problem.providers[option.provider].id}) but the solver stopped before placing it; "
                f"allow more time")
    parts = [_blocker_words(space, demand, why, n) for why, n in blocked.most_common()]
    if len(options) == 1:
        lead = f"the only {discipline} option {when} inside the patient's windows is blocked: "
    else:
        lead = f"all {len(options)} {discipline} options {when} inside the patient's windows are blocked: "
    return only + lead + "; ".join(parts) + help_text


def _no_option(space: Space, demand: Demand, when: str) -> str:
    calendars = space.calendars
    patient = demand.patient
    days = calendars.days(demand)
    place = _no_place(space, demand, when)
    if place:
        return place
    if not any(calendars.patient_hours(patient, day) for day in days):
        return f"the patient is not available {when} on or after their earliest start, for {demand.discipline}"
    works_inside = any(
        high - low >= demand.minutes
        for day in days
        for provider in calendars.providers_for(patient, demand.discipline)
        for low, high in intersect(calendars.provider_hours(provider, day), calendars.patient_hours(patient, day))
    )
    if calendars.problem.patients[patient].required_providers.get(demand.discipline):
        if not works_inside:
            return f"they do not work inside the patient's windows {when}"
        return (f"they are already booked or away whenever the patient is available {when} "
                f"(for {demand.minutes} minutes)")
    if not works_inside:
        return f"no {demand.discipline} provider works inside the patient's windows {when}"
    return (f"every {demand.discipline} provider is already booked or away whenever the patient is available "
            f"{when} (for {demand.minutes} minutes)")


def _blocker_words(space: Space, demand: Demand, why: str, n: int) -> str:
    problem = space.problem
    patient = problem.patients[demand.patient]
    if why == rules.PROVIDER_TAKEN:
        return f"{n} taken by other patients booked in this run"
    if why == rules.BEFORE_ASSESSMENT:
        return f"{n} would come before the assessment, which must come first"
    if why == rules.PATIENT_BUSY:
        return (f"{n} clash with the patient's other appointments "
                f"(including {problem.transition_minutes} minutes to move between rooms)")
    if why == rules.SPACING:
        return f"{n} are too close to the patient's other {demand.discipline} sessions (spacing)"
    if why == rules.DAILY_CAP:
        return f"{n} fall on days already holding the patient's maximum of {patient.max_sessions_per_day} sessions"
    if why == rules.ROOM_TAKEN:
        kind = demand.room_kind
        return f"{n} find every {kind} room (of the right location) already held then"
    if why == rules.OTHER_LOCATION:
        return f"{n} are at another location than the patient's other sessions that day (one trip a day)"
    return f"{n} would leave the patient waiting more than {problem.max_wait_minutes} minutes between sessions"


def _part_of_day(minute_of_day: int) -> str:
    if minute_of_day < 12 * 60:
        return "mornings"
    return "afternoons" if minute_of_day < 17 * 60 else "evenings"


def _what_would_help(space: Space, demand: Demand) -> str:
    """Extra patient availability that would open options, best two first."""
    calendars = space.calendars
    clock = space.clock
    inside = {o.start for o in space.options(demand.index)}
    extra: dict[str, set[int]] = {}
    for day in calendars.days(demand):
        unbooked = calendars.patient_unbooked(demand.patient, day)
        for provider in calendars.providers_for(demand.patient, demand.discipline):
            both = intersect(calendars.provider_free(provider, day), unbooked)
            for start in calendars.starts_within(both, day, demand.minutes):
                if start not in inside:
                    local = clock.local(start)
                    key = f"{_DAY_NAMES[local.weekday()]} {_part_of_day(local.hour * 60 + local.minute)}"
                    extra.setdefault(key, set()).add(start)
    if not extra:
        return ""
    best = sorted(extra.items(), key=lambda item: (-len(item[1]), item[0]))[:2]
    words = [f"{key} would add {len(starts)} option{'s' if len(starts) > 1 else ''}" for key, starts in best]
    return "; availability on " + " and ".join(words)


def _no_place(space: Space, demand: Demand, when: str) -> str | None:
    """The extensions' reasons for a session with no option: virtual, locations, rooms."""
    problem = space.problem
    patient = problem.patients[demand.patient]
    if not demand.in_person and not demand.virtual:
        return (f"{demand.discipline} {when} is held by video only and the patient does not accept virtual "
                f"sessions; record their consent or make the line in person")
    if not demand.in_person:
        return None
    accepted = patient.locations
    if demand.room_kind is not None:
        places = {room.location for room in problem.rooms if room.kind == demand.room_kind}
        usable = places if accepted is None else places & accepted
        if not usable:
            where = "at the locations the patient accepts" if places else "in the clinic"
            return (f"{demand.discipline} {when} needs a {demand.room_kind} room and there is none {where}"
                    + ("; or hold it by video" if not demand.virtual and demand.mode != "in_person" else ""))
    if accepted is not None and problem.locations:
        calendars = space.calendars
        works = any(
            location in accepted
            for day in calendars.days(demand)
            for provider in calendars.providers_for(demand.patient, demand.discipline)
            for location in calendars.provider_locations(provider, day)
        )
        if not works and not demand.virtual:
            names = ", ".join(problem.locations[i].name for i in sorted(accepted))
            return f"no {demand.discipline} provider works {when} at the locations the patient accepts ({names})"
    return None
