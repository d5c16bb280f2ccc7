from django.urls import path

from messaging.campaigns import views

app_name = "campaigns"
urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("new/", views.campaign_new, name="new"),
    path("preview/", views.campaign_compose_preview, name="preview"),
    path("<int:campaign_id>/", views.campaign_detail, name="detail"),
    path("<int:campaign_id>/edit/", views.campaign_edit, name="edit"),
    path("<int:campaign_id>/progress/", views.campaign_progress_view, name="progress"),
    path("<int:campaign_id>/launch/", views.campaign_launch_view, name="launch"),
    path("<int:campaign_id>/pause/", views.campaign_pause_view, name="pause"),
    path("<int:campaign_id>/resume/", views.campaign_resume_view, name="resume"),
    path("<int:campaign_id>/cancel/", views.campaign_cancel_view, name="cancel"),
    path("<int:campaign_id>/recipients/", views.campaign_recipients, name="recipients"),
    path("<int:campaign_id>/recipients.csv", views.campaign_recipients_csv, name="recipients_csv"),
]
