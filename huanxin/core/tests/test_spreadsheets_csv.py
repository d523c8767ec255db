import csv
import io

from huanxin.core.spreadsheets import csv_bytes


def test_a_csv_cell_that_looks_like_a_formula_stays_text():
    content = csv_bytes(["名称"], [['=HYPERLINK("x")'], ["-12.50"], ["@SUM(A1)"], ["+86"], [None]])
    assert content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows == [["名称"], ['\'=HYPERLINK("x")'], ["-12.50"], ["'@SUM(A1)"], ["'+86"], [""]]
