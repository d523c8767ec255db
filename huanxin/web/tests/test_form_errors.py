"""Form errors reach people as finished sentences: Django's validator messages with their values filled in."""

from __future__ import annotations

from pathlib import Path

from django import forms
from django.template.loader import render_to_string
from django.utils import translation

ROOT = Path(__file__).resolve().parents[2]


class _AmountForm(forms.Form):
    weight = forms.DecimalField(label="重量", min_value=0, max_digits=6, decimal_places=3)
    count = forms.IntegerField(label="数量", max_value=10)


def test_a_validator_message_is_shown_with_its_limit_filled_in():
    form = _AmountForm(data={"weight": "-1", "count": "11"})
    assert not form.is_valid()
    with translation.override("zh-hans"):
        field_html = render_to_string("web/field.html", {"field": form["weight"]})
        count_html = render_to_string("web/field.html", {"field": form["count"]})
    assert "确保该值大于或等于0。" in field_html
    assert 'data-code="min_value"' in field_html
    assert "确保该值小于或等于10。" in count_html
    assert "%(" not in field_html + count_html


def test_a_non_field_message_is_shown_with_its_values_filled_in():
    form = _AmountForm(data={"weight": "1", "count": "1"})
    assert form.is_valid()
    form.add_error(None, forms.ValidationError("最多 %(limit)s 件", code="too_many", params={"limit": 3}))
    html = render_to_string("web/form_errors.html", {"form": form})
    assert "最多 3 件" in html
    assert 'data-code="too_many"' in html


def test_no_template_shows_an_error_message_before_its_values_are_filled_in():
    # ``errors.as_data`` yields ValidationError objects whose ``message`` is the raw "%(limit_value)s" text.
    offenders = [
        str(path.relative_to(ROOT)) for path in ROOT.glob("*/templates/**/*.html") if ".as_data" in path.read_text()
    ]
    assert offenders == []


def test_a_nul_byte_in_any_text_field_is_refused_in_plain_chinese():
    from django import forms

    class Note(forms.Form):
        text = forms.CharField()

    form = Note({"text": "备注\x00"})
    assert not form.is_valid()
    assert form.errors.get_json_data()["text"] == [
        {"message": "不能包含空字符（NUL）", "code": "null_characters_not_allowed"}
    ]
