import pytest
from django.db import DatabaseError, connection, transaction

from huanxin.conftest import make_organisation, make_user
from huanxin.core import audit
from huanxin.core.models import AppendOnlyError, AuditEntry


@pytest.fixture
def entry(db):
    user = make_user()
    organisation = make_organisation()
    with transaction.atomic():
        return audit.record(actor=user, action="test.change", target=organisation, before={"a": 1}, after={"a": 2})


def test_record_keeps_actor_object_values_and_request_id(entry):
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert stored.action == "test.change"
    assert stored.object_type == "accounts.organisation"
    assert stored.before == {"a": 1}
    assert stored.after == {"a": 2}
    assert stored.actor_label == str(entry.actor)


def test_audit_rows_cannot_be_changed_through_the_orm(entry):
    entry.action = "tampered"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(action="tampered")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.get(pk=entry.pk).action == "test.change"


def test_audit_rows_cannot_be_updated_with_raw_sql(entry):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditentry SET action = %s WHERE id = %s", ["tampered", entry.pk])
    assert AuditEntry.objects.get(pk=entry.pk).action == "test.change"


@pytest.mark.postgres
def test_audit_rows_cannot_be_deleted_with_raw_sql_on_postgresql(entry):
    if connection.vendor != "postgresql":
        pytest.skip("the DELETE trigger exists on PostgreSQL only")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditentry WHERE id = %s", [entry.pk])
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_record_refuses_to_run_outside_a_transaction():
    organisation = make_organisation()
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit.record(actor=None, action="x", target=organisation)
    assert AuditEntry.objects.count() == 0
