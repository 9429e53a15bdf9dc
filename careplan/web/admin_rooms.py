"""The administrator's locations and rooms: each site with its rooms and equipment, and what holds them."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from careplan.auth.edge import request_caller
from careplan.rooms import service as rooms
from careplan.rooms.schemas import LocationInSchema, RoomInSchema
from careplan.web import bp
from careplan.web.access import page_for
from careplan.web.forms import submit, text


def _page(location_values=None, location_errors=None, room_values=None, room_errors=None, status=200):
    locations = rooms.list_locations()
    return render_template("web/admin/locations.html", locations=locations,
                           rooms_at={loc.id: rooms.list_rooms(location_id=loc.id) for loc in locations},
                           kinds=rooms.room_kinds(),
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
        flash(f"{saved.name} added.", "success")
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
        flash(f"{saved.name} ({saved.kind}, for {saved.capacity}) added.", "success")
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
        flash(f"{saved.name}: for {saved.capacity}, {'in use' if saved.active else 'closed'}.", "success")
    return redirect(url_for("web.admin_locations") + f"#room-{room_id}")
