"""Qualifications issued before validity stopped at the programme's last day: bring their expiry back to it.

Only unused (issued) qualifications change; each change writes an audit row with the old and new expiry.
Not reversed: the longer validity was never allowed to be spent.
"""

import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import migrations


def clamp(apps, schema_editor):
    Programme = apps.get_model("policy", "Programme")
    Qualification = apps.get_model("subsidies", "Qualification")
    AuditEntry = apps.get_model("core", "AuditEntry")
    zone = ZoneInfo(settings.TIME_ZONE)
    for programme in Programme.objects.filter(ends_on__isnull=False).order_by("pk"):
        end = datetime.datetime.combine(programme.ends_on + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
        outliving = Qualification.objects.filter(programme_id=programme.pk, status="issued", expires_at__gt=end)
        for qualification in outliving.order_by("pk").only("pk", "code", "expires_at", "district_id"):
            AuditEntry.objects.create(
                actor_label="migration subsidies.0003",
                action="subsidies.qualification.clamp_expiry",
                object_type="subsidies.qualification",
                object_id=str(qualification.pk),
                object_label=qualification.code,
                before={"expires_at": qualification.expires_at.isoformat()},
                after={"expires_at": end.isoformat(), "programme_ends_on": programme.ends_on.isoformat()},
                district_code=qualification.district_id,
            )
        outliving.update(expires_at=end)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_job_runs"),
        ("policy", "0003_budget_slices_and_programme_settings"),
        ("subsidies", "0002_clawback_fillfactor"),
    ]

    operations = [migrations.RunPython(clamp, migrations.RunPython.noop)]
