"""The Flask extensions, created unbound here and bound to an app in `create_app`."""
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_mailman import Mail
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from careplan.db import Base
from careplan.errors import ErrorSchema


class CareplanApi(Api):
    """flask-smorest, documenting the service's one error format instead of its own, and refusing query
    parameters an operation does not take.

    A misspelt filter (`?patiend_id=3`) would otherwise be dropped silently and answer the unfiltered list.
    Every blueprint registered here gets the check with no change to its module: the names an operation takes
    are read from its own decorators (`@blp.arguments(..., location="query")`, `@blp.paginate()`, query
    parameters in `@blp.doc`), exactly what the OpenAPI document lists.
    """

    ERROR_SCHEMA = ErrorSchema

    def init_app(self, app, *, spec_kwargs=None):
        from careplan.api_docs import OperationDocs, add_link_header, register_components

        spec_kwargs = dict(spec_kwargs or {})
        # Every operation completed in one place: operationId, error answers, Location, Link (careplan.api_docs).
        spec_kwargs["extra_plugins"] = [*spec_kwargs.get("extra_plugins", ()), OperationDocs(self)]
        super().init_app(app, spec_kwargs=spec_kwargs)
        register_components(self.spec)
        app.extensions[QUERY_NAMES] = {}
        app.before_request(refuse_unknown_query_parameters)
        app.after_request(add_link_header)

    def register_blueprint(self, blp, *, parameters=None, **options):
        super().register_blueprint(blp, parameters=parameters, **options)
        names = self._app.extensions[QUERY_NAMES]
        prefix = options.get("name", blp.name)
        for endpoint, docs in blp._docs.items():
            for method, doc in docs.items():
                if method != "parameters":
                    names[(f"{prefix}.{endpoint}", method.upper())] = query_names(doc)


QUERY_NAMES = "careplan_query_names"


def query_names(doc: dict) -> frozenset[str]:
    """The query parameters one operation takes, from the documentation its decorators left on it."""
    parameters = list((doc.get("arguments") or {}).get("parameters") or [])
    if doc.get("pagination"):
        parameters.append(doc["pagination"]["parameters"])
    parameters += (doc.get("manual_doc") or {}).get("parameters") or []
    names = set()
    for parameter in parameters:
        if parameter.get("in") not in ("query", "querystring"):
            continue
        schema = parameter.get("schema")
        if schema is None or isinstance(schema, dict):
            names.add(parameter["name"])
            continue
        schema = schema() if isinstance(schema, type) else schema
        names.update(field.data_key or name for name, field in schema.load_fields.items())
    return frozenset(names)


def refuse_unknown_query_parameters() -> None:
    from flask import current_app, request

    from careplan.errors import Invalid

    method = "GET" if request.method == "HEAD" else request.method
    known = current_app.extensions[QUERY_NAMES].get((request.endpoint, method))
    if known is None:
        # Not an API operation (pages, FHIR with its own strict search, the OpenAPI document).
        return
    unknown = sorted(set(request.args) - known)
    if unknown:
        takes = f"it takes {', '.join(sorted(known))}" if known else "it takes none"
        raise Invalid(f"Unknown query parameter{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)} ({takes}).",
                      fields={name: "unknown parameter" for name in unknown})


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
api = CareplanApi()
# Storage comes from RATELIMIT_STORAGE_URI: memory in one process, a shared store (redis) when several run.
limiter = Limiter(key_func=get_remote_address)
# Checked by careplan.auth.web for cookie-authenticated requests only; bearer-token calls carry no ambient credential.
csrf = CSRFProtect()
# E-mail backends (careplan.mail.backends builds each batch's connection from the settings of the moment).
mail = Mail()
