"""The tenant API in Django admin: keys (never their secret hash), limits, the request log.

Keys are created and revoked on the portal and staff pages (audited there); here they are
read-only apart from the label.
"""

from django.contrib import admin

from api.models import ApiKey, ApiRequest, ApiSettings


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["label", "key_id", "tenant", "created", "last_used_at", "revoked_at"]
    list_filter = ["tenant"]
    search_fields = ["label", "key_id"]
    exclude = ["secret_hash"]
    readonly_fields = [
        "tenant", "key_id", "secret_prefix", "scopes", "created", "created_by",
        "last_used_at", "last_ip", "revoked_at", "revoked_by",
    ]  # fmt: skip

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(ApiSettings)
class ApiSettingsAdmin(admin.ModelAdmin):
    list_display = ["tenant", "key_rate", "key_burst", "tenant_rate", "tenant_burst"]
    readonly_fields = ["tenant"]


@admin.register(ApiRequest)
class ApiRequestAdmin(admin.ModelAdmin):
    list_display = ["created", "tenant", "method", "path", "status", "latency_ms", "ip"]
    list_filter = ["status", "method"]
    date_hierarchy = "created"

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
