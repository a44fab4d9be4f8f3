"""Shop pages, mounted at /shop/ (plain Django paths, with their trailing slash)."""

from django.urls import path

from storefront import account, views

app_name = "storefront"

urlpatterns = [
    path("", views.product_list, name="product-list"),
    path("products/<int:product_id>/", views.product_detail, name="product-detail"),
    path("cart/", views.cart_detail, name="cart"),
    path("cart/add/", views.cart_add, name="cart-add"),
    path("cart/<int:product_id>/quantity/", views.cart_set_quantity, name="cart-set-quantity"),
    path("cart/<int:product_id>/remove/", views.cart_remove, name="cart-remove"),
    path("checkout/", views.checkout, name="checkout"),
    path("orders/", views.order_list, name="order-list"),
    path("orders/<int:order_id>/", views.order_detail, name="order-detail"),
    path("orders/<int:order_id>/pay/", views.order_pay, name="order-pay"),
    path("orders/<int:order_id>/cancel/", views.order_cancel, name="order-cancel"),
    path("account/register/", views.register, name="register"),
    path("account/login/", views.log_in, name="login"),
    path("account/logout/", views.log_out, name="logout"),
    path("account/", account.account, name="account"),
    path("account/verify-email/", account.verify_email, name="verify-email"),
    path("account/verify-email/resend/", account.resend_verification, name="verify-email-resend"),
    path("account/password/", account.change_password, name="password-change"),
    path("account/forgot-password/", account.forgot_password, name="password-reset"),
    path("account/reset-password/", account.reset_password, name="password-reset-confirm"),
    path("account/export/", account.export, name="account-export"),
    path("account/delete/", account.delete_account, name="account-delete"),
]
