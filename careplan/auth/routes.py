from flask.views import MethodView
from flask_smorest import Blueprint

from careplan.api_docs import located
from careplan.auth import service
from careplan.auth.access import login_required
from careplan.auth.edge import current_user, end_current_credential, request_caller
from careplan.auth.schemas import (IssuedTokenSchema, LoginSchema, TokenSchema, UserQuerySchema, UserSchema,
                                   UserUpdateSchema)
from careplan.auth.web import login_failures
from careplan.pagination import page_of

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Signing in, tokens and who you are")
users_blp = Blueprint("users", __name__, url_prefix="/api/v1/users", description="User accounts (administrators)")


@blp.route("/login")
class Login(MethodView):
    decorators = [login_failures]

    @blp.doc(security=[])
    @located("auth.Tokens")
    @blp.arguments(LoginSchema, example={"email": "desk@clinic.example", "password": "correct horse battery staple",
                                         "token_name": "billing sync", "days": 30})
    @blp.response(201, IssuedTokenSchema)
    @blp.alt_response(401, description="wrong e-mail or password, or a disabled or locked account (one answer "
                                       "for all, so it reveals none of them)")
    @blp.alt_response(429, description="too many failed sign-ins from this address (web and API together); "
                                       "see Retry-After")
    def post(self, data):
        """Sign in with e-mail and password; answers a bearer token."""
        user, token = service.login_with_token(data["email"], data["password"], caller=request_caller(),
                                               name=data["token_name"],
                                               days=data["days"])
        return {"token": token, "expires_at": service.current_token_expiry(token), "user": user}


@blp.route("/logout")
class Logout(MethodView):
    @login_required()
    @blp.response(204)
    def post(self):
        """End the credential this request came with: its bearer token, or its web session."""
        end_current_credential()


@blp.route("/me")
class Me(MethodView):
    @login_required()
    @blp.response(200, UserSchema)
    def get(self):
        """The caller's own account."""
        return current_user()


@blp.route("/tokens")
class Tokens(MethodView):
    @login_required()
    @blp.response(200, TokenSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        """The caller's API tokens (never their secret)."""
        return page_of(service.tokens_of(current_user()), pagination_parameters)


@blp.route("/tokens/<int:token_id>")
class TokenById(MethodView):
    @login_required()
    @blp.response(204)
    def delete(self, token_id):
        """Revoke one of the caller's API tokens."""
        service.revoke_token(service.token_of(token_id, caller=request_caller()))


@users_blp.route("")
class Users(MethodView):
    @login_required("admin")
    @users_blp.arguments(UserQuerySchema, location="query")
    @users_blp.response(200, UserSchema(many=True))
    @users_blp.paginate()
    def get(self, query, pagination_parameters):
        """The accounts, filtered by role or by part of the e-mail."""
        return page_of(service.list_users(**query), pagination_parameters)

    @login_required("admin")
    @located("users.UserById", user_id="id")
    @users_blp.arguments(UserSchema)
    @users_blp.response(201, UserSchema)
    def post(self, data):
        """Create an account (a strong password, a role, and the clinician or patient it belongs to)."""
        return service.create_user(email=data["email"], role=data["role"], password=data.get("password"),
                                   provider_id=data.get("provider_id"), patient_id=data.get("patient_id"),
                                   active=data.get("active", True))


@users_blp.route("/<int:user_id>")
class UserById(MethodView):
    @login_required("admin")
    @users_blp.response(200, UserSchema)
    def get(self, user_id):
        """One account."""
        return service.get_user(user_id)

    @login_required("admin")
    @users_blp.arguments(UserUpdateSchema(partial=True))
    @users_blp.response(200, UserSchema)
    def patch(self, data, user_id):
        """Change an account: its role, password, or whether it is active."""
        return service.update_user(user_id, data, by=current_user())
