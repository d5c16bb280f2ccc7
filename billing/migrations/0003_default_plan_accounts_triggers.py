"""The default plan, an account for every existing tenant, and on PostgreSQL the triggers that
keep the ledger append-only and issued invoices immutable."""

from datetime import date
from zoneinfo import ZoneInfo

from django.db import migrations
from django.utils import timezone

LEDGER_TRIGGER = """
CREATE OR REPLACE FUNCTION billing_refuse_change() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'billing: % on % is not allowed', TG_OP, TG_TABLE_NAME;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER usage_entry_append_only BEFORE UPDATE OR DELETE ON billing_usageentry
  FOR EACH ROW EXECUTE FUNCTION billing_refuse_change();

CREATE OR REPLACE FUNCTION billing_invoice_immutable() RETURNS trigger AS $$
BEGIN
  IF OLD.status = 'issued' THEN
    RAISE EXCEPTION 'billing: an issued invoice cannot be changed (%)', TG_OP;
  END IF;
  RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER invoice_immutable BEFORE UPDATE OR DELETE ON billing_invoice
  FOR EACH ROW EXECUTE FUNCTION billing_invoice_immutable();

CREATE OR REPLACE FUNCTION billing_invoice_line_immutable() RETURNS trigger AS $$
DECLARE
  parent integer;
BEGIN
  parent := CASE WHEN TG_OP = 'DELETE' THEN OLD.invoice_id ELSE NEW.invoice_id END;
  IF EXISTS (SELECT 1 FROM billing_invoice WHERE id = parent AND status = 'issued') THEN
    RAISE EXCEPTION 'billing: the lines of an issued invoice cannot be changed (%)', TG_OP;
  END IF;
  RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER invoice_line_immutable BEFORE INSERT OR UPDATE OR DELETE ON billing_invoiceline
  FOR EACH ROW EXECUTE FUNCTION billing_invoice_line_immutable();
"""

LEDGER_TRIGGER_DROP = """
DROP TRIGGER IF EXISTS usage_entry_append_only ON billing_usageentry;
DROP TRIGGER IF EXISTS invoice_immutable ON billing_invoice;
DROP TRIGGER IF EXISTS invoice_line_immutable ON billing_invoiceline;
DROP FUNCTION IF EXISTS billing_refuse_change();
DROP FUNCTION IF EXISTS billing_invoice_immutable();
DROP FUNCTION IF EXISTS billing_invoice_line_immutable();
"""


def triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(LEDGER_TRIGGER, params=None)


def triggers_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(LEDGER_TRIGGER_DROP, params=None)


def default_plan_and_accounts(apps, schema_editor):
    RatePlan = apps.get_model("billing", "RatePlan")
    RatePlanVersion = apps.get_model("billing", "RatePlanVersion")
    BillingAccount = apps.get_model("billing", "BillingAccount")
    Tenant = apps.get_model("accounts", "Tenant")
    plan, _ = RatePlan.objects.get_or_create(name="Standard", defaults={"is_default": True})
    if not RatePlanVersion.objects.filter(plan=plan).exists():
        RatePlanVersion.objects.create(plan=plan, effective_from=date(2000, 1, 1), markup_bp=2500)
    period = timezone.now().astimezone(ZoneInfo("Europe/Stockholm")).date().replace(day=1)
    for tenant in Tenant.objects.all():
        BillingAccount.objects.get_or_create(
            tenant=tenant,
            defaults={"plan": plan, "monthly_limit": tenant.usage_limit, "period_start": period},
        )


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_ledger_plans_invoices")]

    operations = [
        migrations.RunPython(default_plan_and_accounts, migrations.RunPython.noop),
        migrations.RunPython(triggers, triggers_drop),
    ]
