"""/auth endpoints: thin views over accounts.services."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.errors import (
    AddressBookFull,
    AddressNotFound,
    EmailAlreadyVerified,
    InvalidCredentials,
    InvalidRefreshToken,
    InvalidToken,
    LoginLocked,
    RefreshTokenReused,
    TokenRevoked,
    WeakPassword,
    WrongPassword,
)
from ecommerce.api import ErrorCode, error_responses
from ecommerce.serializers import ADDRESS_ERRORS, ADDRESS_EXAMPLE, AddressSerializer, StrictSerializer
from ecommerce.throttling import FailOpenScopedRateThrottle
from ecommerce.urlpatterns import site_url

# What Django's password validators answer, each with its own code (WeakPassword's code if one has none).
PASSWORD_ERRORS = [
    ErrorCode(400, code)
    for code in (
        "password_too_similar",
        "password_too_short",
        "password_too_common",
        "password_entirely_numeric",
        WeakPassword.code,
    )
]
DEMO_CUSTOMER = {"email": "ada@example.com", "password": "Analytical-Engine-1843"}


class UserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.EmailField()
    is_staff = serializers.BooleanField()
    date_joined = serializers.DateTimeField()
    email_verified = serializers.BooleanField(
        help_text="Whether the owner followed the link we emailed; an unverified account cannot pay."
    )


class AuthResultSerializer(serializers.Serializer):
    user = UserSerializer()
    token = serializers.CharField(help_text="The access token (same as `access`), kept for older clients.")
    access = serializers.CharField()
    refresh = serializers.CharField()


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class AcceptedSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What happens next, for people.")


class TokenInputSerializer(StrictSerializer):
    token = serializers.CharField(max_length=500, help_text="The `token` parameter of the link we emailed.")


def new_password_field():
    return serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)


class RefreshInputSerializer(StrictSerializer):
    unknown_fields_ignored = True

    refresh = serializers.CharField(max_length=2000)


def auth_result(user: services.UserInfo) -> dict:
    tokens = services.issue_tokens(user_id=user.id)
    return {"user": user, "token": tokens.access, "access": tokens.access, "refresh": tokens.refresh}


class AuthThrottledView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [FailOpenScopedRateThrottle]
    throttle_scope = "auth"


class AccountChangeView(APIView):
    """A change to the signed-in account, under the login rate limit (per user): no password guessing."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [FailOpenScopedRateThrottle]
    throttle_scope = "auth"


PASSWORD_RESET_SENT = "If an account has this email address, we have sent it a link to choose a new password."
REGISTERED = (
    "We have sent an email to this address. If it is a new account, follow the link in it to confirm the "
    "address, then sign in."
)


class RegisterView(AuthThrottledView):
    class InputSerializer(StrictSerializer):
        unknown_fields_ignored = True  # e.g. a form's other fields; `isStaff` among them changes nothing

        name = serializers.CharField(max_length=150)
        email = serializers.EmailField(max_length=254)
        password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)

    @extend_schema(
        operation_id="auth_register",
        summary="Create a customer account",
        request=InputSerializer,
        responses={202: AcceptedSerializer, **error_responses(*PASSWORD_ERRORS)},
        description="Asks for a customer account. The answer is the same 202 whether the email is new or already "
        "has an account, so that nobody can find out who has one: a new email gets an account and an email with "
        "a link to confirm the address (`POST /auth/verify-email`); an email with an account gets an email "
        "saying so (with a password reset link), and nothing changes. Then sign in with `POST /auth/login` "
        "(an account whose email is not confirmed yet can sign in, browse and fill its cart, but not pay). "
        "Emails are unique whatever their letter case. The password must be at least 12 characters, not too "
        "common, not all digits and not too close to the name or email. Staff accounts cannot be created here.",
        examples=[
            OpenApiExample(
                "New customer",
                value={"name": "Ada Lovelace", **DEMO_CUSTOMER},
                request_only=True,
                description="Creates the customer that the sign-in example uses.",
            )
        ],
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.register_user(**data.validated_data, site_url=site_url(request))
        return Response({"detail": REGISTERED}, status=status.HTTP_202_ACCEPTED)


class VerifyEmailView(AuthThrottledView):
    @extend_schema(
        operation_id="auth_verify_email",
        summary="Confirm your email address",
        request=TokenInputSerializer,
        responses={200: AcceptedSerializer, **error_responses(InvalidToken)},
        examples=[
            OpenApiExample(
                "Link token",
                value={"token": "the token parameter of the emailed link"},
                request_only=True,
                description="Replace the value with the `token` of the link in the email.",
            )
        ],
        description="Confirms the email address of an account with the token of the link we emailed (valid 3 "
        "days, once). An unknown, expired or used token is 400 `invalid_token`: ask for a new link with "
        "`POST /auth/verify-email/resend`.",
    )
    def post(self, request):
        data = TokenInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.verify_email(token=data.validated_data["token"])
        return Response({"detail": "Your email address is confirmed."})


class ResendVerificationView(AccountChangeView):
    @extend_schema(
        operation_id="auth_verify_email_resend",
        summary="Email a new confirmation link",
        request=None,
        responses={202: AcceptedSerializer, **error_responses(EmailAlreadyVerified)},
        description="Sends a new link to confirm your email address.",
    )
    def post(self, request):
        services.send_verification_email(user_id=request.user.id, site_url=site_url(request))
        return Response({"detail": "We have sent you a new link."}, status=status.HTTP_202_ACCEPTED)


class LoginView(AuthThrottledView):
    class InputSerializer(StrictSerializer):
        unknown_fields_ignored = True  # e.g. a form's other fields

        email = serializers.CharField(max_length=254)
        password = serializers.CharField(max_length=128, trim_whitespace=False)

    @extend_schema(
        operation_id="auth_login",
        summary="Sign in",
        request=InputSerializer,
        responses={200: AuthResultSerializer, **error_responses(InvalidCredentials, LoginLocked)},
        description="Exchanges an email and password for an access token (valid 15 minutes) and a refresh token "
        "(valid 7 days). A wrong email or password gets the same 401, whichever was wrong. After repeated failed "
        "sign-ins to one email address, every sign-in to it is refused for a while (429 `login_locked`, with "
        "`Retry-After`), whoever sends it; clients that send too many requests get 429 `throttled`.",
        examples=[
            OpenApiExample(
                "Customer",
                value=DEMO_CUSTOMER,
                request_only=True,
                description="The customer that the register example creates.",
            ),
            OpenApiExample(
                "Demo staff",
                value={"email": "staff@example.com", "password": "the password `make run` printed"},
                request_only=True,
                description="The staff account of a local demo; replace the password with the one printed when "
                "it was created.",
            ),
        ],
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.authenticate_user(**data.validated_data)
        return Response(AuthResultSerializer(auth_result(user)).data)


class PasswordChangeView(AccountChangeView):
    class InputSerializer(StrictSerializer):
        current_password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)
        new_password = new_password_field()

    @extend_schema(
        operation_id="auth_me_password",
        summary="Change your password",
        request=InputSerializer,
        responses={
            200: AuthResultSerializer,
            **error_responses(WrongPassword, *PASSWORD_ERRORS),
        },
        examples=[
            OpenApiExample(
                "New password",
                value={"currentPassword": DEMO_CUSTOMER["password"], "newPassword": "Difference-Engine-1822"},
                request_only=True,
            )
        ],
        description="Changes your password (checked as at registration, on `newPassword`) and signs out every "
        "session: every refresh and access token issued before is refused from now on (401 `token_revoked`), "
        "and the answer carries a new pair for this one. We email you that the password changed. "
        "A wrong `currentPassword` is 400 `wrong_password`.",
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.change_password(user_id=request.user.id, **data.validated_data, site_url=site_url(request))
        return Response(AuthResultSerializer(auth_result(user)).data)


class PasswordResetView(AuthThrottledView):
    class InputSerializer(StrictSerializer):
        email = serializers.CharField(max_length=254)

    @extend_schema(
        operation_id="auth_password_reset",
        summary="Ask for a password reset link",
        request=InputSerializer,
        responses={202: AcceptedSerializer},
        examples=[OpenApiExample("Email", value={"email": DEMO_CUSTOMER["email"]}, request_only=True)],
        description="Emails a link to choose a new password (valid one hour, once) if an account has this email. "
        "The answer is the same 202 whether it has one or not.",
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.request_password_reset(email=data.validated_data["email"], site_url=site_url(request))
        return Response({"detail": PASSWORD_RESET_SENT}, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(AuthThrottledView):
    class InputSerializer(TokenInputSerializer):
        new_password = new_password_field()

    @extend_schema(
        operation_id="auth_password_reset_confirm",
        summary="Choose a new password",
        request=InputSerializer,
        responses={200: AcceptedSerializer, **error_responses(InvalidToken, *PASSWORD_ERRORS)},
        examples=[
            OpenApiExample(
                "Link token and new password",
                value={"token": "the token parameter of the emailed link", "newPassword": "Difference-Engine-1822"},
                request_only=True,
                description="Replace the token with the `token` of the link in the reset email.",
            )
        ],
        description="Sets a new password with the token of the reset link, and signs out every session (its tokens "
        "are refused: 401 `token_revoked`); then sign in with it. The link works once and for an hour: an unknown, "
        "expired or used token is 400 `invalid_token`. It also confirms the email address, and lifts a lockout "
        "after failed sign-ins.",
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.reset_password(**data.validated_data)
        return Response({"detail": "Your password is changed. Sign in with it."})


class RefreshView(AuthThrottledView):
    @extend_schema(
        operation_id="auth_refresh",
        summary="Get a new access token",
        request=RefreshInputSerializer,
        responses={
            200: TokenPairSerializer,
            **error_responses(InvalidRefreshToken, TokenRevoked, RefreshTokenReused),
        },
        description="Exchanges a refresh token for a new access token and a new refresh token. The refresh token "
        "sent can no longer be used: sending it again (or one that was signed out) is taken for a stolen copy, "
        "and ends every session of the account (401 `refresh_token_reused`; sign in again). A session ends "
        "`REFRESH_TOKEN_MAX_AGE_DAYS` (30) days after its sign-in however often it is refreshed (401 "
        "`token_not_valid`), and at once when it is revoked (401 `token_revoked`: the account was deactivated or "
        "its sessions were ended).",
        examples=[
            OpenApiExample(
                "Refresh token",
                value={"refresh": "the refresh token from sign-in"},
                request_only=True,
                description="Replace the value with the `refresh` token that sign-in or registration returned.",
            )
        ],
    )
    def post(self, request):
        data = RefreshInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tokens = services.rotate_refresh_token(refresh=data.validated_data["refresh"])
        return Response(TokenPairSerializer(tokens).data)


class LogoutView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="auth_logout",
        summary="Sign out",
        request=RefreshInputSerializer,
        responses={
            204: OpenApiResponse(description="The refresh token can no longer be used."),
            **error_responses(InvalidRefreshToken),
        },
        description="Revokes your refresh token. The access token stays valid until it expires (15 minutes).",
        examples=[
            OpenApiExample(
                "Refresh token",
                value={"refresh": "the refresh token from sign-in"},
                request_only=True,
                description="Replace the value with your `refresh` token.",
            )
        ],
    )
    def post(self, request):
        data = RefreshInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.revoke_refresh_token(refresh=data.validated_data["refresh"], user_id=request.user.id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    permission_classes = [IsAuthenticated]
    throttle_scope = "auth"
    delete_takes_body = True  # the password, confirming the deletion

    class DeleteInputSerializer(StrictSerializer):
        password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)

    def get_throttles(self):
        """Deleting takes a password: under the login's rate limit (per user). Reading is not limited."""
        return [FailOpenScopedRateThrottle()] if self.request.method == "DELETE" else []

    @extend_schema(
        operation_id="auth_me",
        summary="Your account",
        responses={200: UserSerializer},
        description="The account the access token belongs to.",
    )
    def get(self, request):
        return Response(UserSerializer(services.get_user(user_id=request.user.id)).data)

    @extend_schema(
        operation_id="auth_me_delete",
        summary="Delete your account",
        request=DeleteInputSerializer,
        responses={204: OpenApiResponse(description="Deleted."), **error_responses(WrongPassword)},
        description="Deletes your account, confirmed with your password (400 `wrong_password` otherwise): your "
        "name, email address, saved addresses and password are removed, every session ends and you can no "
        "longer sign in; your cart is emptied. Your orders and payments stay in the shop's books, no longer "
        "linked to a name or email (an order keeps the delivery address it was shipped to). Download your "
        "data first with `GET /auth/me/export`. We email you a confirmation.",
        examples=[OpenApiExample("Password", value={"password": DEMO_CUSTOMER["password"]}, request_only=True)],
    )
    def delete(self, request):
        data = self.DeleteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.delete_account(user_id=request.user.id, password=data.validated_data["password"])
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Address book: /auth/me/addresses ----------------------------------------------------------------


class SavedAddressSerializer(AddressSerializer):
    """An address of the caller's address book."""

    id = serializers.IntegerField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, saved: services.SavedAddress) -> dict:
        return {**AddressSerializer(saved.address).data, "id": saved.id, "created_at": saved.created_at}


class AddressListView(GenericAPIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="auth_me_addresses_list",
        summary="Your saved addresses",
        responses={200: SavedAddressSerializer(many=True)},
        description="The caller's saved delivery addresses, oldest first.",
    )
    def get(self, request):
        page = self.paginate_queryset(services.list_addresses(user_id=request.user.id))
        return self.get_paginated_response(SavedAddressSerializer(page, many=True).data)

    @extend_schema(
        operation_id="auth_me_addresses_create",
        summary="Save an address",
        request=AddressSerializer,
        responses={201: SavedAddressSerializer, **error_responses(AddressBookFull, *ADDRESS_ERRORS)},
        examples=[OpenApiExample("Home", value=ADDRESS_EXAMPLE, request_only=True)],
        description=f"Save a delivery address (at most {services.MAX_ADDRESSES}). Invalid fields are 400 with "
        "`attr` naming the field: `required`, `blank`, `max_length`, `invalid_characters`, `invalid_country`, "
        "`invalid_postal_code`, `invalid_phone`, `unknown_field`.",
    )
    def post(self, request):
        data = AddressSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        saved = services.add_address(user_id=request.user.id, address=data.validated_data)
        return Response(SavedAddressSerializer(saved).data, status=status.HTTP_201_CREATED)


class AddressDetailView(APIView):
    permission_classes = [IsAuthenticated]
    path_id_description = "The id of one of your saved addresses."

    @extend_schema(
        operation_id="auth_me_addresses_retrieve",
        summary="One of your addresses",
        responses={200: SavedAddressSerializer, **error_responses(AddressNotFound)},
    )
    def get(self, request, pk: int):
        return Response(SavedAddressSerializer(services.get_address(user_id=request.user.id, address_id=pk)).data)

    @extend_schema(
        operation_id="auth_me_addresses_update",
        summary="Replace an address",
        request=AddressSerializer,
        responses={200: SavedAddressSerializer, **error_responses(AddressNotFound, *ADDRESS_ERRORS)},
        examples=[
            OpenApiExample("New phone", value={**ADDRESS_EXAMPLE, "phone": "+44 20 7946 0001"}, request_only=True)
        ],
        description="Replace the address (every field, as when saving one). Orders placed with it keep their copy.",
    )
    def put(self, request, pk: int):
        data = AddressSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        saved = services.update_address(user_id=request.user.id, address_id=pk, address=data.validated_data)
        return Response(SavedAddressSerializer(saved).data)

    @extend_schema(
        operation_id="auth_me_addresses_destroy",
        summary="Delete an address",
        responses={204: OpenApiResponse(description="Deleted."), **error_responses(AddressNotFound)},
        description="Orders placed with this address keep their copy of it.",
    )
    def delete(self, request, pk: int):
        services.delete_address(user_id=request.user.id, address_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
