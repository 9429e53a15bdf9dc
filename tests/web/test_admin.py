"""The administrator's pages: protocol templates and a new version, accounts, the audit search."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from careplan.auth.models import User
from careplan.protocols.service import CLINIC_PROTOCOLS as PROTOCOLS
from careplan.extensions import db
from careplan.protocols import service as protocols
from careplan.protocols.service import load_directory
from tests import factories
from tests.web.conftest import book


def test_an_admin_saves_a_new_version_of_a_template(client, app, auth):
    with app.app_context():
        load_directory(PROTOCOLS)
        template = protocols.current_template("radiculopathy", "lumbar", "moderate")
        template_id, phases, version = template.id, template.body["phases"], template.version
    admin = auth("admin")
    listing = client.get("/admin/templates", headers=admin).text
    assert f'/admin/templates/{template_id}"' in listing
    form = {"name": "Moderate lumbar radiculopathy", "note": ""}
    for p, phase in enumerate(phases):
        form[f"phases-{p}-weeks"] = str(phase["weeks"])
        form[f"phases-{p}-purpose"] = phase["purpose"]
        for s, line in enumerate(phase["sessions"]):
            for part in ("per_week", "every_weeks", "minutes", "min_gap_days"):
                form[f"phases-{p}-sessions-{s}-{part}"] = str(line.get(part, 1))
    refused = client.post(f"/admin/templates/{template_id}", headers=admin, data=form)
    assert refused.status_code == 422 and 'href="#note"' in refused.text
    form.update({"note": "Four acute weeks, per the 2026 guideline.", "phases-0-weeks": "4"})
    saved = client.post(f"/admin/templates/{template_id}", headers=admin, data=form)
    assert saved.status_code == 302
    with app.app_context():
        latest = protocols.current_template("radiculopathy", "lumbar", "moderate")
        assert latest.version == version + 1 and latest.body["phases"][0]["weeks"] == 4
        assert latest.note == "Four acute weeks, per the 2026 guideline."
    assert client.get("/admin/templates", headers=auth("front_desk")).status_code == 403


def test_an_admin_creates_disables_and_changes_the_role_of_accounts(client, app, auth):
    admin = auth("admin")
    refused = client.post("/admin/users", headers=admin, data={"email": "new@clinic.example", "role": "provider"})
    assert refused.status_code == 422 and 'href="#provider_id">Clinician' in refused.text
    made = client.post("/admin/users", headers=admin,
                       data={"email": "Desk2@clinic.example", "role": "front_desk", "password": "long enough pw"})
    assert made.status_code == 302
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == "desk2@clinic.example"))
    assert client.post(f"/admin/users/{user_id}", headers=admin, data={"active": "false"}).status_code == 302
    assert client.post(f"/admin/users/{user_id}", headers=admin, data={"role": "admin"}).status_code == 302
    with app.app_context():
        user = db.session.get(User, user_id)
        assert (user.active, user.role) == (False, "admin")
    page = client.get("/admin/users?q=desk2", headers=admin).text
    assert "desk2@clinic.example" in page and "Disabled" in page


def test_the_audit_search_finds_who_read_a_patient_s_notes(client, app, auth):
    with app.app_context():
        clinician = factories.provider()
        patient = factories.patient()
        book(patient.id, clinician.id, "physiotherapy", datetime(2027, 1, 12, 14, tzinfo=UTC))
        ids = clinician.id, patient.id
    assert client.get(f"/me/patients/{ids[1]}", headers=auth("provider", provider_id=ids[0])).status_code == 200
    admin = auth("admin")
    found = client.get(f"/admin/audit?patient_id={ids[1]}&action=read&resource=note", headers=admin)
    assert found.status_code == 200 and "listed notes" in found.text and "1 event," in found.text
    wrong = client.get("/admin/audit?from=2027-01-02T00:00&to=2027-01-01T00:00", headers=admin)
    assert "must be after" in wrong.text


def test_the_accounts_read_as_cards_on_a_phone(app, person, tab):
    """Found in use at 390 px: five columns left the e-mail column three letters wide."""
    from tests.web.conftest import PHONE, screenshot, sign_in

    admin = person("admin")
    with app.app_context():
        from careplan.auth import service as accounts

        accounts.create_user(email="reception.desk.morning@riverside-clinic.example", role="front_desk",
                             password=None)
    page = tab(PHONE)
    sign_in(page, admin)
    page.goto("/admin/users")
    cell = page.locator("td.cell-email", has_text="reception.desk.morning@riverside-clinic.example")
    screenshot(page, "admin-users-390")
    assert cell.bounding_box()["width"] > PHONE["width"] * 0.6
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # Each line says what it is.
    role = cell.locator("xpath=following-sibling::td[1]")
    assert page.evaluate("el => getComputedStyle(el, '::before').content", role.element_handle()) == '"Role: "'
