"""A small clinic with one booked plan, for the FHIR and calendar tests."""
from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from tests import factories

TORONTO = ZoneInfo("America/Toronto")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=TORONTO)


@pytest.fixture
def clinic(app):
    """Two providers on Martha's plan, a third on no team; appointments of every status across the 2027 DST change."""
    with app.app_context():
        physio = factories.provider(name="Ana Moreau", disciplines=("physiotherapy",), hours="mon-fri 08:00-16:00")
        masseur = factories.provider(name="Marc Tremblay", disciplines=("massage",), hours="mon-thu 11:00-19:00")
        outsider = factories.provider(name="Hugo Bellamy", disciplines=("chiropractic",))
        martha = factories.patient(name="Martha Kowalski")
        james = factories.patient(name="James O'Neill")
        plan = factories.care_plan(martha, {"physiotherapy": physio, "massage": masseur}, assessment="physiotherapy",
                                   phases=(("acute", 2, "Calm the irritation",
                                            [("physiotherapy", 2, 1, 45), ("massage", 1, 1, 60)]),
                                           ("subacute", 3, "Restore strength", [("physiotherapy", 1, 2, 45)])))
        at = factories.appointment
        appointments = SimpleNamespace(
            assessment=at(martha, physio, local(2027, 3, 1, 9), minutes=60, kind="assessment", plan_id=plan.id),
            before_dst=at(martha, physio, local(2027, 3, 12, 9), plan_id=plan.id, phase_name="acute",
                          plan_week=2, status="confirmed", sequence=1),
            after_dst=at(martha, physio, local(2027, 3, 15, 9), plan_id=plan.id, phase_name="subacute",
                         plan_week=3),
            massage=at(martha, masseur, local(2027, 3, 3, 11), minutes=60, discipline="massage", plan_id=plan.id,
                       phase_name="acute", plan_week=1, status="completed"),
            cancelled=at(martha, masseur, local(2027, 3, 10, 11), minutes=60, discipline="massage",
                         plan_id=plan.id, phase_name="acute", plan_week=2, status="cancelled",
                         cancel_reason="Patient has the flu", sequence=2),
            no_show=at(martha, physio, local(2027, 3, 4, 9), plan_id=plan.id, phase_name="acute", plan_week=1,
                       status="no_show"),
            one_off=at(james, outsider, local(2027, 3, 16, 10), discipline="chiropractic"),
        )
        return SimpleNamespace(
            physio=physio.id, masseur=masseur.id, outsider=outsider.id, martha=martha.id, james=james.id,
            plan=plan.id, appointments=SimpleNamespace(**{k: v.id for k, v in vars(appointments).items()}))
