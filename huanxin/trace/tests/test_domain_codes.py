"""The one parser of trace codes: every form a person reads, types, pastes or scans, and what it refuses."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from huanxin.trace.domain.codes import MAX_CODE, InvalidCode, giai_element, is_canonical, parse_code, printed_code

PREFIX = "6999999"
CODE = "urn:epc:id:giai:6999999.639079541759"


@pytest.mark.parametrize(
    "text",
    [
        CODE,
        "6999999.639079541759",
        "6999999639079541759",
        "urn:epc:id:giai:6999999.639079541759 ",
        "  6999999.639079541759\n",
        "6999999 6390 7954 1759",
        "URN:EPC:ID:GIAI:6999999.639079541759",
        "Urn:Epc:Id:Giai:6999999.639079541759",
        "６９９９９９９．６３９０７９５４１７５９",
        "６９９９９９９。６３９０７９５４１７５９",
        "6999999｡639079541759",
        "\u200b6999999.639079541759\ufeff",
        "\u30006999999.639079541759\u3000",
        "(8004)6999999639079541759",
        "（８００４）６９９９９９９６３９０７９５４１７５９",
        "https://id.huanxin.example.cn/8004/6999999639079541759",
        "HTTPS://ID.HUANXIN.EXAMPLE.CN/8004/6999999639079541759",
        "id.huanxin.example.cn/8004/6999999639079541759",
        "https://id.huanxin.example.cn/8004/6999999639079541759?linkType=all#x",
        "https://huanxin.example.cn/verify/6999999.639079541759/",
        "https://huanxin.example.cn/verify/urn:epc:id:giai:6999999.639079541759/",
        "https://huanxin.example.cn/verify/urn%3Aepc%3Aid%3Agiai%3A6999999.639079541759/",
        "https://huanxin.example.cn/verify/6999999639079541759",
    ],
)
def test_every_form_a_person_meets_becomes_the_stored_code(text):
    assert parse_code(text, company_prefix=PREFIX) == CODE


def test_a_dotted_code_under_another_company_prefix_keeps_its_own_prefix():
    assert parse_code("69000012.0042", company_prefix=PREFIX) == "urn:epc:id:giai:69000012.0042"


def test_an_epc_uri_of_another_scheme_is_kept_with_its_scheme_in_lower_case():
    assert parse_code("URN:EPC:ID:SGTIN:0614141.812345.6789", company_prefix=PREFIX) == (
        "urn:epc:id:sgtin:0614141.812345.6789"
    )


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "required"),
        ("   ", "required"),
        ("hello", "invalid_code"),
        ("6999999", "invalid_code"),
        ("6999999.", "invalid_code"),
        ("123456789", "invalid_code"),
        ("urn:epc:id:giai:", "invalid_code"),
        ("urn:epc:id:giai:hello", "invalid_code"),
        ("https://example.cn/elsewhere", "invalid_code"),
        ("https://example.cn/8004/", "invalid_code"),
        ("6999999.6390<b>", "invalid_code"),
        ("6999999.639\x00079541759", "invalid_code"),
        ("9" * 301, "too_long"),
        ("6999999." + "1" * 80, "invalid_code"),
    ],
)
def test_text_that_is_no_code_is_refused_with_a_stable_code_and_a_chinese_reason(text, code):
    with pytest.raises(InvalidCode) as caught:
        parse_code(text, company_prefix=PREFIX)
    assert caught.value.code == code
    assert caught.value.message
    assert not caught.value.message.isascii()


def test_the_refusal_shows_an_example_in_the_programmes_own_prefix():
    with pytest.raises(InvalidCode) as caught:
        parse_code("hello", company_prefix="6912345")
    assert "6912345." in caught.value.message


def test_the_printed_form_and_the_digital_link_element_of_a_code():
    assert printed_code(CODE) == "6999999.639079541759"
    assert giai_element(CODE) == "6999999639079541759"
    assert printed_code("urn:epc:id:sgtin:0614141.812345.6789") == "urn:epc:id:sgtin:0614141.812345.6789"


@given(prefix=st.from_regex(r"[0-9]{6,12}", fullmatch=True), reference=st.from_regex(r"[0-9]{1,20}", fullmatch=True))
def test_the_printed_line_the_digital_link_and_the_urn_of_any_code_parse_back_to_it(prefix, reference):
    code = f"urn:epc:id:giai:{prefix}.{reference}"
    assert is_canonical(code) == (len(code) <= MAX_CODE)
    for text in (code, printed_code(code), f"https://id.example.cn/8004/{giai_element(code)}"):
        assert parse_code(text, company_prefix=prefix) == code
