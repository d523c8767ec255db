"""Forms for the catalogue pages: the product-list upload and the price filing (price typed in yuan)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from huanxin.accounts.models import Organisation
from huanxin.catalogue.domain.categories import CATEGORY_CHOICES
from huanxin.catalogue.domain.tabular import MAX_FILE_BYTES, MAX_ROWS
from huanxin.catalogue.models import CategoryPriceRule, ProductModel
from huanxin.core.forms import YuanField


class ImportForm(forms.Form):
    file = forms.FileField(
        label="产品清单文件",
        help_text=f"支持 .xlsx 和 .csv（UTF-8 或 GB18030 编码），不超过 {MAX_FILE_BYTES // (1024 * 1024)} MB、"
        f"{MAX_ROWS:,} 行",
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
        error_messages={"required": "请选择要导入的文件", "empty": "文件是空的"},
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        # Refused before the bytes are read into memory; the service checks again for other callers.
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                f"文件大小超过 {MAX_FILE_BYTES // (1024 * 1024)} MB，请拆分为多个文件分批导入", code="file_too_large"
            )
        return upload


class PriceFilingForm(forms.Form):
    merchant = forms.ModelChoiceField(queryset=Organisation.objects.none(), label="商户", empty_label=None)
    # Rendered as radio buttons from the search results (never as a select of the whole catalogue).
    product = forms.ModelChoiceField(
        queryset=ProductModel.objects.all(),
        label="产品型号",
        error_messages={"required": "请先搜索并选择产品型号", "invalid_choice": "所选产品型号不存在"},
    )
    # People paste prices with the yuan sign; a filed price of 0 would make every subsidy 0.
    price = YuanField(
        strip_symbols=True,
        minimum_fen=1,
        minimum_message="备案价格必须大于 0",
        minimum_code="invalid_price",
        label="备案价格（元）",
        widget=forms.TextInput(
            attrs={"inputmode": "decimal", "autocomplete": "off", "placeholder": "例如 3999.00", "maxlength": 20}
        ),
        help_text="单件商品的最终售价（含各项优惠后、补贴前）",
    )
    effective_from = forms.DateField(
        label="生效日期",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="不能早于今天",
    )
    note = forms.CharField(label="备注", max_length=200, required=False)

    def __init__(self, *args: Any, merchants: QuerySet[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["merchant"].queryset = merchants  # type: ignore[attr-defined]


class PriceRuleForm(forms.Form):
    category = forms.ChoiceField(label="品类", choices=CATEGORY_CHOICES)
    ceiling = YuanField(
        strip_symbols=True,
        minimum_fen=1,
        minimum_message="成交价上限必须大于 0",
        minimum_code="invalid_amount",
        label="成交价上限（元）",
        help_text="核销时成交价高于此金额即拒绝",
    )
    above_filed_price = forms.ChoiceField(
        label="成交价高于备案价时",
        choices=CategoryPriceRule.AboveFiledPrice.choices,
        help_text="拒绝：不能核销；暂扣：顾客照常立减，商户该笔清算款暂扣，审核人员放行后随下一期支付",
    )
