"""Seed the sender-name deny list: banks, payment services, public bodies, carriers and
couriers whose names smishers use, Swedish and international. Staff edit it afterwards."""

from django.db import migrations

# (term, exact): exact for short names that are also parts of ordinary words ("Tre" in
# "Centre", "SEB" in "Sebastian", "Tax" in "Taxi"); every other term refuses any name that
# contains it.
DENIED = [
    # Banks and payment services
    ("Bank", False),
    ("Swedbank", False),
    ("Nordea", False),
    ("SEB", True),
    ("Handelsbanken", False),
    ("Danske Bank", False),
    ("Länsförsäkringar", False),
    ("Sparbanken", False),
    ("ICA Banken", False),
    ("Ikano", False),
    ("Avanza", False),
    ("Nordnet", False),
    ("Santander", False),
    ("Resurs", False),
    ("Klarna", False),
    ("Swish", False),
    ("BankID", False),
    ("Bankgirot", False),
    ("Trustly", False),
    ("Kivra", False),
    ("PayPal", False),
    ("Revolut", False),
    ("Visa", True),
    ("Mastercard", False),
    ("American Express", False),
    ("Amex", True),
    ("Vipps", False),
    ("MobilePay", False),
    ("Coinbase", False),
    ("Binance", False),
    # Public bodies
    ("Skatteverket", False),
    ("Polisen", False),
    ("Polis", True),
    ("Police", False),
    ("Kronofogden", False),
    ("Försäkringskassan", False),
    ("Pensionsmyndigheten", False),
    ("Arbetsförmedlingen", False),
    ("Transportstyrelsen", False),
    ("Migrationsverket", False),
    ("Bolagsverket", False),
    ("Tullverket", False),
    ("Tullen", True),
    ("CSN", True),
    ("Vårdguiden", False),
    ("Regeringen", False),
    ("Myndighet", False),
    ("Government", False),
    ("Gov", True),
    ("Tax", True),
    # Carriers and the provider
    ("Telia", False),
    ("Tele2", False),
    ("Telenor", False),
    ("Tre", True),
    ("Comviq", False),
    ("Halebop", False),
    ("Hallon", True),
    ("46elks", False),
    # Couriers and post
    ("PostNord", False),
    ("Posten", False),
    ("DHL", False),
    ("UPS", True),
    ("FedEx", False),
    ("Budbee", False),
    ("Instabox", False),
    ("Bring", True),
    ("GLS", True),
    ("DB Schenker", False),
    # Large brands people trust
    ("Apple", False),
    ("iCloud", False),
    ("Google", False),
    ("Microsoft", False),
    ("Amazon", False),
    ("Netflix", False),
    ("Spotify", False),
    ("Facebook", False),
    ("Instagram", False),
    ("WhatsApp", False),
]


def seed(apps, schema_editor):
    Denied = apps.get_model("messaging", "DeniedSenderName")
    for term, exact in DENIED:
        Denied.objects.get_or_create(term=term, defaults={"exact": exact, "note": "seeded"})


def unseed(apps, schema_editor):
    Denied = apps.get_model("messaging", "DeniedSenderName")
    Denied.objects.filter(term__in=[t for t, _ in DENIED], note="seeded").delete()


class Migration(migrations.Migration):
    dependencies = [("messaging", "0006_sender_names_and_parts_limit")]

    operations = [migrations.RunPython(seed, unseed)]
