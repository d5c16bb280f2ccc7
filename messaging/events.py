"""The 46elks events messaging reacts to: registered in MessagingConfig.ready.

The handlers live with their domain (inbound messages and delivery reports in
messaging.inbound, campaign reports with the campaign engine); this is the one list.
"""

from __future__ import annotations

from providers.events import register, register_batch


def register_handlers() -> None:
    from messaging.campaigns.reports import campaign_delivery_report, campaign_reports_batch
    from messaging.inbound import (
        delivery_report,
        delivery_reports_batch,
        inbound_mms,
        inbound_sms,
        inbound_sms_batch,
    )

    register("elks", "sms", inbound_sms)
    register("elks", "mms", inbound_mms)
    register("elks", "dlr", delivery_report)
    register_batch("elks", "sms", inbound_sms_batch)
    register_batch("elks", "dlr", delivery_reports_batch)
    register_batch("elks", "cdlr", campaign_reports_batch)
    register("elks", "cdlr", campaign_delivery_report)
