"""The CapabilityStatement at /fhir/metadata, built from the same registry the routes serve."""
from __future__ import annotations

from careplan.clinic import service as clinic
from careplan.db import utcnow

SEARCH_PARAM_DOCS = {
    "_id": "the resource's id (comma-separated for several)",
    "patient": "Patient/<id> or <id>",
    "subject": "Patient/<id> or <id>",
    "practitioner": "Practitioner/<id> or <id>",
    "actor": "Practitioner/<id> or <id>",
    "schedule": "Schedule/<id> or <id>",
    "date": "eq, ge, gt, le, lt prefixes; a date is a day in the clinic's time zone; repeat to AND",
    "start": "eq, ge, gt, le, lt prefixes; repeat to give a range",
    "status": "FHIR status codes, comma-separated",
    "specialty": "discipline code, optionally <system>|<code>",
    "service-type": "discipline code, optionally <system>|<code>",
    "name": "part of the name, any case",
    "email": "the e-mail address",
    "active": "true or false",
    "partof": "Location/<id>: the rooms of that site",
}


def statement(resource_types: dict, url: str) -> dict:
    name = clinic.settings().name
    return {
        "resourceType": "CapabilityStatement", "url": url, "status": "active", "kind": "instance",
        "date": utcnow().date().isoformat(), "publisher": name, "name": "CareplanFhirServer",
        "description": "Read-only FHIR R4 view of the clinic's patients, providers, care plans, appointments, sites and rooms.",
        "software": {"name": "careplan"}, "implementation": {"description": f"careplan at {name}", "url": url.removesuffix("/metadata")},
        "fhirVersion": "4.0.1", "format": ["json", "application/fhir+json"],
        "rest": [{
            "mode": "server",
            "documentation": "Searches are strict: an unsupported parameter is a 400. Paging with _count and _offset.",
            "security": {"cors": False, "description": "Send 'Authorization: Bearer <token>' (tokens from the "
                                                        "login endpoint or `flask tokens create`)."},
            "resource": [_resource(kind) for kind in resource_types.values()],
        }],
    }


def _resource(kind) -> dict:
    resource = {
        "type": kind.name, "interaction": [{"code": "read"}, {"code": "search-type"}],
        "versioning": "no-version", "readHistory": False, "updateCreate": False,
        "searchParam": [{"name": name, "type": kind_of, "documentation": SEARCH_PARAM_DOCS[name]}
                        for name, kind_of in kind.params.items()],
    }
    if kind.documentation:
        resource["documentation"] = kind.documentation
    return resource
