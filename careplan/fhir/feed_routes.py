"""Managing calendar feeds under /api/v1, and the feeds themselves under /calendar (no login: the URL is the secret)."""
from flask import Blueprint, Response, url_for
from flask.views import MethodView
from flask_smorest import Blueprint as ApiBlueprint

from careplan.auth.access import login_required
from careplan.fhir import feeds
from careplan.fhir.schemas import CalendarFeedSchema, NewCalendarFeedSchema

blp = ApiBlueprint("calendar_feeds", __name__, url_prefix="/api/v1",
                   description="Private iCalendar feed URLs of providers and patients")
bp = Blueprint("calendar", __name__, url_prefix="/calendar")


def _feed_view(owner: str):
    class FeedView(MethodView):
        @login_required()
        @blp.response(200, CalendarFeedSchema)
        def get(self, owner_id):
            """When this owner's feed URL was made (the URL itself is only shown when it is made)."""
            return feeds.get_feed(owner, owner_id)

        @login_required()
        @blp.response(201, NewCalendarFeedSchema)
        def post(self, owner_id):
            """Make the feed URL, or replace it: the previous URL stops working."""
            feed, token = feeds.open_feed(owner, owner_id)
            return {"created_at": feed.created_at, "token": token,
                    "url": url_for("calendar.feed", token=token, _external=True)}

        @login_required()
        @blp.response(204)
        def delete(self, owner_id):
            """Revoke the feed URL."""
            feeds.revoke_feed(owner, owner_id)

    FeedView.__name__ = FeedView.__qualname__ = f"{owner.capitalize()}CalendarFeed"
    return FeedView


for _owner in feeds.OWNERS:
    blp.route(f"/{_owner}s/<int:owner_id>/calendar-feed")(_feed_view(_owner))


@bp.get("/<token>.ics")
def feed(token: str):
    body = feeds.calendar(feeds.feed_for_token(token))
    return Response(body, mimetype="text/calendar", headers={
        "Content-Disposition": 'inline; filename="careplan.ics"',
        # The feed is one person's schedule: no shared cache may keep it.
        "Cache-Control": "private, max-age=300"})
