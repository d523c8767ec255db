"""Load the 23 measures of 京政发〔2024〕14号 and their responsible units from the shipped data file."""

import datetime
import tomllib
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data" / "measures-bj-2024-14.toml"


def load(apps, schema_editor):
    PlanDocument = apps.get_model("policy", "PlanDocument")
    ResponsibleUnit = apps.get_model("policy", "ResponsibleUnit")
    Measure = apps.get_model("policy", "Measure")
    MeasureUnit = apps.get_model("policy", "MeasureUnit")
    data = tomllib.loads(DATA.read_text(encoding="utf-8"))
    doc = data["document"]
    issued = doc["issued_on"]
    document, _ = PlanDocument.objects.update_or_create(
        number=doc["number"],
        defaults={
            "title": doc["title"],
            "issuer": doc["issuer"],
            "issued_on": issued if isinstance(issued, datetime.date) else datetime.date.fromisoformat(issued),
            "target_year": doc.get("target_year"),
        },
    )
    units = {}
    for row in data["units"]:
        units[row["short_name"]], _ = ResponsibleUnit.objects.update_or_create(
            short_name=row["short_name"], defaults={"full_name": row["name"]}
        )
    for row in data["measures"]:
        measure, _ = Measure.objects.update_or_create(
            document=document,
            number=row["number"],
            defaults={
                "numeral": row["numeral"],
                "area_number": row["area_number"],
                "area": row["area"],
                "title": row["title"],
                "summary": row["summary"],
                "targets": row.get("targets", []),
            },
        )
        MeasureUnit.objects.filter(measure=measure).delete()
        for position, name in enumerate([row["lead_unit"], *row.get("other_units", [])]):
            MeasureUnit.objects.create(measure=measure, unit=units[name], is_lead=position == 0, position=position)


def unload(apps, schema_editor):
    apps.get_model("policy", "MeasureUnit").objects.all().delete()
    apps.get_model("policy", "Measure").objects.all().delete()
    apps.get_model("policy", "ResponsibleUnit").objects.all().delete()
    apps.get_model("policy", "PlanDocument").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("policy", "0001_programmes_measures_rule_sets")]

    operations = [migrations.RunPython(load, unload)]
