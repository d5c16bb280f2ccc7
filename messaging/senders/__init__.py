"""Sender-name governance: which text sender names a tenant may send from.

A tenant's owner requests a name; staff approve or reject it with a reason; a global deny
list (banks, public bodies, carriers) refuses look-alikes at request time. Every send path
asks `sender_name_allowed` (through `messaging.services.sender_resolve`), so only approved
names and the tenant's own numbers ever reach 46elks. Every decision is in the audit log.
"""
