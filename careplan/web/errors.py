"""The HTML error pages; `careplan.errors` sends page requests here instead of answering JSON."""
from __future__ import annotations

import logging

from flask import current_app, make_response, render_template
from flask_babel import gettext, lazy_gettext

log = logging.getLogger(__name__)

TITLES = {
    400: lazy_gettext("That request could not be used"),
    403: lazy_gettext("Not part of your work here"),
    404: lazy_gettext("Nothing to show here"),
    405: lazy_gettext("That cannot be done here"),
    409: lazy_gettext("That clashes with something else"),
    422: lazy_gettext("Some of what was sent cannot be used"),
    429: lazy_gettext("Too many attempts"),
    500: lazy_gettext("Something went wrong on our side"),
}

ADVICE = {
    400: lazy_gettext("If you were sending a form, it may have expired: go back, reload the page and try again."),
    403: lazy_gettext("Your account does not open this page. Use the menu above to find your own pages."),
    404: lazy_gettext("The page or record does not exist, or it is not one you can see."),
    500: lazy_gettext("Nothing was saved. Try again in a moment; if it happens again, tell the clinic's administrator."),
}


def error_page(status: int, message: str):
    """The error as a page; a 401 on a page means 'sign in first'."""
    if status == 401:
        from careplan.web.access import login_redirect

        return login_redirect()
    from sqlalchemy.exc import InterfaceError, OperationalError

    from careplan.operations.logs import current_request_id

    context = {"status": status, "title": str(TITLES.get(status) or gettext("That did not work")),
               "message": message, "advice": str(ADVICE.get(status, "")), "request_id": current_request_id()}
    try:
        html = render_template("web/error.html", **context)
    except Exception as failed:
        # The layout's context reads the database (visitor, clinic name); when that is what failed,
        # answer with a page that needs nothing (no context processors run). A database that does not answer
        # was logged already, once, by the error that led here.
        if isinstance(failed, (OperationalError, InterfaceError)):
            log.warning("the %s page was answered without the layout: the database does not answer", status)
        else:
            log.exception("could not render the %s page", status)
        html = current_app.jinja_env.get_template("web/error_plain.html").render(**context)
    return make_response(html, status)
