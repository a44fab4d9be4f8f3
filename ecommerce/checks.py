"""The shop's own production safeguards.

``ensure_safe_to_serve`` runs when the WSGI application loads (gunicorn, runserver): with DEBUG off it
refuses to serve with the dummy gateway (unless ALLOW_DUMMY_GATEWAY=true) or a JWT key too short for
HS256. Management commands (migrate, check) still run, and ``manage.py check --deploy`` warns about both.
"""

from django.conf import settings
from django.core.checks import Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

JWT_SIGNING_KEY_MIN_LENGTH = 32  # 256 bits, the least HS256 allows (RFC 7518, section 3.2)
JWT_SIGNING_KEY_RECOMMENDED_LENGTH = 50  # as Django asks of SECRET_KEY (security.W009)
JWT_SIGNING_KEY_MIN_UNIQUE_CHARACTERS = 5


def ensure_safe_to_serve() -> None:
    """Refuse to serve production traffic that would take no money or accept forgeable tokens.

    Raises ImproperlyConfigured, naming the setting to fix, when DEBUG is off.
    """
    if settings.DEBUG:
        return
    if settings.PAYMENT_GATEWAY == "dummy" and not settings.ALLOW_DUMMY_GATEWAY:
        raise ImproperlyConfigured(
            "The dummy payment gateway takes no money, and DEBUG is off: set STRIPE_SECRET_KEY (and "
            "PAYMENT_GATEWAY=stripe), or ALLOW_DUMMY_GATEWAY=true for a demo that must not take real orders."
        )
    if len(settings.SIMPLE_JWT.get("SIGNING_KEY") or "") < JWT_SIGNING_KEY_MIN_LENGTH:
        raise ImproperlyConfigured(
            f"JWT_SIGNING_KEY (or SECRET_KEY, its default) must be at least {JWT_SIGNING_KEY_MIN_LENGTH} characters."
        )


@register(Tags.security, deploy=True)
def check_payment_gateway(app_configs, **kwargs):
    """A production shop takes money: the dummy gateway accepts test cards and charges nobody."""
    if getattr(settings, "PAYMENT_GATEWAY", "dummy") != "dummy":
        return []
    return [
        Warning(
            "PAYMENT_GATEWAY is 'dummy': orders are marked paid and no money is taken.",
            hint="Set STRIPE_SECRET_KEY (and PAYMENT_GATEWAY=stripe) in production.",
            id="ecommerce.W001",
        )
    ]


@register(Tags.security, deploy=True)
def check_jwt_signing_key(app_configs, **kwargs):
    """Access tokens are only as strong as the HMAC key that signs them."""
    key = settings.SIMPLE_JWT.get("SIGNING_KEY") or ""
    if len(key) >= JWT_SIGNING_KEY_RECOMMENDED_LENGTH and len(set(key)) >= JWT_SIGNING_KEY_MIN_UNIQUE_CHARACTERS:
        return []
    return [
        Warning(
            f"The JWT signing key has fewer than {JWT_SIGNING_KEY_RECOMMENDED_LENGTH} characters or fewer than "
            f"{JWT_SIGNING_KEY_MIN_UNIQUE_CHARACTERS} distinct ones: access tokens could be forged by guessing it.",
            hint="Set JWT_SIGNING_KEY (or SECRET_KEY, its default) to a long random value, e.g. "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`.",
            id="ecommerce.W002",
        )
    ]
