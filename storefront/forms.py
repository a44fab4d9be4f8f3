"""Input of the shop's pages. Forms check shapes only; every business rule is in the services."""

from django import forms
from django.contrib.auth import password_validation

from catalog import services as catalog
from ecommerce import addresses
from payments import services as payments

# Only what fits a database integer; the cart service refuses quantities over its own limit.
MAX_QUANTITY_INPUT = 2**31 - 1


class ProductSearchForm(forms.Form):
    q = forms.CharField(max_length=200, required=False, strip=True)
    category = forms.CharField(max_length=100, required=False, strip=True)
    sort = forms.ChoiceField(choices=catalog.SORT_CHOICES, required=False)
    in_stock = forms.BooleanField(required=False)


class AddToCartForm(forms.Form):
    product_id = forms.IntegerField(min_value=1, max_value=2**63 - 1)
    quantity = forms.IntegerField(min_value=1, max_value=MAX_QUANTITY_INPUT)


class QuantityForm(forms.Form):
    quantity = forms.IntegerField(min_value=0, max_value=MAX_QUANTITY_INPUT)


class LoginForm(forms.Form):
    email = forms.CharField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(
        max_length=128, strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class RegisterForm(forms.Form):
    name = forms.CharField(max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password"].help_text = password_validation.password_validators_help_text_html()


class TestCardForm(forms.Form):
    """The card, as one of Stripe's test tokens (dummy gateway, or Stripe without a publishable key)."""

    token = forms.ChoiceField(choices=payments.TEST_CARDS, widget=forms.RadioSelect)


class StripeCardForm(forms.Form):
    """The card, as the PaymentMethod id that Stripe Elements made of it in the browser."""

    token = forms.RegexField(regex=r"^pm_[A-Za-z0-9_]{1,250}$", max_length=255)


class AddressForm(forms.Form):
    """A delivery address typed in at checkout, under the rules of ``ecommerce.addresses``."""

    name = forms.CharField(
        label="Full name",
        max_length=addresses.NAME_MAX_LENGTH,
        validators=[addresses.validate_printable],
        widget=forms.TextInput(attrs={"autocomplete": "shipping name"}),
    )
    line1 = forms.CharField(
        label="Address line 1",
        max_length=addresses.LINE_MAX_LENGTH,
        validators=[addresses.validate_printable],
        widget=forms.TextInput(attrs={"autocomplete": "shipping address-line1"}),
    )
    line2 = forms.CharField(
        label="Address line 2 (optional)",
        max_length=addresses.LINE_MAX_LENGTH,
        required=False,
        validators=[addresses.validate_printable],
        widget=forms.TextInput(attrs={"autocomplete": "shipping address-line2"}),
    )
    city = forms.CharField(
        max_length=addresses.CITY_MAX_LENGTH,
        validators=[addresses.validate_printable],
        widget=forms.TextInput(attrs={"autocomplete": "shipping address-level2"}),
    )
    postal_code = forms.CharField(
        label="Postal code",
        max_length=addresses.POSTAL_CODE_MAX_LENGTH,
        validators=[addresses.validate_postal_code],
        widget=forms.TextInput(attrs={"autocomplete": "shipping postal-code"}),
    )
    country = forms.ChoiceField(
        choices=[("", "Choose a country"), *addresses.COUNTRY_CHOICES],
        widget=forms.Select(attrs={"autocomplete": "shipping country"}),
    )
    phone = forms.CharField(
        label="Phone (optional)",
        max_length=addresses.PHONE_MAX_LENGTH,
        required=False,
        validators=[addresses.validate_phone],
        widget=forms.TextInput(attrs={"autocomplete": "shipping tel", "type": "tel"}),
    )

    def address(self) -> addresses.PostalAddress:
        return addresses.PostalAddress.build(**self.cleaned_data)


NEW_ADDRESS = "new"


class DeliveryForm(forms.Form):
    """Which address (a saved one, or the new one typed in) and which shipping method an order ships with."""

    address_choice = forms.ChoiceField(label="Deliver to", widget=forms.RadioSelect)
    shipping_method = forms.TypedChoiceField(label="Shipping", coerce=int, widget=forms.RadioSelect)
    save_address = forms.BooleanField(label="Save this address in my address book", required=False)

    def __init__(self, *args, saved_addresses, shipping_options, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["address_choice"].choices = [
            *((str(saved.id), str(saved.id)) for saved in saved_addresses),
            (NEW_ADDRESS, "A new address"),
        ]
        self.fields["address_choice"].initial = str(saved_addresses[0].id) if saved_addresses else NEW_ADDRESS
        self.fields["shipping_method"].choices = [(option.id, option.name) for option in shipping_options]
        if shipping_options:
            self.fields["shipping_method"].initial = shipping_options[0].id

    @property
    def saved_address_id(self) -> int | None:
        choice = self.cleaned_data["address_choice"]
        return None if choice == NEW_ADDRESS else int(choice)


class TokenForm(forms.Form):
    """The token of a link we emailed, carried from the link's page to its confirmation button."""

    token = forms.CharField(max_length=500, widget=forms.HiddenInput)


def _password_field(autocomplete: str, label: str, with_rules: bool = False) -> forms.CharField:
    field = forms.CharField(
        label=label, max_length=128, strip=False, widget=forms.PasswordInput(attrs={"autocomplete": autocomplete})
    )
    if with_rules:
        field.help_text = password_validation.password_validators_help_text_html()
    return field


class PasswordChangeForm(forms.Form):
    current_password = _password_field("current-password", "Current password")
    new_password = _password_field("new-password", "New password", with_rules=True)


class ForgotPasswordForm(forms.Form):
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))


class ResetPasswordForm(TokenForm):
    new_password = _password_field("new-password", "New password", with_rules=True)


class DeleteAccountForm(forms.Form):
    password = _password_field("current-password", "Your password")
