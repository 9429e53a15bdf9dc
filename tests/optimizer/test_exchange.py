"""Clinicians exchanged between patients at fixed times: fewer breaks, nothing else moves."""

from __future__ import annotations

from careplan.optimizer import check
from careplan.optimizer.batch import Batch
from careplan.optimizer.exchange import exchange
from careplan.optimizer.metrics import score
from careplan.optimizer.problem import parse
from careplan.optimizer.solution import document
from careplan.optimizer.space import Booking, Space

from .builders import line, patient, problem, provider, window

MON_TUE = [window("mon", "09:00", "10:00"), window("tue", "09:00", "10:00")]


def _two_crossed(preferred: dict | None = None) -> tuple[dict, Space, list[Booking]]:
    """Two patients, two physiotherapists, both free only at 9:00 on Monday and Tuesday: each patient
    sees one on Monday and the other on Tuesday, crosswise. No single patient's re-solve can mend that."""
    doc = problem([provider("pt-a", ["physiotherapy"], MON_TUE), provider("pt-b", ["physiotherapy"], MON_TUE)],
                  [patient("p-1", MON_TUE, [line("physiotherapy", per_week=2)], preferred=preferred),
                   patient("p-2", MON_TUE, [line("physiotherapy", per_week=2)])])
    space = Space(parse(doc))
    a, b = (space.problem.provider(pid).index for pid in ("pt-a", "pt-b"))

    def at(patient_index: int, who: int, weekday: int) -> Booking:
        demand = space.by_patient[patient_index][0].index
        option = next(o for o in space.options(demand) if o.provider == who and o.day == weekday)
        return Booking(demand, *option)

    crossed = [at(0, a, 0), at(0, b, 1), at(1, b, 0), at(1, a, 1)]
    return doc, space, crossed


def _breaks(space: Space, bookings: list[Booking]) -> int:
    return score(space, bookings)[3]


def test_crossed_clinicians_are_exchanged_and_every_time_kept():
    doc, space, crossed = _two_crossed()
    assert _breaks(space, crossed) == 2
    exchanged, _, _ = exchange(space, crossed, set(), 5.0, True)
    assert _breaks(space, exchanged) == 0
    assert [(b.demand, b.start, b.end, b.day) for b in exchanged] == [(b.demand, b.start, b.end, b.day)
                                                                      for b in crossed]
    assert score(space, exchanged)[:3] == score(space, crossed)[:3]
    assert check(doc, document(space, exchanged, "FEASIBLE", 0.0)) == []


def test_a_pinned_appointment_keeps_its_clinician():
    # p-1's two appointments pinned (a re-plan's current ones): p-1 keeps both clinicians, and so must
    # p-2, who can only have the other one each day.
    _, space, crossed = _two_crossed()
    exchanged, _, _ = exchange(space, crossed, {crossed[0], crossed[1]}, 5.0, True)
    assert exchanged == crossed
    # One pinned: the other of p-1's appointments follows it, and p-2 gets the other clinician.
    exchanged, _, _ = exchange(space, crossed, {crossed[1]}, 5.0, True)
    assert crossed[1] in exchanged and _breaks(space, exchanged) == 0


def test_among_equal_breaks_the_preferred_clinician_wins():
    _, space, crossed = _two_crossed(preferred={"physiotherapy": "pt-b"})
    exchanged, _, _ = exchange(space, crossed, set(), 5.0, True)
    b = space.problem.provider("pt-b").index
    assert [x.provider for x in exchanged if space.demands[x.demand].patient == 0] == [b, b]
    assert score(space, exchanged)[6] == 0


def test_a_clinician_never_holds_two_appointments_at_once():
    # Only pt-a works on Tuesday: the exchange must not give pt-a both patients' Tuesday sessions.
    doc = problem([provider("pt-a", ["physiotherapy"], MON_TUE),
                   provider("pt-b", ["physiotherapy"], [window("mon", "09:00", "10:00")]),
                   provider("pt-c", ["physiotherapy"], [window("tue", "09:00", "10:00")])],
                  [patient("p-1", MON_TUE, [line("physiotherapy", per_week=2)]),
                   patient("p-2", MON_TUE, [line("physiotherapy", per_week=2)])])
    space = Space(parse(doc))
    a, b, c = (space.problem.provider(pid).index for pid in ("pt-a", "pt-b", "pt-c"))

    def at(patient_index: int, who: int, weekday: int) -> Booking:
        demand = space.by_patient[patient_index][0].index
        return Booking(demand, *next(o for o in space.options(demand) if o.provider == who and o.day == weekday))

    start = [at(0, b, 0), at(0, a, 1), at(1, a, 0), at(1, c, 1)]
    exchanged, _, _ = exchange(space, start, set(), 5.0, True)
    assert check(doc, document(space, exchanged, "FEASIBLE", 0.0)) == []
    # One of the two keeps a break (two clinicians a day, each day a different pair); the other none.
    assert _breaks(space, exchanged) == 1


def test_the_batch_ends_with_the_exchange():
    doc, space, crossed = _two_crossed()
    with Batch(space, crossed, 0.0, True, lambda message: None) as batch:
        batch.budget = 1.0
        batch._exchange()
        assert _breaks(space, batch.bookings()) == 0
