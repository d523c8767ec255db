# Payees and payable sources, step 3 of 3: every payable now has a programme and a source, paid once.

import django.db.models.deletion
import django.db.models.expressions
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('settlement', '0004_merchant_payables_become_sourced'),
    ]

    operations = [
        migrations.AlterField(
            model_name='payable',
            name='programme',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='payables', to='policy.programme'),
        ),
        migrations.AlterField(
            model_name='payable',
            name='source_kind',
            field=models.CharField(max_length=40, verbose_name='来源'),
        ),
        migrations.AlterField(
            model_name='payable',
            name='source_ref',
            field=models.CharField(max_length=100, verbose_name='来源编号'),
        ),
        migrations.RemoveIndex(
            model_name='payable',
            name='settlement_payable_queue_idx',
        ),
        migrations.AddIndex(
            model_name='payable',
            index=models.Index(fields=['programme', 'status', 'id'], name='settlement_payable_queue_idx2'),
        ),
        migrations.AddIndex(
            model_name='payable',
            index=models.Index(condition=models.Q(('source_kind', 'consumer-subsidy'), _negated=True), fields=['payee'], name='settlement_payable_payee_idx'),
        ),
        migrations.AddConstraint(
            model_name='payable',
            constraint=models.UniqueConstraint(condition=models.Q(('source_kind', 'consumer-subsidy'), _negated=True), fields=('source_kind', 'source_ref'), name='settlement_payable_source_uniq'),
        ),
        migrations.AddConstraint(
            model_name='payable',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('source_kind', 'consumer-subsidy'), ('period__isnull', False), ('recipient__isnull', False)), models.Q(models.Q(('source_kind', 'consumer-subsidy'), _negated=True), ('period__isnull', True), ('recipient__isnull', True), ('payee__isnull', False), ('amount_fen__gt', 0)), _connector='OR'), name='settlement_payable_source_shape'),
        ),
        migrations.AddConstraint(
            model_name='payable',
            constraint=models.CheckConstraint(condition=models.Q(('period__isnull', True), ('amount_fen', django.db.models.expressions.CombinedExpression(django.db.models.expressions.CombinedExpression(django.db.models.expressions.CombinedExpression(django.db.models.expressions.CombinedExpression(models.F('redemptions_fen'), '+', models.F('released_fen')), '-', models.F('clawbacks_fen')), '+', models.F('carried_in_fen')), '-', models.F('carried_out_fen'))), _connector='OR'), name='settlement_payable_balance'),
        ),
    ]
