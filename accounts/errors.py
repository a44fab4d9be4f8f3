from ecommerce.errors import Conflict, DomainError, NotFound


class InvalidCredentials(DomainError):
    status = 401
    code = "invalid_credentials"
    default_message = "No active account matches this email and password."


class InvalidRefreshToken(DomainError):
    status = 401
    code = "token_not_valid"
    default_message = "The refresh token is invalid, expired or revoked."


class TokenRevoked(DomainError):
    """The token belongs to a session that was ended (revoke_sessions, a deactivation, a reused refresh token)."""

    status = 401
    code = "token_revoked"
    default_message = "This session was ended: sign in again."


class RefreshTokenReused(DomainError):
    """A refresh token came back after it was rotated or revoked: someone holds a copy, so every session ended."""

    status = 401
    code = "refresh_token_reused"
    default_message = "This refresh token was already used: every session of the account was ended. Sign in again."


class WeakPassword(DomainError):
    status = 400
    code = "password_invalid"
    default_message = "This password is not allowed."


class LoginLocked(DomainError):
    """Too many failed logins for this account: every login to it is refused for a while (``Retry-After``)."""

    status = 429
    code = "login_locked"
    default_message = "Too many failed logins for this account. Try again later."


class AddressNotFound(NotFound):
    default_message = "No such address in your address book."


class AddressBookFull(Conflict):
    code = "address_book_full"
    default_message = "Your address book is full: delete an address first."


class InvalidToken(DomainError):
    """A link's token is not one we made, has expired, or was used already (each link works once)."""

    status = 400
    code = "invalid_token"
    default_message = "This link is invalid, has expired or was used already. Ask for a new one."


class EmailNotVerified(DomainError):
    status = 403
    code = "email_not_verified"
    default_message = "Confirm your email address first: follow the link we emailed you (or ask for a new one)."


class EmailAlreadyVerified(Conflict):
    code = "email_already_verified"
    default_message = "Your email address is confirmed already."


class WrongPassword(DomainError):
    """The password given to confirm a change of the signed-in account is not its password."""

    status = 400
    code = "wrong_password"
    default_message = "This is not your current password."
