"""Password rules beyond Django's own validators."""

import re

from django.core.exceptions import ValidationError

# Passwords that credential-stuffing lists hold for shops in particular (Django's list covers the general ones).
SHOP_COMMON_PASSWORDS = frozenset(
    {
        "shopping",
        "shopper",
        "customer",
        "ecommerce",
        "checkout",
        "myshop",
        "onlineshop",
        "webshop",
        "storefront",
        "mystore",
        "amazon",
        "ebay",
        "paypal",
        "shopify",
        "welcome",
        "letmein",
        "changeme",
        "password",
        "admin",
        "staff",
        "qwerty",
    }
)


LEET = str.maketrans("013457@$", "oieastas")


def _core(password: str) -> str:
    """The word under a password: lower case, look-alike digits read as letters, other digits and symbols
    dropped (``Sh0pping2024!`` -> ``shopping``)."""
    letters = re.sub(r"[^a-z0-9@$]", "", password.lower())
    return re.sub(r"[^a-z]", "", re.sub(r"[0-9]+$", "", letters).translate(LEET))


class ShopCommonPasswordValidator:
    """Refuse a password that is a shop-related common word with digits or symbols added."""

    def validate(self, password: str, user=None) -> None:
        if _core(password) in SHOP_COMMON_PASSWORDS:
            raise ValidationError(
                "This password is a common word with digits or symbols added.", code="password_too_common"
            )

    def get_help_text(self) -> str:
        return "Your password can't be a common word such as “shopping” with digits or symbols added."
