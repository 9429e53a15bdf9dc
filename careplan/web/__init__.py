"""The pages people use: server-rendered Jinja, one blueprint, one stylesheet.

Every view wears `page_for(...)` (careplan.web.access) as its outermost
decorator; times are shown in the clinic's zone through the filters below;
forms post back to the same URL and redirect after a change (flash + PRG).
"""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("web", __name__)

from careplan.web import (  # noqa: F401  (views register on bp)
    admin,
    admin_clinic,
    admin_rooms,
    admin_webhooks,
    calendar,
    calendar_feed,
    clinician,
    desk,
    jobs,
    home,
    patient,
    planning,
    rendering,
    schedule,
)
