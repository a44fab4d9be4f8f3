from accounts import api
from ecommerce.urlpatterns import ID, route

urlpatterns = [
    route("register", api.RegisterView.as_view(), "auth-register"),
    route("verify-email", api.VerifyEmailView.as_view(), "auth-verify-email"),
    route("verify-email/resend", api.ResendVerificationView.as_view(), "auth-verify-email-resend"),
    route("login", api.LoginView.as_view(), "auth-login"),
    route("refresh", api.RefreshView.as_view(), "auth-refresh"),
    route("logout", api.LogoutView.as_view(), "auth-logout"),
    route("password-reset", api.PasswordResetView.as_view(), "auth-password-reset"),
    route("password-reset/confirm", api.PasswordResetConfirmView.as_view(), "auth-password-reset-confirm"),
    route("me", api.MeView.as_view(), "auth-me"),
    route("me/password", api.PasswordChangeView.as_view(), "auth-me-password"),
    route("me/addresses", api.AddressListView.as_view(), "auth-me-addresses"),
    route(rf"me/addresses/{ID}", api.AddressDetailView.as_view(), "auth-me-address"),
]
