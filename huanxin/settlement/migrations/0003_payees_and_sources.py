# Payees and payable sources, step 1 of 3: the new table and columns, nullable so existing rows can be filled.

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0004_roles_and_kinds_for_cars_renewal_market_and_oversight'),
        ('policy', '0003_budget_slices_and_programme_settings'),
        ('settlement', '0002_held_sales_released'),
    ]

    operations = [
        migrations.CreateModel(
            name='Payee',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('person', '个人'), ('organisation', '单位')], max_length=12, verbose_name='收款人类型')),
                ('reference', models.CharField(max_length=100, unique=True, verbose_name='收款人标识')),
                ('name', models.CharField(max_length=120, verbose_name='收款人')),
                ('account_name', models.CharField(max_length=120, verbose_name='账户名称')),
                ('bank_name', models.CharField(max_length=100, verbose_name='开户银行')),
                ('account_cipher', models.TextField()),
                ('account_digest', models.CharField(max_length=64)),
                ('account_masked', models.CharField(max_length=40, verbose_name='银行账号')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('updated_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('organisation', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='payees', to='accounts.organisation')),
                ('person', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='payees', to='accounts.person')),
            ],
            options={
                'verbose_name': '收款人',
                'verbose_name_plural': '收款人',
                'indexes': [models.Index(condition=models.Q(('person__isnull', False)), fields=['person'], name='settlement_payee_person_idx'), models.Index(condition=models.Q(('kind', 'person')), fields=['account_digest'], name='settlement_payee_account_idx')],
                'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('kind', 'person'), ('organisation__isnull', True)), models.Q(('kind', 'organisation'), ('person__isnull', True)), _connector='OR'), name='settlement_payee_kind')],
            },
        ),
        migrations.RemoveConstraint(
            model_name='payable',
            name='settlement_payable_balance',
        ),
        migrations.AddField(
            model_name='payable',
            name='programme',
            field=models.ForeignKey(db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='payables', to='policy.programme'),
        ),
        migrations.AddField(
            model_name='payable',
            name='source_kind',
            field=models.CharField(default='', max_length=40, verbose_name='来源'),
        ),
        migrations.AddField(
            model_name='payable',
            name='source_ref',
            field=models.CharField(default='', max_length=100, verbose_name='来源编号'),
        ),
        migrations.AlterField(
            model_name='payable',
            name='period',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='payables', to='settlement.settlementperiod'),
        ),
        migrations.AlterField(
            model_name='payable',
            name='recipient',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='payables', to='accounts.organisation'),
        ),
        migrations.AddField(
            model_name='payable',
            name='payee',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='payables', to='settlement.payee'),
        ),
    ]
