"""The canonical text, the exported event built from it, and the check that a stored event agrees with itself."""

import datetime
import json
from typing import Any

import pytest

from huanxin.trace.domain.canonical import (
    GENESIS,
    canonical_text,
    document_text,
    event_id,
    link_hash,
    links_to,
    record_agrees,
    text_hash,
)

BEIJING = datetime.timezone(datetime.timedelta(hours=8))
EVENT: dict[str, Any] = {
    "type": "TransformationEvent",
    "eventTime": "2026-11-28T10:15:30.123+08:00",
    "eventTimeZoneOffset": "+08:00",
    "bizStep": "disassembling",
    "readPoint": {"id": "https://id.huanxin.example.cn/org/91110105MA0000821H"},
    "hx:kind": "dismantle",
    "hx:category": "冰箱",
    "outputQuantityList": [{"epcClass": "urn:x:metals", "quantity": 32.5, "uom": "KGM"}],
}
CANONICAL = canonical_text(EVENT)
DIGEST = text_hash(CANONICAL)
STORED: dict[str, Any] = {
    "digest": DIGEST,
    "canonical": CANONICAL,
    "document": {"eventID": event_id(DIGEST), **EVENT},
    "columns": {"hx:kind": "dismantle", "type": "TransformationEvent", "bizStep": "disassembling"},
    "event_time": datetime.datetime(2026, 11, 28, 10, 15, 30, 123456, tzinfo=BEIJING),
    "organisation_uscc": "91110105MA0000821H",
}


def test_the_exported_text_is_the_canonical_text_with_its_event_id_first():
    exported = document_text(CANONICAL, DIGEST)
    assert exported == json.dumps(
        {"eventID": event_id(DIGEST), **json.loads(CANONICAL)}, ensure_ascii=False, separators=(",", ":")
    )
    body = {key: value for key, value in json.loads(exported).items() if key != "eventID"}
    assert text_hash(canonical_text(body)) == DIGEST


def test_an_untouched_event_agrees_with_itself_to_the_millisecond():
    assert record_agrees(**STORED)


@pytest.mark.parametrize(
    "change",
    [
        {"canonical": CANONICAL.replace("32.5", "99.5")},
        {"digest": "0" * 64},
        {"document": {"eventID": event_id(DIGEST), **EVENT, "hx:category": "电视"}},
        {"document": {"eventID": event_id("0" * 64), **EVENT}},
        {"columns": {"hx:kind": "receive", "type": "TransformationEvent", "bizStep": "disassembling"}},
        {"event_time": STORED["event_time"] + datetime.timedelta(milliseconds=1)},
        {"organisation_uscc": "91110108MA0000822J"},
        {"canonical": "{not json", "digest": text_hash("{not json")},
    ],
)
def test_any_stored_part_that_disagrees_is_caught(change):
    assert not record_agrees(**{**STORED, **change})


def test_a_canonical_text_carrying_its_own_event_id_is_not_an_event():
    body = {**EVENT, "eventID": "ni:///sha-256;forged"}
    canonical = canonical_text(body)
    digest = text_hash(canonical)
    document = {"eventID": event_id(digest), **body}
    assert not record_agrees(**{**STORED, "canonical": canonical, "digest": digest, "document": document})


def test_a_link_that_is_not_hex_never_links():
    assert links_to(link_hash(GENESIS, DIGEST), GENESIS, DIGEST)
    assert not links_to(link_hash(GENESIS, DIGEST), "not hex", DIGEST)
