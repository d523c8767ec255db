import base64
import os

import pytest
from cryptography.exceptions import InvalidTag

from huanxin.core import crypto


def _key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def test_sealed_values_round_trip_and_hide_the_plaintext():
    sealed = crypto.seal("11010519491231002X", purpose="resident_id")
    assert "11010519491231002X" not in sealed.cipher
    assert sealed.masked == "110105********002X"
    assert crypto.decrypt(sealed.cipher, purpose="resident_id") == "11010519491231002X"


def test_the_same_value_encrypts_differently_each_time_but_hashes_the_same():
    first = crypto.seal("13800138000", purpose="phone")
    second = crypto.seal("13800138000", purpose="phone")
    assert first.cipher != second.cipher
    assert first.digest == second.digest


def test_a_cipher_cannot_be_opened_for_another_purpose():
    sealed = crypto.seal("13800138000", purpose="phone")
    with pytest.raises(InvalidTag):
        crypto.decrypt(sealed.cipher, purpose="resident_id")


def test_the_lookup_hash_depends_on_the_purpose():
    assert crypto.blind_index("13800138000", purpose="phone") != crypto.blind_index("13800138000", purpose="otp")


def test_old_ciphers_stay_readable_after_a_key_rotation(settings):
    old = _key()
    settings.PII_KEYS = f"k1:{old}"
    cipher = crypto.encrypt("6222021234567890123", purpose="bank_account")
    settings.PII_KEYS = f"k2:{_key()},k1:{old}"
    assert crypto.decrypt(cipher, purpose="bank_account") == "6222021234567890123"
    assert crypto.encrypt("x", purpose="bank_account").startswith("k2:")


def test_a_key_of_the_wrong_size_is_refused(settings):
    settings.PII_KEYS = "k1:" + base64.urlsafe_b64encode(b"short").decode()
    with pytest.raises(ValueError, match="32 bytes"):
        crypto.encrypt("x", purpose="phone")
