"""ListPublicKeys through boto3, the raw wire and the AWS CLI: keys that `validate-logs` can load."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime, timedelta, timezone

from support import expect_error, signed_call

TARGET = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.ListPublicKeys"
# DER of a 2048-bit PKCS#1 RSAPublicKey: SEQUENCE (266 bytes), INTEGER (257 bytes), leading 00.
PKCS1_2048_PREFIX = bytes.fromhex("3082010a0282010100")


def only_key(answer: dict) -> dict:
    keys = answer["PublicKeyList"]
    assert len(keys) == 1, keys
    return keys[0]


def load_der(value: bytes):
    """The key as `cryptography` loads it, or None when this Python has no `cryptography`."""
    try:
        from cryptography.hazmat.primitives.serialization import load_der_public_key
    except ImportError:
        return None
    return load_der_public_key(value)


def test_value_is_der_pkcs1_whose_md5_is_the_fingerprint(ct):
    key = only_key(ct.list_public_keys())
    value = key["Value"]
    assert isinstance(value, bytes)
    assert value.startswith(PKCS1_2048_PREFIX)
    assert len(value) == 270
    assert key["Fingerprint"] == hashlib.md5(value).hexdigest()
    loaded = load_der(value)
    if loaded is not None:
        numbers = loaded.public_numbers()
        assert loaded.key_size == 2048
        assert numbers.e == 65537


def test_the_aws_cli_validator_can_load_the_key(ct):
    """`aws cloudtrail validate-logs` (CLI v1) loads keys with rsa's PKCS#1-only loader."""
    try:
        import rsa
    except ImportError:
        return
    value = only_key(ct.list_public_keys())["Value"]
    assert rsa.PublicKey.load_pkcs1(value, format="DER").e == 65537


def test_validity_is_thirty_days_and_covers_now(ct):
    key = only_key(ct.list_public_keys())
    start, end = key["ValidityStartTime"], key["ValidityEndTime"]
    now = datetime.now(timezone.utc)
    assert start.tzinfo is not None and start.microsecond == 0
    assert start <= now < end
    assert end - start == timedelta(days=30)


def test_the_wire_sends_base64_and_epoch_seconds(server):
    status, _, raw = signed_call(server, TARGET, {})
    assert status == 200, raw
    answer = json.loads(raw)
    assert list(answer) == ["PublicKeyList"]
    (key,) = answer["PublicKeyList"]
    assert key["Value"].startswith("MIIBCgKCAQEA")
    assert hashlib.md5(base64.b64decode(key["Value"], validate=True)).hexdigest() == key["Fingerprint"]
    assert isinstance(key["ValidityStartTime"], (int, float))
    assert key["ValidityEndTime"] - key["ValidityStartTime"] == 30 * 24 * 3600


def test_the_range_selects_overlapping_keys(ct):
    key = only_key(ct.list_public_keys())
    long_ago = datetime(2000, 1, 1, tzinfo=timezone.utc)
    wide = ct.list_public_keys(StartTime=long_ago, EndTime=datetime.now(timezone.utc) + timedelta(days=365))
    assert [k["Fingerprint"] for k in wide["PublicKeyList"]] == [key["Fingerprint"]]
    before = ct.list_public_keys(StartTime=long_ago, EndTime=key["ValidityStartTime"] - timedelta(seconds=1))
    assert before["PublicKeyList"] == []


def test_each_region_has_its_own_key(ct, ct_other):
    here = only_key(ct.list_public_keys())
    there = only_key(ct_other.list_public_keys())
    assert here["Fingerprint"] != there["Fingerprint"]


def test_errors(ct):
    now = datetime.now(timezone.utc)
    expect_error(
        lambda: ct.list_public_keys(StartTime=now, EndTime=now - timedelta(hours=1)),
        "InvalidTimeRangeException",
        "Start time must be earlier than end time.",
    )
    expect_error(lambda: ct.list_public_keys(NextToken="x"), "InvalidTokenException", "Invalid token.")


def test_aws_cli_prints_the_value_in_base64(cli):
    rc, out, err = cli("list-public-keys")
    assert rc == 0, err
    (key,) = out["PublicKeyList"]
    value = base64.b64decode(key["Value"], validate=True)
    assert value.startswith(PKCS1_2048_PREFIX)
    assert hashlib.md5(value).hexdigest() == key["Fingerprint"]
