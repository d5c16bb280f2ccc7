from django.urls import path

from numbers import views

app_name = "numbers"
urlpatterns = [
    path("", views.number_list, name="list"),
    path("rent/", views.number_rent_view, name="rent"),
    path("rent/price/", views.number_price, name="price"),
    path("<int:number_id>/", views.number_detail, name="detail"),
    path("<int:number_id>/routing/", views.number_route_view, name="route"),
    path("<int:number_id>/release/", views.number_release_view, name="release"),
    path("<int:number_id>/restore/", views.number_restore_view, name="restore"),
    path("<int:number_id>/reapply/", views.number_reapply_view, name="reapply"),
    path("<int:number_id>/rotate-token/", views.number_rotate_view, name="rotate"),
]
