from flask import redirect

from careplan.auth.edge import current_user
from careplan.web import bp
from careplan.web.access import LOGIN_PATH
from careplan.web.rendering import NAVIGATION


@bp.get("/")
def home():
    """Each role starts on its first page; a visitor who has not signed in starts by signing in."""
    user = current_user()
    if user is None:
        return redirect(LOGIN_PATH)
    return redirect(NAVIGATION[user.role][0][1])
