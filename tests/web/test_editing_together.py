"""Two people editing the same patient, provider or plan on the pages: the forms carry the version they were
filled from, and a save from an older one shows the current record instead of overwriting it."""
from __future__ import annotations

import re

import pytest

from careplan.extensions import db
from careplan.patients.models import Patient
from careplan.plans.models import CarePlan
from careplan.providers.models import Provider
from tests import factories

CHANGED = "changed by someone else while you were editing"


def form_of(html: str) -> dict:
    """The values an edit form was filled with (inputs, ticked boxes, selected options, text areas), as a
    browser would send them; a name sent more than once (ticked disciplines) gives a list."""
    pairs = []
    for tag in re.findall(r"<input [^>]*>", html):
        name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
        if not name or ('type="checkbox"' in tag and " checked" not in tag):
            continue
        pairs.append((name[1], value[1] if value else "on"))
    for name, options in re.findall(r'<select [^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        pairs += [(name, chosen) for chosen in re.findall(r'<option value="([^"]*)" selected', options)]
    pairs += re.findall(r'<textarea [^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S)
    form: dict = {}
    for name, value in pairs:
        value = value.replace("&#39;", "'").replace("&amp;", "&")
        form[name] = [*form[name], value] if isinstance(form.get(name), list) else \
            [form[name], value] if name in form else value
    return form


@pytest.fixture
def pages(app, auth):
    """(url, headers, changed field, model) of each edit page."""
    with app.app_context():
        factories.protocols()
        provider_id = factories.provider(name="Priya Raman", disciplines=("physiotherapy",)).id
        plan = factories.plan()
        plan_id, patient_id = plan.id, plan.patient_id
    return {
        "patient": (f"/desk/patients/{patient_id}", auth("front_desk"), "phone", Patient, patient_id),
        "provider": (f"/admin/providers/{provider_id}", auth("admin"), "phone", Provider, provider_id),
        "plan": (f"/desk/plans/{plan_id}", auth("front_desk"), "start_date", CarePlan, plan_id),
    }


def _edited(form: dict, field: str, value: str) -> dict:
    edited = dict(form, **{field: value})
    if "reason" in edited:  # the plan editor asks why
        edited["reason"] = f"Set {field} to {value}."
    return edited


VALUES = {"phone": ("416-555-0001", "416-555-0002"), "start_date": ("2027-01-11", "2027-01-18")}


@pytest.mark.parametrize("kind", ("patient", "provider", "plan"))
def test_a_save_from_an_older_version_shows_the_current_one_and_saves_nothing(client, app, pages, kind):
    url, headers, field, model, key = pages[kind]
    first = form_of(client.get(url, headers=headers).text)
    second = dict(first)
    assert first["version"] == "1"
    first_value, second_value = VALUES[field]

    assert client.post(url, headers=headers, data=_edited(first, field, first_value)).status_code == 302
    refused = client.post(url, headers=headers, data=_edited(second, field, second_value))
    assert refused.status_code == 409
    assert CHANGED in refused.text and "Nothing you sent was saved" in refused.text
    shown = form_of(refused.text)
    assert shown[field] == first_value and shown["version"] == "2"
    with app.app_context():
        assert str(getattr(db.session.get(model, key), field)) == first_value

    # Made again on the current version, the change goes through.
    assert client.post(url, headers=headers, data=_edited(shown, field, second_value)).status_code == 302
    with app.app_context():
        assert str(getattr(db.session.get(model, key), field)) == second_value


@pytest.mark.parametrize("kind", ("patient", "provider", "plan"))
def test_a_save_overtaken_at_the_database_shows_the_same_page(client, app, pages, writer_in_between, kind):
    url, headers, field, model, key = pages[kind]
    form = form_of(client.get(url, headers=headers).text)
    writer_in_between.append((model, key))
    refused = client.post(url, headers=headers, data=_edited(form, field, VALUES[field][0]))
    assert refused.status_code == 409 and CHANGED in refused.text
    with app.app_context():
        assert str(getattr(db.session.get(model, key), field)) != VALUES[field][0]


def test_a_refused_form_keeps_the_version_it_was_filled_from(client, app, pages):
    url, headers, _, _, _ = pages["patient"]
    form = form_of(client.get(url, headers=headers).text)
    refused = client.post(url, headers=headers, data=dict(form, name=""))
    assert refused.status_code == 422 and form_of(refused.text)["version"] == "1"
