"""Managing calendar feeds under /api/v1, and the feeds themselves under /calendar (no login: the URL is the secret)."""
from flask import Blueprint, Response, url_for
from flask.views import MethodView
from flask_smorest import Blueprint as ApiBlueprint

from careplan.api_docs import located
from careplan.audit.service import record
from careplan.auth.access import STAFF, login_required
from careplan.auth.edge import request_caller
from careplan.fhir import feeds
from careplan.fhir.schemas import CalendarFeedSchema, NewCalendarFeedSchema

blp = ApiBlueprint("calendar_feeds", __name__, url_prefix="/api/v1",
                   description="Private iCalendar feed URLs of providers and patients")
bp = Blueprint("calendar", __name__, url_prefix="/calendar")


def _feed_view(owner: str):
    # The owner themself or the front desk; a patient's feed outside the caller's reach answers 404.
    access = login_required(*STAFF, owner, patient="owner_id" if owner == "patient" else None,
                            resource="calendar_feed")

    class FeedView(MethodView):
        @access
        @blp.response(200, CalendarFeedSchema)
        def get(self, owner_id):
            """When this owner's feed URL was made (the URL itself is only shown when it is made)."""
            feed = feeds.get_feed(owner, owner_id, caller=request_caller())
            record("read", "calendar_feed", feed.id, feed.patient_id, caller=request_caller())
            return feed

        @access
        @located(f"calendar_feeds.{owner.capitalize()}CalendarFeed", owner_id="owner_id")
        @blp.response(201, NewCalendarFeedSchema)
        def post(self, owner_id):
            """Make the feed URL, or replace it: the previous URL stops working."""
            feed, token = feeds.open_feed(owner, owner_id, caller=request_caller())
            return {"created_at": feed.created_at, "token": token,
                    "url": url_for("calendar.feed", token=token, _external=True)}

        @access
        @blp.response(204)
        def delete(self, owner_id):
            """Revoke the feed URL."""
            feeds.revoke_feed(owner, owner_id, caller=request_caller())

    FeedView.__name__ = FeedView.__qualname__ = f"{owner.capitalize()}CalendarFeed"
    return FeedView


for _owner in feeds.OWNERS:
    blp.route(f"/{_owner}s/<int:owner_id>/calendar-feed")(_feed_view(_owner))


@bp.get("/<token>.ics")
def feed(token: str):
    found = feeds.feed_for_token(token, caller=request_caller())
    record("read", "calendar_feed", found.id, found.patient_id, detail="fetched by its URL", caller=request_caller())
    body = feeds.calendar(found)
    # The feed is one person's schedule: careplan.headers forbids every cache to keep it.
    return Response(body, mimetype="text/calendar", headers={"Content-Disposition": 'inline; filename="careplan.ics"'})
