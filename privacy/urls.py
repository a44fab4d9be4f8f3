from ecommerce.urlpatterns import route
from privacy import api

urlpatterns = [route("", api.AccountExportView.as_view(), "auth-me-export")]
