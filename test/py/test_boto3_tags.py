"""AddTags / ListTags / RemoveTags through boto3."""

from __future__ import annotations

import pytest
from support import BUCKET, OTHER_REGION, REGION, body, expect_error, trail_arn

WRONG_REGION = "Region in ARN is wrong, you can only access resources in region {}."


@pytest.fixture
def arn(ct):
    ct.create_trail(Name="tagged", S3BucketName=BUCKET, TagsList=[{"Key": "team", "Value": "core"}])
    return trail_arn("tagged")


def tags_of(ct, arn):
    [entry] = ct.list_tags(ResourceIdList=[arn])["ResourceTagList"]
    assert entry["ResourceId"] == arn
    return entry["TagsList"]


def test_create_tags_then_upsert_and_remove(ct, arn):
    assert tags_of(ct, arn) == [{"Key": "team", "Value": "core"}]
    assert body(ct.add_tags(ResourceId=arn, TagsList=[{"Key": "team", "Value": "edge"}, {"Key": "bare"}])) == {}
    tags = {t["Key"]: t for t in tags_of(ct, arn)}
    assert tags == {"team": {"Key": "team", "Value": "edge"}, "bare": {"Key": "bare"}}

    assert body(ct.remove_tags(ResourceId=arn, TagsList=[{"Key": "team"}, {"Key": "never-set"}])) == {}
    assert tags_of(ct, arn) == [{"Key": "bare"}]


def test_list_tags_keeps_request_order(ct, arn):
    ct.create_trail(Name="untagged", S3BucketName=BUCKET)
    other = trail_arn("untagged")
    res = body(ct.list_tags(ResourceIdList=[other, arn]))
    assert res == {
        "ResourceTagList": [
            {"ResourceId": other, "TagsList": []},
            {"ResourceId": arn, "TagsList": [{"Key": "team", "Value": "core"}]},
        ]
    }


def test_tags_need_an_arn_of_the_current_region(ct, ct_other, arn):
    for call in (
        lambda: ct.add_tags(ResourceId="tagged", TagsList=[{"Key": "k", "Value": "v"}]),
        lambda: ct.remove_tags(ResourceId="tagged", TagsList=[{"Key": "k"}]),
        lambda: ct.list_tags(ResourceIdList=["tagged"]),
    ):
        expect_error(call, "CloudTrailARNInvalidException")
    expect_error(
        lambda: ct_other.add_tags(ResourceId=arn, TagsList=[{"Key": "k", "Value": "v"}]),
        "CloudTrailARNInvalidException",
        WRONG_REGION.format(OTHER_REGION),
    )
    expect_error(
        lambda: ct_other.list_tags(ResourceIdList=[arn]),
        "CloudTrailARNInvalidException",
        WRONG_REGION.format(OTHER_REGION),
    )


def test_tags_of_a_missing_trail(ct):
    missing = trail_arn("gone-trail")
    expect_error(lambda: ct.add_tags(ResourceId=missing, TagsList=[{"Key": "k"}]), "ResourceNotFoundException")
    expect_error(lambda: ct.remove_tags(ResourceId=missing, TagsList=[{"Key": "k"}]), "ResourceNotFoundException")
    expect_error(lambda: ct.list_tags(ResourceIdList=[missing]), "ResourceNotFoundException")


def test_tag_limit_is_atomic(ct, arn):
    ct.add_tags(ResourceId=arn, TagsList=[{"Key": f"k{i}", "Value": "v"} for i in range(49)])
    assert len(tags_of(ct, arn)) == 50
    expect_error(
        lambda: ct.add_tags(ResourceId=arn, TagsList=[{"Key": "one-more", "Value": "v"}]),
        "TagsLimitExceededException",
        "The number of tags per trail has exceeded the permitted amount. Currently, the limit is 50.",
    )
    # Replacing an existing key keeps the count at 50 and is allowed.
    ct.add_tags(ResourceId=arn, TagsList=[{"Key": "k0", "Value": "changed"}])
    assert len(tags_of(ct, arn)) == 50


@pytest.mark.parametrize(
    "tags",
    [
        [{"Key": "dup", "Value": "a"}, {"Key": "dup", "Value": "b"}],
        [{"Key": "k" * 129, "Value": "v"}],
        [{"Key": "k", "Value": "v" * 257}],
    ],
    ids=["duplicate-key", "long-key", "long-value"],
)
def test_invalid_tags(ct, arn, tags):
    expect_error(lambda: ct.add_tags(ResourceId=arn, TagsList=tags), "InvalidTagParameterException")
    assert tags_of(ct, arn) == [{"Key": "team", "Value": "core"}]


def test_create_trail_with_invalid_tags_creates_nothing(ct):
    expect_error(
        lambda: ct.create_trail(Name="tags-bad", S3BucketName=BUCKET, TagsList=[{"Key": "k" * 129}]),
        "InvalidTagParameterException",
    )
    assert ct.describe_trails()["trailList"] == []


def test_list_tags_limits(ct, arn):
    expect_error(lambda: ct.list_tags(ResourceIdList=[arn], NextToken="token"), "InvalidTokenException")
    expect_error(lambda: ct.list_tags(ResourceIdList=[arn] * 21), "InvalidParameterException")


def test_tags_on_other_cloudtrail_resource_types(ct):
    eds = f"arn:aws:cloudtrail:{REGION}:123456789012:eventdatastore/EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE"
    expect_error(lambda: ct.add_tags(ResourceId=eds, TagsList=[{"Key": "k"}]), "ResourceTypeNotSupportedException")


def test_create_trail_with_too_many_tags_creates_nothing(ct):
    expect_error(
        lambda: ct.create_trail(
            Name="tags-many", S3BucketName=BUCKET, TagsList=[{"Key": f"k{i}", "Value": "v"} for i in range(51)]
        ),
        "TagsLimitExceededException",
    )
    assert ct.describe_trails()["trailList"] == []
