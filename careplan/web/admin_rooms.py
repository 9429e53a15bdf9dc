"""The administrator's locations and rooms: each site with its rooms and equipment, and what holds them."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext

from careplan.auth.edge import request_caller
from careplan.clinic import service as clinic
from careplan.clinic.schemas import DisciplineSchema
from careplan.rooms import service as rooms
from careplan.rooms.schemas import LocationInSchema, RoomInSchema
from careplan.web import bp
from careplan.web.access import page_for
from careplan.web.forms import submit, text


def _page(location_values=None, location_errors=None, room_values=None, room_errors=None, status=200):
    locations = rooms.list_locations()
    return render_template("web/admin/locations.html", locations=locations,
                           rooms_at={loc.id: rooms.list_rooms(location_id=loc.id) for loc in locations},
                           disciplines=clinic.disciplines(),
                           known_kinds=sorted({room.kind for room in rooms.list_rooms()} | set(rooms.room_kinds())),
                           location_values=location_values or {}, location_errors=location_errors or {},
                           room_values=room_values or {"capacity": "1"}, room_errors=room_errors or {}), status


@bp.get("/admin/locations")
@page_for("admin")
def admin_locations():
    return _page()


@bp.post("/admin/locations")
@page_for("admin")
def admin_location_new():
    data = text(request.form, "name", "address")
    saved, errors = submit(LocationInSchema(), data, lambda loaded: rooms.create_location(loaded, caller=request_caller()))
    if saved is not None:
        flash(gettext("%(place)s added.", place=saved.name), "success")
        return redirect(url_for("web.admin_locations") + f"#location-{saved.id}")
    return _page(location_values=request.form, location_errors=errors, status=422)


@bp.post("/admin/rooms")
@page_for("admin")
def admin_room_new():
    # The room's name field is "room_name" on the page (the location form beside it has its own "name").
    form = text(request.form, "location_id", "room_name", "kind", "capacity")
    form["name"] = form.pop("room_name")
    data = {key: value for key, value in form.items() if value != ""}
    saved, errors = submit(RoomInSchema(), data, lambda loaded: rooms.create_room(loaded, caller=request_caller()))
    if saved is not None:
        flash(gettext("%(room)s (%(kind)s, for %(capacity)s) added.", room=saved.name, kind=saved.kind,
                      capacity=saved.capacity), "success")
        return redirect(url_for("web.admin_locations") + f"#room-{saved.id}")
    if "name" in errors:
        errors["room_name"] = errors.pop("name")
    return _page(room_values=request.form, room_errors=errors, status=422)


@bp.post("/admin/rooms/<int:room_id>")
@page_for("admin")
def admin_room_change(room_id: int):
    change = {}
    if request.form.get("capacity", "").strip():
        change["capacity"] = request.form["capacity"].strip()
    if request.form.get("active") in ("true", "false"):
        change["active"] = request.form["active"] == "true"
    saved, errors = submit(RoomInSchema(partial=True), change,
                           lambda loaded: rooms.update_room(room_id, loaded, caller=request_caller()))
    if saved is None:
        flash(next(iter(errors.values())), "error")
    else:
        flash(gettext("%(room)s: for %(capacity)s, in use.", room=saved.name, capacity=saved.capacity) if saved.active
              else gettext("%(room)s: for %(capacity)s, closed.", room=saved.name, capacity=saved.capacity), "success")
    return redirect(url_for("web.admin_locations") + f"#room-{room_id}")


@bp.post("/admin/disciplines/<code>/room-kind")
@page_for("admin")
def admin_discipline_room_kind(code: str):
    """Which kind of room a discipline's in-person sessions hold (empty: none), as PATCH /disciplines does."""
    kind = request.form.get("room_kind", "").strip().lower() or None
    saved, errors = submit(DisciplineSchema(partial=True, only=("room_kind",)), {"room_kind": kind},
                           lambda loaded: clinic.update_discipline(code, loaded))
    if saved is None:
        flash(gettext("Room kind of %(code)s: %(error)s", code=code, error=next(iter(errors.values()))), "error")
    elif saved.room_kind:
        flash(gettext("%(discipline)s sessions hold a %(kind)s room.", discipline=saved.name, kind=saved.room_kind),
              "success")
    else:
        flash(gettext("%(discipline)s sessions hold no room.", discipline=saved.name), "success")
    return redirect(url_for("web.admin_locations") + f"#kind-{code}")
