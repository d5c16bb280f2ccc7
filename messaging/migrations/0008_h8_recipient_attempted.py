from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0007_seed_sender_deny_list"),
    ]

    operations = [
        migrations.AddField(
            model_name="campaignrecipient",
            name="attempted_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
