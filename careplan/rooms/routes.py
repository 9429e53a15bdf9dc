from flask.views import MethodView
from flask_smorest import Blueprint

from careplan.api_docs import located
from careplan.auth.access import login_required
from careplan.auth.edge import request_caller
from careplan.rooms import service
from careplan.rooms.schemas import LocationInSchema, LocationSchema, RoomInSchema, RoomQuerySchema, RoomSchema

blp = Blueprint("rooms", __name__, url_prefix="/api/v1",
                description="The clinic's locations, and the rooms and equipment at each")


@blp.route("/locations")
class Locations(MethodView):
    @login_required(resource="location")
    @blp.response(200, LocationSchema(many=True))
    def get(self):
        """Every location, inactive ones included"""
        return service.list_locations()

    @login_required("admin", resource="location")
    @located("rooms.LocationById", location_id="id")
    @blp.arguments(LocationInSchema)
    @blp.response(201, LocationSchema)
    def post(self, data):
        """Add a location"""
        return service.create_location(data, caller=request_caller())


@blp.route("/locations/<int:location_id>")
class LocationById(MethodView):
    @login_required(resource="location")
    @blp.response(200, LocationSchema)
    def get(self, location_id):
        """One location"""
        return service.get_location(location_id)

    @login_required("admin", resource="location")
    @blp.arguments(LocationInSchema(partial=True))
    @blp.response(200, LocationSchema)
    def patch(self, data, location_id):
        """Rename, move or close (active: false) a location"""
        return service.update_location(location_id, data, caller=request_caller())


@blp.route("/rooms")
class Rooms(MethodView):
    @login_required("admin", "front_desk", "provider")
    @blp.arguments(RoomQuerySchema, location="query")
    @blp.response(200, RoomSchema(many=True))
    def get(self, query):
        """The rooms and equipment, by location"""
        return service.list_rooms(**query)

    @login_required("admin", resource="room")
    @located("rooms.RoomById", room_id="id")
    @blp.arguments(RoomInSchema)
    @blp.response(201, RoomSchema)
    def post(self, data):
        """Add a room (or a piece of equipment) to a location"""
        return service.create_room(data, caller=request_caller())


@blp.route("/rooms/<int:room_id>")
class RoomById(MethodView):
    @login_required("admin", "front_desk", "provider")
    @blp.response(200, RoomSchema)
    def get(self, room_id):
        """One room"""
        return service.get_room(room_id)

    @login_required("admin")
    @blp.arguments(RoomInSchema(partial=True))
    @blp.response(200, RoomSchema)
    def patch(self, data, room_id):
        """Change a room: fewer places re-places its coming appointments within them; refused when more than
        that hold it at one moment"""
        return service.update_room(room_id, data, caller=request_caller())
