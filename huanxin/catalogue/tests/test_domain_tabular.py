import pytest

from huanxin.catalogue.domain.products import ImportFileError
from huanxin.catalogue.domain.tabular import MAX_FILE_BYTES, read_table
from huanxin.catalogue.tests.files import CHINESE_HEADER, csv_bytes, xlsx_bytes

ROWS = [
    CHINESE_HEADER,
    ["海尔", "BCD-500", "冰箱", "1", "", "", "海尔冰箱"],
    ["格力", "KFR-35GW", "空调", "2", "", "", ""],
]
EXPECTED = [
    (2, ["海尔", "BCD-500", "冰箱", "1", "", "", "海尔冰箱"]),
    (3, ["格力", "KFR-35GW", "空调", "2", "", "", ""]),
]


@pytest.mark.parametrize(
    "content",
    [
        csv_bytes(ROWS),
        csv_bytes(ROWS, bom=True),
        csv_bytes(ROWS, encoding="gb18030"),
        csv_bytes(ROWS, encoding="gbk"),
    ],
    ids=["utf-8", "utf-8-bom", "gb18030", "gbk"],
)
def test_csv_in_every_encoding_excel_writes_reads_the_same(content):
    table = read_table("产品.csv", content)
    assert (table.file_format, table.header, table.rows) == ("csv", CHINESE_HEADER, EXPECTED)


def test_excel_unicode_text_utf16_tab_separated_reads_too():
    text = "\r\n".join("\t".join(row) for row in ROWS) + "\r\n"
    table = read_table("产品.txt", b"\xff\xfe" + text.encode("utf-16-le"))
    assert (table.header, table.rows) == (CHINESE_HEADER, EXPECTED)


def test_xlsx_cells_read_as_the_text_a_person_sees():
    content = xlsx_bytes([CHINESE_HEADER, ["海尔", 500, "冰箱", 1.0, None, 123456789012, "海尔冰箱"]])
    table = read_table("产品.xlsx", content)
    assert table.file_format == "xlsx"
    assert table.rows == [(2, ["海尔", "500", "冰箱", "1", "", "123456789012", "海尔冰箱"])]


def test_row_numbers_are_the_spreadsheet_s_even_after_blank_rows():
    content = xlsx_bytes([CHINESE_HEADER, ["海尔", "A1", "冰箱"], [], [None, None], ["格力", "B2", "空调"]])
    rows = read_table("x.xlsx", content).rows
    assert [(number, cells[:2]) for number, cells in rows if any(cells)] == [(2, ["海尔", "A1"]), (5, ["格力", "B2"])]


def test_a_quoted_cell_with_a_line_break_is_one_row():
    content = csv_bytes([CHINESE_HEADER, ["海尔", "A1", "冰箱", "", "", "", "第一行\n第二行"], ["格力", "B2", "空调"]])
    assert [number for number, _ in read_table("x.csv", content).rows] == [2, 3]


def test_a_file_over_twenty_megabytes_is_refused_before_reading():
    with pytest.raises(ImportFileError) as caught:
        read_table("big.csv", b"a" * (MAX_FILE_BYTES + 1))
    assert (caught.value.code, caught.value.message) == (
        "file_too_large",
        "文件大小超过 20 MB，请拆分为多个文件分批导入",
    )


def test_more_data_rows_than_the_limit_are_refused():
    content = csv_bytes([CHINESE_HEADER] + [["海尔", f"M{i}", "冰箱"] for i in range(11)])
    assert len(read_table("ok.csv", content, max_rows=11).rows) == 11
    with pytest.raises(ImportFileError) as caught:
        read_table("many.csv", content, max_rows=10)
    assert (caught.value.code, caught.value.message) == (
        "too_many_rows",
        "文件超过 10 行数据，请拆分为多个文件分批导入",
    )


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "unsupported_format"),
        ("list.pdf", b"%PDF-1.7", "unsupported_format"),
        ("broken.xlsx", b"not a zip at all", "invalid_file"),
        ("broken.xlsx", b"PK\x03\x04garbage", "invalid_file"),
        ("empty.csv", b"", "empty_file"),
        ("blank.csv", b"\r\n,,\r\n", "empty_file"),
        ("header.csv", "品牌,型号,品类\r\n".encode(), "no_rows"),
        ("binary.csv", b"\x81\x30\xff\xfe\x00\xff\x80\x80", "invalid_encoding"),
    ],
)
def test_files_that_cannot_be_read_are_refused_whole(name, content, code):
    with pytest.raises(ImportFileError) as caught:
        read_table(name, content)
    assert caught.value.code == code


@pytest.mark.parametrize("content", [b"\xff\xfe\x41", b"\xff\xfe\x00\xd8"])
def test_a_file_with_a_utf16_mark_but_broken_utf16_is_an_encoding_error(content):
    with pytest.raises(ImportFileError) as caught:
        read_table("目录.csv", content)
    assert caught.value.code == "invalid_encoding"
