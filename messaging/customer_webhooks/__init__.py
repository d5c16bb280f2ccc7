"""Customer webhooks: inbound SMS/MMS posted, signed, to a tenant's own URLs, with retries."""
