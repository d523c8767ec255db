"""Load Beijing's 16 districts (GB/T 2260) and the economic-technological development area."""

import tomllib
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data" / "districts-beijing.toml"


def load(apps, schema_editor):
    District = apps.get_model("accounts", "District")
    rows = tomllib.loads(DATA.read_text(encoding="utf-8"))["districts"]
    for order, row in enumerate(rows):
        District.objects.update_or_create(
            code=row["code"],
            defaults={"name": row["name"], "short_name": row["short_name"], "kind": row["kind"], "sort_order": order},
        )


def unload(apps, schema_editor):
    District = apps.get_model("accounts", "District")
    codes = [row["code"] for row in tomllib.loads(DATA.read_text(encoding="utf-8"))["districts"]]
    District.objects.filter(code__in=codes).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
