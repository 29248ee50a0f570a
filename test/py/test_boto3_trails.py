"""The trail lifecycle operations through boto3: CreateTrail, GetTrail, DescribeTrails, UpdateTrail,
DeleteTrail, GetTrailStatus, StartLogging, StopLogging, ListTrails."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from support import (
    ACCOUNT,
    BUCKET,
    CREATE_ALWAYS,
    OTHER_BUCKET,
    OTHER_REGION,
    REGION,
    STATUS_DEPRECATED,
    TRAIL_ALWAYS,
    body,
    expect_error,
    get_trail_unknown_message,
    trail_arn,
    unknown_trail_message,
)

# --- CreateTrail ---------------------------------------------------------------------------------


def test_create_trail_minimal_response(ct):
    res = ct.create_trail(Name="trail-one", S3BucketName=BUCKET)
    assert body(res) == {
        "Name": "trail-one",
        "S3BucketName": BUCKET,
        "IncludeGlobalServiceEvents": True,
        "IsMultiRegionTrail": False,
        "TrailARN": trail_arn("trail-one"),
        "LogFileValidationEnabled": False,
        "IsOrganizationTrail": False,
    }
    assert set(body(res)) == CREATE_ALWAYS
    assert res["ResponseMetadata"]["RequestId"]


def test_create_trail_with_every_option(ct):
    res = ct.create_trail(
        Name="Full.Trail_1",
        S3BucketName=BUCKET,
        S3KeyPrefix="logs/prefix",
        SnsTopicName="my-topic",
        IncludeGlobalServiceEvents=True,
        IsMultiRegionTrail=True,
        EnableLogFileValidation=True,
        KmsKeyId=f"arn:aws:kms:{REGION}:{ACCOUNT}:key/12345678-1234-1234-1234-123456789012",
        TagsList=[{"Key": "env", "Value": "test"}],
    )
    b = body(res)
    assert "HomeRegion" not in b and "HasCustomEventSelectors" not in b and "HasInsightSelectors" not in b
    assert b["S3KeyPrefix"] == "logs/prefix"
    assert b["SnsTopicName"] == "my-topic"
    assert b["SnsTopicARN"] == f"arn:aws:sns:{REGION}:{ACCOUNT}:my-topic"
    assert b["IsMultiRegionTrail"] is True
    assert b["LogFileValidationEnabled"] is True
    assert b["KmsKeyId"] == f"arn:aws:kms:{REGION}:{ACCOUNT}:key/12345678-1234-1234-1234-123456789012"
    assert b["TrailARN"] == trail_arn("Full.Trail_1")


def test_create_trail_starts_with_logging_off_and_default_selectors(ct):
    ct.create_trail(Name="fresh", S3BucketName=BUCKET)
    assert ct.get_trail_status(Name="fresh")["IsLogging"] is False
    sel = body(ct.get_event_selectors(TrailName="fresh"))
    assert sel == {
        "TrailARN": trail_arn("fresh"),
        "EventSelectors": [
            {
                "ReadWriteType": "All",
                "IncludeManagementEvents": True,
                "DataResources": [],
                "ExcludeManagementEventSources": [],
            }
        ],
    }


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("ab", "Trail name too short. Minimum allowed length: 3 characters. Specified name length: 2 characters."),
        ("a" * 129, "Trail name too long. Maximum allowed length: 128 characters. "
                    "Specified name length: 129 characters."),
        ("192.168.5.4", "Trail names must not be formatted as an IP address."),
        ("bad name", "Trail name or ARN can only contain uppercase letters, lowercase letters, numbers, "
                     "periods (.), hyphens (-), and underscores (_)."),
        ("-leading", "Trail name must starts with a letter or number."),
        ("trailing_", "Trail name must ends with a letter or number."),
        # AWS checks the last character before the character set
        ("trail!", "Trail name must ends with a letter or number."),
        ("my-_ns", "Trail name or ARN cannot have adjacent periods (.), hyphens (-), or underscores (_)."),
    ],
)  # fmt: skip
def test_create_trail_invalid_names(ct, name, message):
    expect_error(lambda: ct.create_trail(Name=name, S3BucketName=BUCKET), "InvalidTrailNameException", message)


def test_create_trail_name_length_bounds(ct):
    assert ct.create_trail(Name="abc", S3BucketName=BUCKET)["Name"] == "abc"
    assert ct.create_trail(Name="A" * 128, S3BucketName=BUCKET)["Name"] == "A" * 128


def test_create_trail_duplicate_name(ct):
    ct.create_trail(Name="dup-trail", S3BucketName=BUCKET)
    expect_error(
        lambda: ct.create_trail(Name="dup-trail", S3BucketName=BUCKET),
        "TrailAlreadyExistsException",
        f"Trail dup-trail already exists for customer: {ACCOUNT}",
    )


def test_create_trail_missing_bucket(ct):
    expect_error(
        lambda: ct.create_trail(Name="no-bucket", S3BucketName="does-not-exist-bucket"),
        "S3BucketDoesNotExistException",
        "S3 bucket does-not-exist-bucket does not exist!",
    )
    expect_error(lambda: ct.get_trail(Name="no-bucket"), "TrailNotFoundException")


def test_create_trail_invalid_bucket_name(ct):
    expect_error(
        lambda: ct.create_trail(Name="bad-bucket", S3BucketName="Bad_Bucket"),
        "InvalidS3BucketNameException",
    )


def test_create_trail_prefix_too_long(ct):
    expect_error(
        lambda: ct.create_trail(Name="long-prefix", S3BucketName=BUCKET, S3KeyPrefix="p" * 201),
        "InvalidS3PrefixException",
    )


def test_create_multi_region_without_global_events(ct):
    expect_error(
        lambda: ct.create_trail(
            Name="multi", S3BucketName=BUCKET, IsMultiRegionTrail=True, IncludeGlobalServiceEvents=False
        ),
        "InvalidParameterCombinationException",
        "Multi-Region trail must include global service events.",
    )


def test_create_organization_trail_is_refused(ct):
    expect_error(
        lambda: ct.create_trail(Name="org-trail", S3BucketName=BUCKET, IsOrganizationTrail=True),
        "OrganizationsNotInUseException",
    )


def test_create_sixth_trail_in_a_region(ct):
    for i in range(5):
        ct.create_trail(Name=f"quota-{i}", S3BucketName=BUCKET)
    expect_error(
        lambda: ct.create_trail(Name="quota-5", S3BucketName=BUCKET),
        "MaximumNumberOfTrailsExceededException",
        f"User: {ACCOUNT} already has 5 trails in {REGION}.",
    )


# --- GetTrail ------------------------------------------------------------------------------------


def test_get_trail_by_name_and_by_arn(ct):
    ct.create_trail(Name="gettable", S3BucketName=BUCKET, S3KeyPrefix="k")
    by_name = ct.get_trail(Name="gettable")["Trail"]
    by_arn = ct.get_trail(Name=trail_arn("gettable"))["Trail"]
    assert by_name == by_arn
    assert set(by_name) == TRAIL_ALWAYS | {"S3KeyPrefix"}
    assert by_name["HomeRegion"] == REGION
    assert by_name["HasCustomEventSelectors"] is False
    assert by_name["HasInsightSelectors"] is False


def test_get_trail_errors(ct):
    expect_error(lambda: ct.get_trail(Name="missing"), "TrailNotFoundException", get_trail_unknown_message("missing"))
    arn = trail_arn("missing")
    expect_error(lambda: ct.get_trail(Name=arn), "TrailNotFoundException", unknown_trail_message(arn))
    expect_error(lambda: ct.get_trail(Name="ab"), "InvalidTrailNameException")
    expect_error(lambda: ct.get_trail(Name="arn:aws:s3:::bucket"), "CloudTrailARNInvalidException")


# --- DescribeTrails ------------------------------------------------------------------------------


def test_describe_trails_empty(ct):
    assert body(ct.describe_trails()) == {"trailList": []}


def test_describe_trails_members_and_order(ct):
    ct.create_trail(Name="zeta", S3BucketName=BUCKET)
    ct.create_trail(Name="alpha", S3BucketName=OTHER_BUCKET, SnsTopicName="topic")
    trails = ct.describe_trails()["trailList"]
    assert [t["Name"] for t in trails] == ["alpha", "zeta"]
    assert set(trails[1]) == TRAIL_ALWAYS
    assert set(trails[0]) == TRAIL_ALWAYS | {"SnsTopicName", "SnsTopicARN"}
    assert trails[0]["S3BucketName"] == OTHER_BUCKET


def test_describe_trails_by_name_list(ct):
    ct.create_trail(Name="one-trail", S3BucketName=BUCKET)
    ct.create_trail(Name="two-trail", S3BucketName=BUCKET)
    res = ct.describe_trails(trailNameList=["two-trail", trail_arn("one-trail"), "unknown-trail", "two-trail"])
    assert sorted(t["Name"] for t in res["trailList"]) == ["one-trail", "two-trail"]
    assert body(ct.describe_trails(trailNameList=["nobody-here"])) == {"trailList": []}


def test_describe_trails_bad_entries(ct):
    expect_error(lambda: ct.describe_trails(trailNameList=["x!"]), "InvalidTrailNameException")
    expect_error(lambda: ct.describe_trails(trailNameList=["arn:aws:nope"]), "CloudTrailARNInvalidException")


# --- UpdateTrail ---------------------------------------------------------------------------------


def test_update_trail_changes_and_clears(ct):
    ct.create_trail(Name="upd", S3BucketName=BUCKET, S3KeyPrefix="old")
    res = ct.update_trail(Name="upd", S3BucketName=OTHER_BUCKET, EnableLogFileValidation=True)
    b = body(res)
    assert set(b) == CREATE_ALWAYS | {"S3KeyPrefix"}
    assert b["S3BucketName"] == OTHER_BUCKET
    assert b["S3KeyPrefix"] == "old"
    assert b["LogFileValidationEnabled"] is True
    b = body(ct.update_trail(Name=trail_arn("upd"), S3KeyPrefix=""))
    assert "S3KeyPrefix" not in b
    assert "S3KeyPrefix" not in ct.get_trail(Name="upd")["Trail"]


def test_update_trail_clears_sns_and_kms(ct):
    key = "12345678-1234-1234-1234-123456789012"
    made = ct.create_trail(Name="upd-clear", S3BucketName=BUCKET, SnsTopicName="topic-a", KmsKeyId=key)
    assert made["KmsKeyId"] == f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{key}"
    assert made["SnsTopicARN"] == f"arn:aws:sns:{REGION}:{ACCOUNT}:topic-a"
    cleared = body(ct.update_trail(Name="upd-clear", SnsTopicName="", KmsKeyId=""))
    assert not {"SnsTopicName", "SnsTopicARN", "KmsKeyId"} & set(cleared)
    assert not {"SnsTopicName", "SnsTopicARN", "KmsKeyId"} & set(ct.get_trail(Name="upd-clear")["Trail"])


def test_update_trail_checks_the_combination_against_stored_values(ct):
    ct.create_trail(Name="no-global", S3BucketName=BUCKET, IncludeGlobalServiceEvents=False)
    expect_error(
        lambda: ct.update_trail(Name="no-global", IsMultiRegionTrail=True),
        "InvalidParameterCombinationException",
        "Multi-Region trail must include global service events.",
    )
    res = ct.update_trail(Name="no-global", IsMultiRegionTrail=True, IncludeGlobalServiceEvents=True)
    assert res["IsMultiRegionTrail"] is True and res["IncludeGlobalServiceEvents"] is True


def test_update_trail_does_not_change_logging(ct):
    ct.create_trail(Name="upd-log", S3BucketName=BUCKET)
    ct.start_logging(Name="upd-log")
    ct.update_trail(Name="upd-log", S3KeyPrefix="p")
    assert ct.get_trail_status(Name="upd-log")["IsLogging"] is True


def test_update_trail_errors(ct):
    expect_error(lambda: ct.update_trail(Name="missing", S3KeyPrefix="p"), "TrailNotFoundException")
    ct.create_trail(Name="upd-err", S3BucketName=BUCKET)
    expect_error(
        lambda: ct.update_trail(Name="upd-err", IsMultiRegionTrail=True, IncludeGlobalServiceEvents=False),
        "InvalidParameterCombinationException",
    )
    expect_error(
        lambda: ct.update_trail(Name="upd-err", S3BucketName="no-such-bucket-here"),
        "S3BucketDoesNotExistException",
    )
    # Nothing changed after the failed calls.
    assert ct.get_trail(Name="upd-err")["Trail"]["S3BucketName"] == BUCKET


# --- DeleteTrail ---------------------------------------------------------------------------------


def test_delete_trail_by_name_and_arn(ct):
    ct.create_trail(Name="del-a", S3BucketName=BUCKET)
    ct.create_trail(Name="del-b", S3BucketName=BUCKET)
    assert body(ct.delete_trail(Name="del-a")) == {}
    assert body(ct.delete_trail(Name=trail_arn("del-b"))) == {}
    assert ct.describe_trails()["trailList"] == []
    expect_error(lambda: ct.delete_trail(Name="del-a"), "TrailNotFoundException", unknown_trail_message("del-a"))


def test_delete_trail_name_is_reusable(ct):
    ct.create_trail(Name="again", S3BucketName=BUCKET, TagsList=[{"Key": "k", "Value": "v"}])
    ct.delete_trail(Name="again")
    ct.create_trail(Name="again", S3BucketName=BUCKET)
    tags = ct.list_tags(ResourceIdList=[trail_arn("again")])["ResourceTagList"]
    assert tags == [{"ResourceId": trail_arn("again"), "TagsList": []}]


# --- GetTrailStatus, StartLogging, StopLogging ---------------------------------------------------


def test_trail_status_lifecycle(ct):
    ct.create_trail(Name="status", S3BucketName=BUCKET)
    fresh = body(ct.get_trail_status(Name="status"))
    assert fresh == {"IsLogging": False, **{k: "" for k in STATUS_DEPRECATED}}

    assert body(ct.start_logging(Name="status")) == {}
    started = body(ct.get_trail_status(Name=trail_arn("status")))
    assert started["IsLogging"] is True
    assert isinstance(started["StartLoggingTime"], datetime)
    assert started["TimeLoggingStarted"] == started["StartLoggingTime"].strftime("%Y-%m-%dT%H:%M:%SZ")
    assert started["TimeLoggingStopped"] == ""
    assert STATUS_DEPRECATED <= set(started)

    # Idempotent: a second start does not move the start time.
    ct.start_logging(Name="status")
    assert ct.get_trail_status(Name="status")["StartLoggingTime"] == started["StartLoggingTime"]

    assert body(ct.stop_logging(Name="status")) == {}
    stopped = body(ct.get_trail_status(Name="status"))
    assert stopped["IsLogging"] is False
    assert isinstance(stopped["StopLoggingTime"], datetime)
    assert stopped["TimeLoggingStopped"] == stopped["StopLoggingTime"].strftime("%Y-%m-%dT%H:%M:%SZ")
    assert stopped["TimeLoggingStarted"] == started["TimeLoggingStarted"]
    ct.stop_logging(Name="status")
    assert ct.get_trail_status(Name="status")["StopLoggingTime"] == stopped["StopLoggingTime"]


def test_trail_status_errors(ct):
    for call in (ct.get_trail_status, ct.start_logging, ct.stop_logging):
        expect_error(lambda call=call: call(Name="missing"), "TrailNotFoundException", unknown_trail_message("missing"))
        expect_error(lambda call=call: call(Name="a..b"), "InvalidTrailNameException")
        expect_error(lambda call=call: call(Name="arn:aws:cloudtrail:x"), "CloudTrailARNInvalidException")


# --- ListTrails ----------------------------------------------------------------------------------


def test_list_trails_across_regions(server, ct, ct_other):
    ct.create_trail(Name="east-b", S3BucketName=BUCKET)
    ct.create_trail(Name="east-a", S3BucketName=BUCKET, IsMultiRegionTrail=True)
    ct_other.create_trail(Name="west", S3BucketName=BUCKET)
    expected = [
        {"TrailARN": trail_arn("west", OTHER_REGION), "Name": "west", "HomeRegion": OTHER_REGION},
        {"TrailARN": trail_arn("east-a"), "Name": "east-a", "HomeRegion": REGION},
        {"TrailARN": trail_arn("east-b"), "Name": "east-b", "HomeRegion": REGION},
    ]
    for client in (ct, ct_other, server.client("ap-south-1")):
        res = body(client.list_trails())
        assert res == {"Trails": expected}


def test_list_trails_empty(ct):
    assert body(ct.list_trails()) == {"Trails": []}


def test_list_trails_paginator(server):
    regions = ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2",
               "eu-central-1", "ap-south-1", "ap-northeast-1", "ap-southeast-1", "sa-east-1"]  # fmt: skip
    created = set()
    for region in regions:
        client = server.client(region)
        for i in range(5):
            name = f"page-{region}-{i}"
            client.create_trail(Name=name, S3BucketName=BUCKET)
            created.add(trail_arn(name, region))
    assert len(created) == 55
    client = server.client()
    first = client.list_trails()
    assert len(first["Trails"]) == 50
    assert first["NextToken"]
    pages = list(client.get_paginator("list_trails").paginate())
    assert [len(p["Trails"]) for p in pages] == [50, 5]
    assert "NextToken" not in pages[-1]
    seen = [t["TrailARN"] for p in pages for t in p["Trails"]]
    assert len(seen) == len(set(seen)) and set(seen) == created
    assert [(t["HomeRegion"], t["Name"]) for p in pages for t in p["Trails"]] == sorted(
        (t["HomeRegion"], t["Name"]) for p in pages for t in p["Trails"]
    )


def test_list_trails_bad_token(ct):
    err = expect_error(lambda: ct.list_trails(NextToken="not-a-token"), "InvalidNextTokenException")
    assert not re.search(r"at .*\.(ts|js)", err.response["Error"]["Message"])
