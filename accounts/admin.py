from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import AuditEvent, Membership, OrphanSubaccount, Tenant, User
from core.crypto import mask


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "is_active", "date_joined", "last_login"]
    list_filter = ["is_staff", "is_active", "memberships__role"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["full_name", "phone"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    inlines = [MembershipInline]


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "status", "elks_subaccount_id", "usage", "usage_limit"]
    list_filter = ["status", "currency", "created"]
    search_fields = ["name", "slug", "elks_subaccount_id"]
    # The secret is never rendered: not as a field, only masked as a read-only value.
    exclude = ["elks_secret"]
    # Status and limits change through the staff console, which keeps 46elks in step.
    readonly_fields = [
        "secret",
        "elks_subaccount_id",
        "status",
        "usage_limit",
        "suspended_usage_limit",
        "usage",
        "usage_synced_at",
        "created",
    ]
    inlines = [MembershipInline]

    @admin.display(description="46elks secret")
    def secret(self, obj: Tenant) -> str:
        return mask(obj.elks_secret) or "—"


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "tenant", "role", "created"]
    list_filter = ["role", "tenant__status"]
    search_fields = ["user__email", "tenant__name"]
    autocomplete_fields = ["user", "tenant"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created", "actor", "action", "tenant", "ip"]
    list_filter = ["action"]
    search_fields = ["actor__email", "tenant__name"]
    date_hierarchy = "created"

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(OrphanSubaccount)
class OrphanSubaccountAdmin(admin.ModelAdmin):
    list_display = ["subaccount_id", "name", "detected", "resolved"]
    list_filter = ["resolved"]
    search_fields = ["subaccount_id", "name"]
