from django.contrib import admin
from django.urls import include, path

from accounts import views as account_views
from api.v1.api import api as api_v1
from calls.media import greeting_public
from calls.webhooks import elks_voice_start
from messaging.delivery_reports import elks_campaign_report, elks_delivery_report
from messaging.media import mms_public_image, mms_webhook_image
from numbers.webhooks import elks_number_hook

# Every tenant page hangs under /t/<tenant_slug>/: accounts.middleware scopes it.
tenant_patterns = [
    path("", include("console.portal_urls")),
    path("numbers/", include("numbers.urls")),
    path("calls/", include("calls.urls")),
    path("messages/webhooks/", include("messaging.customer_webhooks.urls")),
    path("messages/senders/", include("messaging.senders.urls")),
    path("messages/", include("messaging.urls")),
    path("contacts/", include("messaging.contacts.urls")),
    path("campaigns/", include("messaging.campaigns.urls")),
    path("billing/", include("billing.urls")),
    path("api/", include("api.portal_urls")),
]

urlpatterns = [
    # Provider callbacks first: the busiest URLs resolve after three patterns, not twelve.
    # (dlr/cdlr before the number hook, which would also match them.)
    path("hooks/elks/dlr/<str:token>/", elks_delivery_report, name="elks_dlr"),
    path("hooks/elks/cdlr/<str:token>/", elks_campaign_report, name="elks_campaign_dlr"),
    # voice_start is answered with the call plan (calls); the other kinds are only stored.
    path("hooks/elks/<str:token>/voice/", elks_voice_start, name="elks_voice_start"),
    path("hooks/elks/<str:token>/<slug:kind>/", elks_number_hook, name="elks_number_hook"),
    # The tenant API: 46elks' own paths, and the JSON API (api.middleware authenticates).
    path("a1/", include("api.elks.urls")),
    path("api/v1/", api_v1.urls),
    path("", account_views.home, name="home"),
    path("healthz", account_views.healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("staff/", include("console.staff_urls")),
    path("staff/", include("numbers.staff_urls")),
    path("staff/", include("console.provider_event_urls")),
    path("staff/", include("messaging.campaigns.staff_urls")),
    path("staff/", include("messaging.senders.staff_urls")),
    path("staff/", include("billing.staff_urls")),
    path("staff/", include("api.staff_urls")),
    path("admin/", admin.site.urls),
    path("media/mms/<str:token>/", mms_public_image, name="mms_public_image"),
    path("media/mms/in/<str:token>/", mms_webhook_image, name="mms_webhook_image"),
    path("media/greetings/<str:token>/", greeting_public, name="greeting_public"),
    path("t/<slug:tenant_slug>/", include(tenant_patterns)),
]

handler403 = "accounts.views.permission_denied"
handler404 = "accounts.views.not_found"
