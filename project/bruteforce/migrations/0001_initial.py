from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="FailureWindow",
            fields=[
                ("address", models.CharField(max_length=64, primary_key=True, serialize=False)),
                (
                    "started_at",
                    models.FloatField(db_index=True, help_text="Unix time of the window's first failure"),
                ),
                ("failures", models.PositiveIntegerField()),
            ],
        ),
    ]
