from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import F
from django.db.models.functions import Lower
from django.utils import timezone

from ecommerce.addresses import (
    CITY_MAX_LENGTH,
    LINE_MAX_LENGTH,
    NAME_MAX_LENGTH,
    PHONE_MAX_LENGTH,
    POSTAL_CODE_MAX_LENGTH,
    validate_country,
    validate_phone,
    validate_postal_code,
    validate_printable,
)
from ecommerce.db import atomic


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **fields) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        fields.update(is_staff=True, is_superuser=True)
        fields.setdefault("email_verified_at", timezone.now())  # made by an operator, who vouches for it
        return self._create_user(email, password, **fields)

    def get_by_natural_key(self, email: str) -> "User":
        return self.get(email=normalize_email(email))


class User(AbstractBaseUser, PermissionsMixin):
    """A shop user; the email address is the login."""

    email = models.EmailField(max_length=254, unique=True)
    name = models.CharField(max_length=150)
    is_staff = models.BooleanField(default=False, help_text="Staff manage products, stock and orders.")
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    session_version = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text="Raised to end every session: tokens carrying an older one (claim `sv`) are refused.",
    )
    rights_version = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text="Raised when the user's status or permissions change: access tokens carrying an older one "
        "(claim `rv`) are refused at once; a refresh gives a token with the new rights.",
    )
    email_verified_at = models.DateTimeField(
        null=True, blank=True, help_text="When the owner followed the link we emailed; unverified accounts cannot pay."
    )

    objects = UserManager()

    # What an access token says about the user besides the permissions (which the groups and permissions carry).
    RIGHTS_FIELDS = ("is_active", "is_staff", "is_superuser")

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique")]

    @classmethod
    def from_db(cls, db, field_names, values):
        user = super().from_db(db, field_names, values)
        user._rights_when_loaded = user._rights()
        return user

    def _rights(self) -> tuple | None:
        if self.get_deferred_fields() & set(self.RIGHTS_FIELDS):
            return None
        return tuple(getattr(self, name) for name in self.RIGHTS_FIELDS)

    def save(self, *args, **kwargs):
        """Save; a change of is_active, is_staff or is_superuser raises ``rights_version``, and a deactivation
        ``session_version`` too (see accounts.tokens)."""
        self.email = normalize_email(self.email)
        self.rights_changed = self.pk is not None and getattr(self, "_rights_when_loaded", None) not in (
            None,
            self._rights(),
        )
        if self.rights_changed:
            bumped = {"rights_version"} if self.is_active else {"rights_version", "session_version"}
            for name in bumped:  # a deactivation also ends every session, should the account come back
                setattr(self, name, F(name) + 1)
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], *bumped}
        with atomic("accounts"):  # the new versions reach the cache when this commits (post_save)
            super().save(*args, **kwargs)
        if self.rights_changed:
            self.refresh_from_db(fields=["rights_version", "session_version"])
        self._rights_when_loaded = self._rights()

    def __str__(self) -> str:
        return self.email


class Address(models.Model):
    """A delivery address in a user's address book (checkout copies it into the order)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="addresses")
    name = models.CharField(max_length=NAME_MAX_LENGTH, validators=[validate_printable])
    line1 = models.CharField(max_length=LINE_MAX_LENGTH, validators=[validate_printable])
    line2 = models.CharField(max_length=LINE_MAX_LENGTH, blank=True, validators=[validate_printable])
    city = models.CharField(max_length=CITY_MAX_LENGTH, validators=[validate_printable])
    postal_code = models.CharField(max_length=POSTAL_CODE_MAX_LENGTH, validators=[validate_postal_code])
    country = models.CharField(max_length=2, validators=[validate_country], help_text="ISO 3166-1 alpha-2.")
    phone = models.CharField(max_length=PHONE_MAX_LENGTH, blank=True, validators=[validate_phone])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "addresses"

    def __str__(self) -> str:
        return f"{self.name}, {self.line1}, {self.postal_code} {self.city}, {self.country}"
