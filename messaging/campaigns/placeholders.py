"""Campaign text placeholders: `{first_name}`, `{first_name|there}`, and the known field names."""

from __future__ import annotations

import re

from django.db import connection

from accounts.models import Tenant
from messaging.contacts.models import Contact

PLACEHOLDER = re.compile(r"\{(\w+)(?:\|([^{}]*))?\}")


def template_fields(template: str) -> list[str]:
    return list(dict.fromkeys(m.group(1) for m in PLACEHOLDER.finditer(template)))


def template_render(template: str, values: dict[str, str]) -> str:
    """`{first_name}` is the contact's field; `{first_name|there}` falls back to "there"."""

    def replace(match: re.Match[str]) -> str:
        value = (values.get(match.group(1)) or "").strip()
        return value or (match.group(2) or "")

    return PLACEHOLDER.sub(replace, template)


# Fields every contact has (Contact.template_values); custom fields come from the contacts.
BUILTIN_FIELDS = ("first_name", "last_name", "name", "phone")
# Something in braces that is not a placeholder: `{first name}`, `{}`.
BRACED = re.compile(r"\{[^{}]*\}")


def contact_field_names(tenant: Tenant) -> list[str]:
    """The custom field keys the tenant's contacts have, usable as placeholders."""
    table = Contact._meta.db_table
    if connection.vendor == "postgresql":
        sql = f"SELECT DISTINCT jsonb_object_keys(fields) FROM {table} WHERE tenant_id = %s"
    else:
        sql = (
            f"SELECT DISTINCT j.key FROM {table} c, json_each(c.fields) j "
            "WHERE c.tenant_id = %s AND json_type(c.fields) = 'object'"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, [tenant.pk])
        keys = {row[0] for row in cursor.fetchall()}
    return sorted(k for k in keys if re.fullmatch(r"\w+", k) and k not in BUILTIN_FIELDS)


def template_known_fields(tenant: Tenant) -> list[str]:
    return [*BUILTIN_FIELDS, *contact_field_names(tenant)]
