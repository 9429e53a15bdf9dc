"""Protocol templates: the domain's lengths and frequencies as data, versioned, never reaching back into plans."""
import copy

import pytest

from careplan.extensions import db
from careplan.protocols.service import SEVERITY_WEEKS
from tests import factories


def _template(region, severity):
    """(id, phases) of the loaded template, with the test's read transaction ended so requests can write."""
    template = next(t for t in factories.protocols() if (t.region, t.severity) == (region, severity))
    found = template.id, copy.deepcopy(template.phases)
    db.session.commit()
    return found

COMBINATIONS = [(region, severity) for region in ("cervical", "thoracic", "lumbar")
                for severity in ("mild", "moderate", "severe")]


@pytest.mark.parametrize("region,severity", COMBINATIONS)
def test_each_region_and_severity_gives_a_plan_of_the_domain_length(client, auth, ctx, region, severity):
    factories.protocols()
    patient = factories.patient()
    response = client.post("/api/v1/plans", headers=auth("front_desk"), json={
        "patient_id": patient.id, "region": region, "severity": severity, "start_date": "2027-01-06"})
    assert response.status_code == 201, response.get_json()
    plan = response.get_json()
    low, high = SEVERITY_WEEKS[severity]
    assert low <= plan["total_weeks"] <= high
    assert {"mild": (4, 6), "moderate": (6, 12), "severe": (13, 26)}[severity] == (low, high)
    assert [p["name"] for p in plan["phases"]] == ["acute", "subacute", "maintenance"]
    assert plan["assessment"] == {"discipline": "physiotherapy", "minutes": 60}
    assert all(p["purpose"] for p in plan["phases"])
    acute, subacute, maintenance = plan["phases"]
    lines = {p["name"]: {s["discipline"]: s for s in p["sessions"]} for p in plan["phases"]}
    # Acute calms the irritation: physiotherapy twice a week, two days apart, massage and nutrition.
    assert lines["acute"]["physiotherapy"]["per_week"] == 2 and lines["acute"]["physiotherapy"]["min_gap_days"] == 2
    assert {"massage", "nutrition"} <= set(lines["acute"])
    # Subacute restores strength and function; maintenance prevents recurrence with a lighter rhythm.
    assert {"kinesiology", "chiropractic"} <= set(lines["subacute"])
    assert "kinesiology" in lines["maintenance"]
    assert sum(s["per_week"] / s["every_weeks"] for s in maintenance["sessions"]) < \
        sum(s["per_week"] / s["every_weeks"] for s in acute["sessions"])
    # Phases follow one another from plan week 0, the Monday-to-Sunday week holding the start date.
    assert acute["starts_on"] == "2027-01-06" and acute["first_week"] == 0
    assert subacute["first_week"] == acute["weeks"]
    assert maintenance["first_week"] == acute["weeks"] + subacute["weeks"]
    assert plan["ends_on"] == maintenance["ends_on"]


def test_severity_lengths_grow(ctx):
    by_key = {(t.region, t.severity): t.total_weeks for t in factories.protocols()}
    assert len(by_key) == 9
    for region in ("cervical", "thoracic", "lumbar"):
        assert by_key[(region, "mild")] < by_key[(region, "moderate")] < by_key[(region, "severe")]


def test_conditional_lines_add_psychotherapy_and_swap_massage_for_acupuncture(ctx):
    factories.protocols()
    plain = factories.plan()
    both = factories.plan(pain_stress_or_insomnia=True, prefers_acupuncture=True)

    def disciplines(plan):
        return {p.name: sorted(line.discipline_code for line in p.lines) for p in plan.phases}

    assert "psychotherapy" not in disciplines(plain)["acute"]
    assert "psychotherapy" in disciplines(both)["acute"] and "psychotherapy" in disciplines(both)["subacute"]
    for name in ("acute", "maintenance"):
        assert "massage" in disciplines(plain)[name]
        assert "massage" not in disciplines(both)[name] and "acupuncture" in disciplines(both)[name]
    massage = next(l for l in plain.phases[2].lines if l.discipline_code == "massage")
    acupuncture = next(l for l in both.phases[2].lines if l.discipline_code == "acupuncture")
    assert (massage.per_week, massage.every_weeks) == (acupuncture.per_week, acupuncture.every_weeks)


def test_admin_edits_make_versions_and_plans_keep_what_they_were_built_from(client, auth, app):
    # Without `ctx`: each request then gets its own app context, so each caller is seen afresh.
    with app.app_context():
        lumbar_id, phases = _template("lumbar", "moderate")
        patient_id = factories.patient().id
    admin = auth("admin")
    desk = auth("front_desk")
    before = client.post("/api/v1/plans", headers=desk, json={
        "patient_id": patient_id, "region": "lumbar", "severity": "moderate"}).get_json()

    phases[0]["weeks"] += 1
    phases[0]["sessions"][0]["per_week"] = 3
    assert client.post(f"/api/v1/protocols/{lumbar_id}/versions", headers=desk,
                       json={"phases": phases, "note": "more"}).status_code == 403
    edited = client.post(f"/api/v1/protocols/{lumbar_id}/versions", headers=admin,
                         json={"phases": phases, "note": "Three physiotherapy sessions in the first weeks."})
    assert edited.status_code == 201, edited.get_json()
    assert edited.get_json()["version"] == 2 and edited.get_json()["phases"][0]["weeks"] == phases[0]["weeks"]

    unchanged = client.get(f"/api/v1/plans/{before['id']}", headers=desk).get_json()
    assert unchanged["phases"] == before["phases"] and unchanged["template"]["version"] == 1
    after = client.post("/api/v1/plans", headers=desk, json={
        "patient_id": patient_id, "region": "lumbar", "severity": "moderate"}).get_json()
    assert after["template"]["version"] == 2 and after["phases"][0]["sessions"][0]["per_week"] == 3

    current = client.get("/api/v1/protocols?region=lumbar&severity=moderate", headers=desk).get_json()
    assert [t["version"] for t in current] == [2]
    every = client.get("/api/v1/protocols?region=lumbar&severity=moderate&all_versions=true", headers=desk)
    assert [t["version"] for t in every.get_json()] == [1, 2]
    assert client.get(f"/api/v1/protocols/{lumbar_id}", headers=desk).get_json()["version"] == 1


def test_a_template_must_fit_its_severity_and_the_clinic_disciplines(client, auth, ctx):
    lumbar_id, phases = _template("lumbar", "mild")
    admin = auth("admin")
    long_phases = copy.deepcopy(phases)
    long_phases[1]["weeks"] = 10
    response = client.post(f"/api/v1/protocols/{lumbar_id}/versions", headers=admin,
                           json={"phases": long_phases, "note": "longer"})
    assert response.status_code == 422 and "4 to 6 weeks" in response.get_json()["error"]["fields"]["phases"]
    odd = copy.deepcopy(phases)
    odd[0]["sessions"][0]["discipline"] = "reiki"
    response = client.post(f"/api/v1/protocols/{lumbar_id}/versions", headers=admin, json={"phases": odd, "note": "x"})
    assert response.get_json()["error"]["fields"] == {"phases[0].sessions[0].discipline": "unknown discipline 'reiki'"}
    for minutes, words in ((50.5, "whole number of minutes"), (0, "between 5 and 480"), (-45, "between 5 and 480")):
        odd = copy.deepcopy(phases)
        odd[0]["sessions"][0]["minutes"] = minutes
        response = client.post(f"/api/v1/protocols/{lumbar_id}/versions", headers=admin,
                               json={"phases": odd, "note": "x"})
        assert response.status_code == 422
        assert words in response.get_json()["error"]["fields"]["phases[0].sessions[0].minutes"]
    duplicate = {"region": "lumbar", "severity": "mild", "name": "Another", "phases": phases}
    assert client.post("/api/v1/protocols", headers=admin, json=duplicate).status_code == 409


def test_admin_creates_a_template_where_none_exists(client, auth):
    body = {"region": "cervical", "severity": "mild", "name": "Short cervical care",
            "assessment": {"discipline": "chiropractic", "minutes": 45},
            "phases": [{"name": "acute", "weeks": 2, "purpose": "Ease the pain.",
                        "sessions": [{"discipline": "physiotherapy", "per_week": 2, "minutes": 45}]},
                       {"name": "maintenance", "weeks": 2, "purpose": "Keep it away.",
                        "sessions": [{"discipline": "kinesiology", "per_week": 1, "minutes": 60}]}]}
    response = client.post("/api/v1/protocols", headers=auth("admin"), json=body)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["version"] == 1 and created["total_weeks"] == 4
    assert created["phases"][0]["sessions"][0] == {"discipline": "physiotherapy", "per_week": 2, "minutes": 45,
                                                   "every_weeks": 1, "min_gap_days": 1}
    backwards = {**body, "phases": list(reversed(body["phases"]))}
    response = client.post("/api/v1/protocols", headers=auth("admin"), json=backwards)
    assert response.status_code == 422 and "phases" in response.get_json()["error"]["fields"]


def test_loading_the_files_again_adds_versions_only_for_changed_files(ctx, tmp_path):
    from careplan import REPOSITORY
    from careplan.protocols.models import ProtocolTemplate
    from careplan.protocols.service import load_directory

    first = {(t.region, t.severity): t.id for t in factories.protocols()}
    again = factories.protocols()
    assert [t.version for t in again] == [1] * 9 and {t.id for t in again} == set(first.values())
    source = REPOSITORY / "config" / "protocols" / "radiculopathy-lumbar-mild.json"
    (tmp_path / source.name).write_text(source.read_text().replace('"weeks": 1', '"weeks": 2', 1))
    (changed,) = load_directory(tmp_path)
    assert changed.version == 2 and changed.total_weeks == 6
    kept = db.session.get(ProtocolTemplate, first[("lumbar", "mild")])
    assert kept.version == 1 and kept.total_weeks == 5


def test_the_demo_clinic_has_templates_and_plans(ctx):
    from careplan.demo import load_demo
    from careplan.plans.models import CarePlan
    from careplan.protocols.models import ProtocolTemplate

    load_demo()
    assert db.session.query(ProtocolTemplate).count() == 9
    plans = db.session.query(CarePlan).order_by(CarePlan.id).all()
    assert sorted(p.status for p in plans) == ["active", "draft", "draft", "draft"]
    assert any(p.referral_signs for p in plans) and all(p.versions for p in plans)
