"""What boto3 hides: the raw AWS JSON 1.1 bodies and headers behind the calls the other files make."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from botocore.exceptions import ClientError

from support import BUCKET, ISO_SECOND, signed_call

BOTOCORE_PREFIX = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101."
JS_SDK_PREFIX = "CloudTrail_20131101."


def call(server, op, payload, prefix=BOTOCORE_PREFIX, region="us-east-1"):
    status, headers, raw = signed_call(server, prefix + op, payload, region)
    assert headers["content-type"].startswith("application/x-amz-json-1.1")
    assert uuid.UUID(headers["x-amzn-requestid"])
    return status, headers, json.loads(raw)


def test_error_body_shape(server):
    status, headers, payload = call(server, "GetTrail", {"Name": "nothing-here"})
    assert status == 400
    assert set(payload) == {"__type", "message"}
    assert payload["__type"] == "TrailNotFoundException"
    assert headers.get("x-amzn-errortype", payload["__type"]) == payload["__type"]


def test_both_target_prefixes(server):
    for prefix in (BOTOCORE_PREFIX, JS_SDK_PREFIX):
        status, _, payload = call(server, "ListTrails", {}, prefix)
        assert (status, payload) == (200, {"Trails": []})


def test_null_member_is_absent(server):
    status, _, payload = call(server, "GetTrail", {"Name": None})
    assert status == 400
    assert payload == {"__type": "InvalidTrailNameException", "message": "Trail name cannot be blank!"}


def test_timestamps_are_epoch_seconds(server, ct):
    ct.create_trail(Name="wire-trail", S3BucketName=BUCKET)
    ct.start_logging(Name="wire-trail")
    status, _, payload = call(server, "GetTrailStatus", {"Name": "wire-trail"})
    assert status == 200
    assert isinstance(payload["StartLoggingTime"], (int, float))
    assert re.fullmatch(r"\d{10}(\.\d{1,3})?", json.dumps(payload["StartLoggingTime"]))
    assert ISO_SECOND.fullmatch(payload["TimeLoggingStarted"])
    assert "StopLoggingTime" not in payload and payload["TimeLoggingStopped"] == ""


def test_lower_camel_members_of_describe_trails(server, ct):
    ct.create_trail(Name="wire-trail", S3BucketName=BUCKET)
    status, _, payload = call(server, "DescribeTrails", {"trailNameList": ["wire-trail"], "includeShadowTrails": False})
    assert status == 200
    assert [t["Name"] for t in payload["trailList"]] == ["wire-trail"]
    # Absent members are left out, never sent as null.
    assert all(v is not None for v in payload["trailList"][0].values())


def test_unknown_operation(server):
    status, _, payload = call(server, "DescribeEverything", {})
    assert status == 400
    assert payload["__type"] == "UnknownOperationException"


def test_operation_not_served(ct):
    with pytest.raises(ClientError) as e:
        ct.list_event_data_stores()
    assert e.value.response["Error"] == {
        "Code": "UnsupportedOperationException",
        "Message": "ListEventDataStores is not supported by opentrail.",
    }
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_wrong_json_types_are_serialization_errors(server):
    for body in (b"[]", b"not json", {"Name": 5}, {"Name": ["a"]}):
        status, _, payload = call(server, "GetTrail", body)
        assert status == 400, body
        assert payload["__type"] == "SerializationException", (body, payload)
    status, _, payload = call(server, "CreateTrail", {"Name": "typed", "S3BucketName": BUCKET, "IsMultiRegionTrail": "yes"})
    assert (status, payload["__type"]) == (400, "SerializationException")


def test_empty_body_is_an_empty_object(server):
    status, _, payload = call(server, "ListTrails", b"")
    assert (status, payload) == (200, {"Trails": []})
