"""Every trail operation through the AWS CLI v1: one success and one service error each.

Set-up goes through boto3 (fast); only the call under test pays the ~0.5 s start of the CLI.
"""

from __future__ import annotations

import json

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
    expect_cli_error,
    get_trail_unknown_message,
    trail_arn,
    unknown_trail_message,
)

ARN = trail_arn("cli-trail")
BOTH_KINDS = "You can select events by using either EventSelectors or AdvancedEventSelectors, but not both."
HOME_REGION_MESSAGE = f"This operation must be called from the trail's home region ({REGION})."


@pytest.fixture
def trail(ct):
    ct.create_trail(Name="cli-trail", S3BucketName=BUCKET)
    return "cli-trail"


def test_create_trail(cli, ct):
    rc, out, err = cli(
        "create-trail", "--name", "cli-trail", "--s3-bucket-name", BUCKET, "--s3-key-prefix", "pre",
        "--is-multi-region-trail", "--enable-log-file-validation", "--tags-list", "Key=env,Value=cli",
    )  # fmt: skip
    assert rc == 0, err
    assert set(out) == CREATE_ALWAYS | {"S3KeyPrefix"}
    assert out["TrailARN"] == ARN and out["IsMultiRegionTrail"] is True and out["LogFileValidationEnabled"] is True
    assert ct.list_tags(ResourceIdList=[ARN])["ResourceTagList"][0]["TagsList"] == [{"Key": "env", "Value": "cli"}]

    result = cli("create-trail", "--name", "cli-trail", "--s3-bucket-name", BUCKET)
    expect_cli_error(
        result, "TrailAlreadyExistsException", "CreateTrail", f"Trail cli-trail already exists for customer: {ACCOUNT}"
    )


def test_get_trail(cli, trail):
    rc, out, err = cli("get-trail", "--name", ARN)
    assert rc == 0, err
    assert set(out["Trail"]) == TRAIL_ALWAYS and out["Trail"]["HomeRegion"] == REGION
    expect_cli_error(cli("get-trail", "--name", "other-trail"), "TrailNotFoundException", "GetTrail",
                     get_trail_unknown_message("other-trail"))  # fmt: skip


def test_describe_trails_with_shadows(cli, ct):
    ct.create_trail(Name="cli-trail", S3BucketName=BUCKET, IsMultiRegionTrail=True)
    rc, out, err = cli("describe-trails", region=OTHER_REGION)
    assert rc == 0, err
    assert [(t["Name"], t["HomeRegion"], t["TrailARN"]) for t in out["trailList"]] == [("cli-trail", REGION, ARN)]
    rc, out, err = cli("describe-trails", "--no-include-shadow-trails", region=OTHER_REGION)
    assert (rc, out) == (0, {"trailList": []}), err
    expect_cli_error(cli("describe-trails", "--trail-name-list", "arn:aws:bogus"), "CloudTrailARNInvalidException",
                     "DescribeTrails")  # fmt: skip


def test_get_trail_status(cli, ct, trail):
    ct.start_logging(Name=trail)
    rc, out, err = cli("get-trail-status", "--name", trail)
    assert rc == 0, err
    assert out["IsLogging"] is True
    assert STATUS_DEPRECATED <= set(out)
    assert out["TimeLoggingStopped"] == "" and out["TimeLoggingStarted"].endswith("Z")
    assert "StartLoggingTime" in out
    expect_cli_error(cli("get-trail-status", "--name", "no-such-trail"), "TrailNotFoundException", "GetTrailStatus")


def test_start_logging(cli, ct, trail):
    rc, out, err = cli("start-logging", "--name", trail)
    assert (rc, out) == (0, None), err
    assert ct.get_trail_status(Name=trail)["IsLogging"] is True
    ct.update_trail(Name=trail, IsMultiRegionTrail=True)
    expect_cli_error(cli("start-logging", "--name", ARN, region=OTHER_REGION), "InvalidHomeRegionException",
                     "StartLogging", HOME_REGION_MESSAGE)  # fmt: skip


def test_stop_logging(cli, ct, trail):
    ct.start_logging(Name=trail)
    rc, out, err = cli("stop-logging", "--name", ARN)
    assert (rc, out) == (0, None), err
    assert ct.get_trail_status(Name=trail)["IsLogging"] is False
    expect_cli_error(cli("stop-logging", "--name", "a_-b"), "InvalidTrailNameException", "StopLogging")


def test_update_trail(cli, ct, trail):
    rc, out, err = cli("update-trail", "--name", trail, "--s3-bucket-name", OTHER_BUCKET, "--s3-key-prefix", "p2")
    assert rc == 0, err
    assert "HomeRegion" not in out and out["S3BucketName"] == OTHER_BUCKET and out["S3KeyPrefix"] == "p2"
    result = cli("update-trail", "--name", trail, "--is-multi-region-trail", "--no-include-global-service-events")
    expect_cli_error(result, "InvalidParameterCombinationException", "UpdateTrail",
                     "Multi-Region trail must include global service events.")  # fmt: skip
    assert ct.get_trail(Name=trail)["Trail"]["IsMultiRegionTrail"] is False


def test_delete_trail(cli, ct, trail):
    rc, out, err = cli("delete-trail", "--name", trail)
    assert (rc, out) == (0, None), err
    assert ct.describe_trails()["trailList"] == []
    expect_cli_error(cli("delete-trail", "--name", trail), "TrailNotFoundException", "DeleteTrail",
                     unknown_trail_message(trail))  # fmt: skip


def test_put_event_selectors_basic_and_advanced(cli, ct, trail):
    basic = [{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True,
              "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::my-bucket/"]}],
              "ExcludeManagementEventSources": []}]  # fmt: skip
    rc, out, err = cli("put-event-selectors", "--trail-name", trail, "--event-selectors", json.dumps(basic))
    assert rc == 0, err
    assert out == {"TrailARN": ARN, "EventSelectors": basic}

    advanced = [{"Name": "mgmt", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]
    rc, out, err = cli("put-event-selectors", "--trail-name", ARN, "--advanced-event-selectors", json.dumps(advanced))
    assert rc == 0, err
    assert out == {"TrailARN": ARN, "AdvancedEventSelectors": advanced}
    assert ct.get_event_selectors(TrailName=trail)["AdvancedEventSelectors"] == advanced

    result = cli("put-event-selectors", "--trail-name", trail, "--event-selectors", json.dumps(basic),
                 "--advanced-event-selectors", json.dumps(advanced))  # fmt: skip
    expect_cli_error(result, "InvalidEventSelectorsException", "PutEventSelectors", BOTH_KINDS)


def test_get_event_selectors(cli, trail):
    rc, out, err = cli("get-event-selectors", "--trail-name", trail)
    assert rc == 0, err
    assert out == {
        "TrailARN": ARN,
        "EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": [],
                            "ExcludeManagementEventSources": []}],
    }  # fmt: skip
    expect_cli_error(cli("get-event-selectors", "--trail-name", "ghost-trail"), "TrailNotFoundException",
                     "GetEventSelectors", unknown_trail_message("ghost-trail"))  # fmt: skip


def test_put_insight_selectors(cli, ct, trail):
    selectors = [{"InsightType": "ApiErrorRateInsight"}]
    rc, out, err = cli("put-insight-selectors", "--trail-name", trail, "--insight-selectors", json.dumps(selectors))
    assert rc == 0, err
    assert out == {"TrailARN": ARN, "InsightSelectors": selectors}
    assert ct.get_trail(Name=trail)["Trail"]["HasInsightSelectors"] is True
    result = cli("put-insight-selectors", "--trail-name", trail, "--insight-selectors",
                 json.dumps([{"InsightType": "NotAnInsight"}]))  # fmt: skip
    expect_cli_error(result, "InvalidInsightSelectorsException", "PutInsightSelectors")


def test_get_insight_selectors(cli, ct, trail):
    expect_cli_error(
        cli("get-insight-selectors", "--trail-name", trail),
        "InsightNotEnabledException",
        "GetInsightSelectors",
        f"Trail {trail} does not have Insights enabled. "
        "Edit the trail settings to enable Insights, and then try the operation again.",
    )
    ct.put_insight_selectors(TrailName=trail, InsightSelectors=[{"InsightType": "ApiCallRateInsight"}])
    rc, out, err = cli("get-insight-selectors", "--trail-name", ARN)
    assert rc == 0, err
    assert out == {"TrailARN": ARN, "InsightSelectors": [{"InsightType": "ApiCallRateInsight"}]}


def test_add_tags(cli, ct, trail):
    rc, out, err = cli("add-tags", "--resource-id", ARN, "--tags-list", "Key=a,Value=1", "Key=b")
    assert (rc, out) == (0, None), err
    tags = ct.list_tags(ResourceIdList=[ARN])["ResourceTagList"][0]["TagsList"]
    assert sorted(tags, key=lambda t: t["Key"]) == [{"Key": "a", "Value": "1"}, {"Key": "b"}]
    expect_cli_error(cli("add-tags", "--resource-id", trail, "--tags-list", "Key=a,Value=1"),
                     "CloudTrailARNInvalidException", "AddTags")  # fmt: skip


def test_list_tags(cli, ct, trail):
    ct.add_tags(ResourceId=ARN, TagsList=[{"Key": "k", "Value": "v"}])
    rc, out, err = cli("list-tags", "--resource-id-list", ARN)
    assert rc == 0, err
    assert out == {"ResourceTagList": [{"ResourceId": ARN, "TagsList": [{"Key": "k", "Value": "v"}]}]}
    expect_cli_error(cli("list-tags", "--resource-id-list", trail_arn("missing-trail")), "ResourceNotFoundException",
                     "ListTags")  # fmt: skip


def test_remove_tags(cli, ct, trail):
    ct.add_tags(ResourceId=ARN, TagsList=[{"Key": "k", "Value": "v"}, {"Key": "keep", "Value": "me"}])
    rc, out, err = cli("remove-tags", "--resource-id", ARN, "--tags-list", "Key=k")
    assert (rc, out) == (0, None), err
    assert ct.list_tags(ResourceIdList=[ARN])["ResourceTagList"][0]["TagsList"] == [{"Key": "keep", "Value": "me"}]
    expect_cli_error(cli("remove-tags", "--resource-id", ARN, "--tags-list", "Key=k", region=OTHER_REGION),
                     "CloudTrailARNInvalidException", "RemoveTags",
                     f"Region in ARN is wrong, you can only access resources in region {OTHER_REGION}.")  # fmt: skip


def test_list_trails_follows_pages(cli, server):
    expected = set()
    for region in ("us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2",
                   "eu-central-1", "ap-south-1", "ap-northeast-1", "sa-east-1", "ca-central-1"):  # fmt: skip
        client = server.client(region)
        for i in range(5):
            client.create_trail(Name=f"cli-{i}", S3BucketName=BUCKET)
            expected.add(trail_arn(f"cli-{i}", region))
    rc, out, err = cli("list-trails")
    assert rc == 0, err
    assert {t["TrailARN"] for t in out["Trails"]} == expected and len(out["Trails"]) == 55
    assert "NextToken" not in out
    rc, out, err = cli("list-trails", "--max-items", "3")
    assert rc == 0, err
    assert len(out["Trails"]) == 3 and out["NextToken"]


def test_lookup_events_finds_recorded_calls(cli):
    rc, _, _ = cli("list-trails")
    assert rc == 0
    rc, out, err = cli(
        "lookup-events", "--lookup-attributes", "AttributeKey=EventName,AttributeValue=ListTrails", "--max-results", "5"
    )
    assert rc == 0, err
    assert [e["EventName"] for e in out["Events"]] == ["ListTrails"]
    assert out["Events"][0]["ReadOnly"] == "true"




def test_wrong_secret(cli):
    expect_cli_error(cli("list-trails", secret="wrong"), "InvalidSignatureException", "ListTrails")


def test_unknown_access_key(cli):
    expect_cli_error(cli("describe-trails", key="AKIAUNKNOWN000000000"), "UnrecognizedClientException",
                     "DescribeTrails", "The security token included in the request is invalid.")  # fmt: skip
