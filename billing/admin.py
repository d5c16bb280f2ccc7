from django.contrib import admin

from billing.models import UsageSnapshot


@admin.register(UsageSnapshot)
class UsageSnapshotAdmin(admin.ModelAdmin):
    list_display = ["tenant", "taken_at", "balanceused"]
    list_filter = ["tenant"]
    date_hierarchy = "taken_at"
