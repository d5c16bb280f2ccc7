from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0009_campaign_messages_in_log"),
    ]

    operations = [
        migrations.AddField(
            model_name="campaignrecipient",
            name="attempted_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
