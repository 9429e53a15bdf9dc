from flask import redirect

from careplan.auth.service import current_user
from careplan.web import bp
from careplan.web.access import page_for
from careplan.web.rendering import NAVIGATION


@bp.get("/")
@page_for()
def home():
    """Each role starts on its first page."""
    return redirect(NAVIGATION[current_user().role][0][1])
