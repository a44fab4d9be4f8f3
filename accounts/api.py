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
    EmailTaken,
    InvalidCredentials,
    InvalidRefreshToken,
    LoginLocked,
    RefreshTokenReused,
    TokenRevoked,
    WeakPassword,
)
from ecommerce.api import ErrorCode, error_responses
from ecommerce.serializers import ADDRESS_ERRORS, ADDRESS_EXAMPLE, AddressSerializer
from ecommerce.throttling import FailOpenScopedRateThrottle

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


class AuthResultSerializer(serializers.Serializer):
    user = UserSerializer()
    token = serializers.CharField(help_text="The access token (same as `access`), kept for older clients.")
    access = serializers.CharField()
    refresh = serializers.CharField()


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class RefreshInputSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=2000)


def auth_result(user: services.UserInfo) -> dict:
    tokens = services.issue_tokens(user_id=user.id)
    return {"user": user, "token": tokens.access, "access": tokens.access, "refresh": tokens.refresh}


class AuthThrottledView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [FailOpenScopedRateThrottle]
    throttle_scope = "auth"


class RegisterView(AuthThrottledView):
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=150)
        email = serializers.EmailField(max_length=254)
        password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)

    @extend_schema(
        operation_id="auth_register",
        summary="Create a customer account",
        request=InputSerializer,
        responses={201: AuthResultSerializer, **error_responses(EmailTaken, *PASSWORD_ERRORS)},
        description="Creates a customer account and signs it in: the answer carries an access token (send it as "
        "`Authorization: Bearer <access>`) and a refresh token. Emails are unique whatever their letter case. "
        "The password must be at least 8 characters, not too common, not all digits and not too close to the "
        "name or email. Staff accounts cannot be created here.",
        examples=[
            OpenApiExample(
                "New customer",
                value={"name": "Ada Lovelace", **DEMO_CUSTOMER},
                request_only=True,
                description="Creates the customer that the sign-in example uses (once: the email is then taken).",
            )
        ],
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.register_user(**data.validated_data)
        return Response(AuthResultSerializer(auth_result(user)).data, status=status.HTTP_201_CREATED)


class LoginView(AuthThrottledView):
    class InputSerializer(serializers.Serializer):
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

    @extend_schema(
        operation_id="auth_me",
        summary="Your account",
        responses={200: UserSerializer},
        description="The account the access token belongs to.",
    )
    def get(self, request):
        return Response(UserSerializer(services.get_user(user_id=request.user.id)).data)


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
