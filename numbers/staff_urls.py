from django.urls import path

from numbers import staff_views as views

app_name = "staff_numbers"
urlpatterns = [
    path("numbers/", views.numbers, name="list"),
    path("numbers/prices/", views.prices, name="prices"),
    path("numbers/<int:number_id>/", views.number_detail, name="number"),
    path("numbers/<int:number_id>/release-now/", views.number_release_now_view, name="release_now"),
    path("numbers/<int:number_id>/assign/", views.number_assign, name="assign"),
    path("tenants/<slug:slug>/rent/", views.rent_for_tenant, name="rent"),
    path("tenants/<slug:slug>/close/", views.tenant_close_view, name="close"),
    path(
        "tenants/<slug:slug>/rotate-callbacks/",
        views.tenant_rotate_callbacks,
        name="rotate_callbacks",
    ),
    path("infobip/", views.infobip_search, name="infobip"),
    path("infobip/purchase/", views.infobip_purchase, name="infobip_purchase"),
    path("infobip/owned/", views.infobip_owned, name="infobip_owned"),
    path("infobip/owned/<path:number_key>/", views.infobip_number, name="infobip_number"),
]
