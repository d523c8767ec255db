# Payees and payable sources, step 2 of 3: every existing payable is a merchant's period payable of the
# consumer-goods programme. It gets its programme (its period's), source consumer-subsidy with the reference
# "<period>:<merchant>", and as payee the merchant's enrolment account in that programme (created here from
# the enrolment, as settlement syncs it from then on); a merchant without an enrolment keeps no payee, and
# its payable no line, as before. Set-based SQL that SQLite and PostgreSQL both run.

from django.db import migrations
from django.utils import timezone


def forwards(apps, schema_editor):
    now = timezone.now()
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "UPDATE settlement_payable SET "
            "programme_id = (SELECT s.programme_id FROM settlement_settlementperiod s "
            "WHERE s.id = settlement_payable.period_id), "
            "source_kind = 'consumer-subsidy', "
            "source_ref = CAST(period_id AS text) || ':' || CAST(recipient_id AS text)"
        )
        cursor.execute(
            "INSERT INTO settlement_payee (kind, reference, name, organisation_id, person_id, account_name, "
            "bank_name, account_cipher, account_digest, account_masked, created_at, updated_at) "
            "SELECT 'organisation', 'merchant:' || CAST(e.programme_id AS text) || ':' || "
            "CAST(e.organisation_id AS text), o.name, e.organisation_id, NULL, e.account_name, e.bank_name, "
            "e.bank_account_cipher, e.bank_account_digest, e.bank_account_masked, %s, %s "
            "FROM subsidies_enrolment e JOIN accounts_organisation o ON o.id = e.organisation_id "
            "WHERE EXISTS (SELECT 1 FROM settlement_payable p "
            "WHERE p.recipient_id = e.organisation_id AND p.programme_id = e.programme_id)",
            [now, now],
        )
        cursor.execute(
            "UPDATE settlement_payable SET payee_id = (SELECT y.id FROM settlement_payee y WHERE y.reference = "
            "'merchant:' || CAST(settlement_payable.programme_id AS text) || ':' || "
            "CAST(settlement_payable.recipient_id AS text))"
        )


def backwards(apps, schema_editor):
    # Before payees, every payable was a merchant's: payables of other sources have nowhere to go back to.
    if apps.get_model("settlement", "Payable").objects.exclude(source_kind="consumer-subsidy").exists():
        raise RuntimeError("payables of sources other than consumer-subsidy exist: cannot go back before payees")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("UPDATE settlement_payable SET payee_id = NULL")
        cursor.execute("DELETE FROM settlement_payee WHERE reference LIKE 'merchant:%%'")


class Migration(migrations.Migration):

    dependencies = [
        ('settlement', '0003_payees_and_sources'),
        ('subsidies', '0005_redemption_holds'),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
