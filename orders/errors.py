from ecommerce.errors import Conflict, DomainError, NotFound


class OrderNotFound(NotFound):
    default_message = "No such order."


class CartEmpty(Conflict):
    code = "cart_empty"
    default_message = "The cart is empty."


class InvalidTransition(Conflict):
    code = "invalid_transition"
    default_message = "The order cannot move to this status from its current one."


class OrderNotPayable(Conflict):
    code = "order_not_payable"
    default_message = "This order can no longer be paid."


class AlreadyPaid(Conflict):
    code = "already_paid"
    default_message = "This order is paid already."


class NoPaymentToRefund(Conflict):
    """A refund was asked for an order that no payment of ours paid, so there is no money to give back."""

    code = "no_payment_to_refund"
    default_message = "This order has no successful payment to refund."


class RefundProviderUnavailable(DomainError):
    """The payment provider could not be reached to refund the order; it stays paid, and may be refunded later."""

    status = 503
    code = "payment_provider_unavailable"
    default_message = "The payment provider is unavailable. Please try again later."


class ShippingMethodRequired(DomainError):
    code = "shipping_method_required"
    default_message = "Choose a shipping method for the delivery address."


class ShippingAddressRequired(DomainError):
    code = "shipping_address_required"
    default_message = "Give a delivery address (shippingAddress or addressId) with the shipping method."


class AmbiguousAddress(DomainError):
    code = "ambiguous_address"
    default_message = "Give either shippingAddress or addressId, not both."


class ShippingMethodUnavailable(NotFound):
    code = "shipping_method_unavailable"
    default_message = "This shipping method is not offered."


class TooManyPendingOrders(Conflict):
    """The customer has MAX_PENDING_ORDERS unpaid orders holding stock: one must be paid, cancelled or expire."""

    code = "too_many_pending_orders"
    default_message = "You have too many unpaid orders. Pay or cancel one before placing another."


class ReservedUnitsLimit(Conflict):
    """The order would take the units held by the customer's unpaid orders past MAX_RESERVED_UNITS."""

    code = "reserved_units_limit"
    default_message = "Your unpaid orders would hold too many units. Pay or cancel one, or order fewer."
