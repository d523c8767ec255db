import logging

from huanxin.core.logging import RequestIdFilter, scrub


def test_scrub_masks_resident_ids_and_mobile_numbers():
    text = "id 11010519491231002X phone 13800138000 order 20240101123456789012"
    assert scrub(text) == "id 110105********002X phone 138****8000 order 20240101123456789012"


def test_the_log_filter_masks_identifiers_in_formatted_messages():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "user %s failed", ("11010519491231002X",), None)
    RequestIdFilter().filter(record)
    assert record.getMessage() == "user 110105********002X failed"
    assert record.request_id == "-"
