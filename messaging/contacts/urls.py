from django.urls import path

from messaging.contacts import views

app_name = "contacts"
urlpatterns = [
    path("", views.contact_list, name="list"),
    path("new/", views.contact_new, name="new"),
    path("c/<int:contact_id>/", views.contact_detail, name="detail"),
    path("c/<int:contact_id>/delete/", views.contact_delete_view, name="delete"),
    path("members/", views.list_members, name="list_members"),
    path("export.csv", views.export, name="export"),
    path("lists/", views.lists, name="lists"),
    path("lists/<int:list_id>/", views.list_edit, name="list_edit"),
    path("lists/<int:list_id>/delete/", views.list_delete_view, name="list_delete"),
    path("import/", views.import_start, name="import"),
    path("import/<int:import_id>/", views.import_detail, name="import_detail"),
    path("import/<int:import_id>/map/", views.import_map, name="import_map"),
    path("import/<int:import_id>/rejected.csv", views.import_rejections, name="import_rejections"),
]
