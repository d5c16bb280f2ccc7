import messaging.senders.admin  # noqa: F401  (the admin of the senders subpackage)
