from accounts import api
from ecommerce.urlpatterns import ID, route

urlpatterns = [
    route("register", api.RegisterView.as_view(), "auth-register"),
    route("login", api.LoginView.as_view(), "auth-login"),
    route("refresh", api.RefreshView.as_view(), "auth-refresh"),
    route("logout", api.LogoutView.as_view(), "auth-logout"),
    route("me", api.MeView.as_view(), "auth-me"),
    route("me/addresses", api.AddressListView.as_view(), "auth-me-addresses"),
    route(rf"me/addresses/{ID}", api.AddressDetailView.as_view(), "auth-me-address"),
]
