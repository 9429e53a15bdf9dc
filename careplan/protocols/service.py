"""Protocol templates: the clinic's treatment protocols as versioned data."""
from __future__ import annotations

import copy
import json
from pathlib import Path

from marshmallow import ValidationError
from sqlalchemy import select

from careplan import REPOSITORY
from careplan.caller import Caller
from careplan.clinic.service import discipline_codes
from careplan.errors import Conflict, Invalid
from careplan.extensions import db
from careplan.protocols.models import ProtocolTemplate
from careplan.protocols.schemas import TemplateSchema
from careplan.records import get_or_404

# The clinic's own protocols, loaded by `careplan load-protocols` on every deployment.
CLINIC_PROTOCOLS = REPOSITORY / "config" / "protocols"

# Typical recovery per severity (domain.md), in weeks: a template's phases must add up to this.
SEVERITY_WEEKS = {"mild": (4, 6), "moderate": (6, 12), "severe": (13, 26)}

_BODY_KEYS = ("assessment", "phases", "conditional_lines")


def list_templates(*, region: str | None = None, severity: str | None = None, all_versions: bool = False):
    query = select(ProtocolTemplate).order_by(ProtocolTemplate.condition, ProtocolTemplate.region,
                                              ProtocolTemplate.severity, ProtocolTemplate.version)
    if region:
        query = query.where(ProtocolTemplate.region == region)
    if severity:
        query = query.where(ProtocolTemplate.severity == severity)
    if not all_versions:
        newer = ProtocolTemplate.__table__.alias("newer")
        query = query.where(~select(newer.c.id).where(
            newer.c.condition == ProtocolTemplate.condition, newer.c.region == ProtocolTemplate.region,
            newer.c.severity == ProtocolTemplate.severity, newer.c.version > ProtocolTemplate.version).exists())
    return query


def get_template(template_id: int) -> ProtocolTemplate:
    return get_or_404(ProtocolTemplate, template_id, f"No protocol template {template_id}.")


def current_template(condition: str, region: str, severity: str) -> ProtocolTemplate | None:
    return db.session.scalar(select(ProtocolTemplate).where(
        ProtocolTemplate.condition == condition, ProtocolTemplate.region == region,
        ProtocolTemplate.severity == severity).order_by(ProtocolTemplate.version.desc()).limit(1))


def discipline_problems(assessment: dict | None, phases: list[dict], known: set[str] | None = None) -> dict[str, str]:
    """Each assessment or session line naming a discipline the clinic does not offer (`known`, read
    from the database when not given), by its path."""
    known = discipline_codes() if known is None else known
    problems: dict[str, str] = {}
    if assessment and assessment["discipline"] not in known:
        problems["assessment.discipline"] = f"unknown discipline '{assessment['discipline']}'"
    for p, phase in enumerate(phases):
        for s, line in enumerate(phase["sessions"]):
            if line["discipline"] not in known:
                problems[f"phases[{p}].sessions[{s}].discipline"] = f"unknown discipline '{line['discipline']}'"
    return problems


def check_body(body: dict, severity: str) -> None:
    """What a schema cannot see: disciplines the clinic offers, and a length that fits the severity."""
    known = discipline_codes()
    problems = discipline_problems(body.get("assessment"), body["phases"], known)
    for c, conditional in enumerate(body.get("conditional_lines", [])):
        if conditional["line"]["discipline"] not in known:
            problems[f"conditional_lines[{c}].line.discipline"] = \
                f"unknown discipline '{conditional['line']['discipline']}'"
        if conditional.get("instead_of") and conditional["instead_of"] not in known:
            problems[f"conditional_lines[{c}].instead_of"] = f"unknown discipline '{conditional['instead_of']}'"
    low, high = SEVERITY_WEEKS[severity]
    total = sum(phase["weeks"] for phase in body["phases"])
    if not low <= total <= high:
        problems["phases"] = f"the phases add up to {total} weeks; {severity} care lasts {low} to {high} weeks"
    if problems:
        raise Invalid("This protocol does not fit the clinic's disciplines or the severity's length.",
                      fields=problems)


def _body(data: dict) -> dict:
    return {key: copy.deepcopy(data[key]) for key in _BODY_KEYS if key in data}


def _new_row(data: dict, version: int, user_id: int | None) -> ProtocolTemplate:
    body = _body(data)
    check_body(body, data["severity"])
    return ProtocolTemplate(condition=data["condition"], region=data["region"], severity=data["severity"],
                            version=version, name=data["name"], note=data.get("note", ""), body=body,
                            created_by_id=user_id)


def create_template(data: dict, *, caller: Caller) -> ProtocolTemplate:
    if current_template(data["condition"], data["region"], data["severity"]) is not None:
        raise Conflict(f"A {data['severity']} {data['region']} {data['condition']} protocol exists already; "
                       "add a version to it instead.", fields={"region": "already has a protocol of this severity"})
    template = _new_row(data, 1, caller.user_id)
    db.session.add(template)
    db.session.commit()
    return template


def _next_version(base: ProtocolTemplate, data: dict, user_id: int | None) -> ProtocolTemplate:
    latest = current_template(base.condition, base.region, base.severity)
    merged = {"condition": base.condition, "region": base.region, "severity": base.severity,
              "name": data.get("name") or latest.name, "note": data.get("note", ""),
              **{key: latest.body.get(key) for key in _BODY_KEYS}, **_body(data)}
    return _new_row(merged, latest.version + 1, user_id)


def new_version(template_id: int, data: dict, *, caller: Caller) -> ProtocolTemplate:
    """An edit: the next version of the template's condition, region and severity; older versions stay."""
    template = _next_version(get_template(template_id), data, caller.user_id)
    db.session.add(template)
    db.session.commit()
    return template


def apply_conditions(template: ProtocolTemplate, conditions: set[str]) -> list[dict]:
    """The template's phases with the conditional lines the intake calls for added or swapped in."""
    phases = copy.deepcopy(template.phases)
    by_name = {phase["name"]: phase for phase in phases}
    for conditional in template.conditional_lines:
        if conditional["when"] not in conditions:
            continue
        for name in conditional["phases"]:
            lines = by_name[name]["sessions"]
            target = conditional.get("instead_of") or conditional["line"]["discipline"]
            positions = [i for i, line in enumerate(lines) if line["discipline"] == target]
            if positions:
                lines[positions[0]] = copy.deepcopy(conditional["line"])
            elif not conditional.get("instead_of"):
                lines.append(copy.deepcopy(conditional["line"]))
    return phases


def load_directory(directory: Path, *, user_id: int | None = None) -> list[ProtocolTemplate]:
    """Templates from JSON files: new ones are created, changed ones get a version, equal ones are left."""
    loaded = []
    schema = TemplateSchema()
    for path in sorted(directory.glob("*.json")):
        try:
            data = schema.load(json.loads(path.read_text()))
        except ValidationError as exc:
            raise Invalid(f"{path.name} is not a valid protocol template.",
                          fields={f"{path.name}:{k}": str(v) for k, v in exc.normalized_messages().items()}) from None
        current = current_template(data["condition"], data["region"], data["severity"])
        if current is None:
            template = _new_row(data, 1, user_id)
        elif current.body != _body(data) or current.name != data["name"]:
            template = _next_version(current, {**data, "note": data.get("note") or f"loaded from {path.name}"},
                                     user_id)
        else:
            loaded.append(current)
            continue
        db.session.add(template)
        db.session.flush()
        loaded.append(template)
    db.session.commit()
    return loaded
