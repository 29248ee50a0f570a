"""Multi-Region trails seen from other regions, name vs ARN resolution and the home-region rule."""

from __future__ import annotations

import pytest
from support import (
    ACCOUNT,
    BUCKET,
    OTHER_REGION,
    REGION,
    body,
    expect_error,
    get_trail_unknown_message,
    trail_arn,
    unknown_trail_message,
)

HOME_REGION_MESSAGE = f"This operation must be called from the trail's home region ({REGION})."


@pytest.fixture
def multi(ct):
    ct.create_trail(Name="global", S3BucketName=BUCKET, IsMultiRegionTrail=True)
    return trail_arn("global")


def test_shadow_is_described_from_another_region(ct, ct_other, multi):
    home = ct.describe_trails()["trailList"]
    shadow = ct_other.describe_trails()["trailList"]
    assert shadow == home
    assert shadow[0]["HomeRegion"] == REGION
    assert shadow[0]["TrailARN"] == multi
    assert body(ct_other.describe_trails(includeShadowTrails=False)) == {"trailList": []}
    assert len(ct.describe_trails(includeShadowTrails=False)["trailList"]) == 1


def test_describe_shadow_by_name_is_skipped_by_arn_found(ct_other, multi):
    assert ct_other.describe_trails(trailNameList=["global"])["trailList"] == []
    found = ct_other.describe_trails(trailNameList=[multi])["trailList"]
    assert [t["TrailARN"] for t in found] == [multi]


def test_describe_lists_home_trails_before_shadows(ct, ct_other, multi):
    ct_other.create_trail(Name="zz-local", S3BucketName=BUCKET)
    ct_other.create_trail(Name="aa-local", S3BucketName=BUCKET)
    names = [t["Name"] for t in ct_other.describe_trails()["trailList"]]
    assert names == ["aa-local", "zz-local", "global"]


def test_shadow_read_operations_need_the_arn(ct, ct_other, multi):
    expect_error(
        lambda: ct_other.get_trail(Name="global"),
        "TrailNotFoundException",
        get_trail_unknown_message("global"),
    )
    assert ct_other.get_trail(Name=multi)["Trail"] == ct.get_trail(Name="global")["Trail"]
    assert ct_other.get_event_selectors(TrailName=multi)["TrailARN"] == multi
    expect_error(lambda: ct_other.get_trail_status(Name="global"), "TrailNotFoundException")
    assert ct_other.get_trail_status(Name=multi)["IsLogging"] is False


def test_logging_started_at_home_applies_to_shadows(ct, ct_other, multi):
    ct.start_logging(Name="global")
    assert ct_other.get_trail_status(Name=multi)["IsLogging"] is True
    ct.stop_logging(Name=multi)
    assert ct_other.get_trail_status(Name=multi)["IsLogging"] is False


@pytest.mark.parametrize(
    "operation",
    ["update_trail", "delete_trail", "start_logging", "stop_logging", "put_event_selectors", "put_insight_selectors"],
)
def test_mutations_on_a_shadow_answer_invalid_home_region(ct, ct_other, multi, operation):
    args = {
        "update_trail": {"Name": multi, "S3KeyPrefix": "x"},
        "delete_trail": {"Name": multi},
        "start_logging": {"Name": multi},
        "stop_logging": {"Name": multi},
        "put_event_selectors": {"TrailName": multi, "EventSelectors": [{"ReadWriteType": "ReadOnly"}]},
        "put_insight_selectors": {"TrailName": multi, "InsightSelectors": [{"InsightType": "ApiCallRateInsight"}]},
    }[operation]
    call = getattr(ct_other, operation)
    expect_error(lambda: call(**args), "InvalidHomeRegionException", HOME_REGION_MESSAGE)
    # By name the shadow is not even found.
    by_name = {k: ("global" if v == multi else v) for k, v in args.items()}
    expect_error(lambda: call(**by_name), "TrailNotFoundException", unknown_trail_message("global", OTHER_REGION))
    assert ct.get_trail(Name="global")["Trail"]["IsMultiRegionTrail"] is True


def test_single_region_trail_from_another_region(ct, ct_other):
    ct.create_trail(Name="local-only", S3BucketName=BUCKET)
    arn = trail_arn("local-only")
    assert ct_other.describe_trails()["trailList"] == []
    assert ct_other.describe_trails(trailNameList=[arn])["trailList"] == []
    expect_error(lambda: ct_other.get_trail(Name=arn), "TrailNotFoundException")
    expect_error(lambda: ct_other.start_logging(Name=arn), "InvalidHomeRegionException", HOME_REGION_MESSAGE)


def test_names_are_unique_per_visible_region(ct, ct_other, multi):
    expect_error(
        lambda: ct_other.create_trail(Name="global", S3BucketName=BUCKET),
        "TrailAlreadyExistsException",
        f"Trail global already exists for customer: {ACCOUNT}",
    )
    # Single-Region trails of different regions may share a name ...
    ct.create_trail(Name="same-name", S3BucketName=BUCKET)
    ct_other.create_trail(Name="same-name", S3BucketName=BUCKET)
    assert ct_other.get_trail(Name="same-name")["Trail"]["HomeRegion"] == OTHER_REGION
    # ... but then neither can become multi-Region.
    expect_error(
        lambda: ct.update_trail(Name="same-name", IsMultiRegionTrail=True), "TrailAlreadyExistsException"
    )


def test_update_toggles_shadows(ct, ct_other):
    ct.create_trail(Name="toggle", S3BucketName=BUCKET)
    assert ct_other.describe_trails()["trailList"] == []
    res = ct.update_trail(Name="toggle", IsMultiRegionTrail=True)
    assert res["IsMultiRegionTrail"] is True
    assert [t["Name"] for t in ct_other.describe_trails()["trailList"]] == ["toggle"]
    ct.update_trail(Name="toggle", IsMultiRegionTrail=False)
    assert ct_other.describe_trails()["trailList"] == []


def test_delete_removes_shadows(ct, ct_other, multi):
    ct.delete_trail(Name="global")
    assert ct_other.describe_trails()["trailList"] == []
    expect_error(lambda: ct_other.get_trail(Name=multi), "TrailNotFoundException")
    assert ct.list_trails()["Trails"] == []


def test_shadows_count_against_the_regional_quota(ct, ct_other, multi):
    for i in range(4):
        ct_other.create_trail(Name=f"west-{i}", S3BucketName=BUCKET)
    expect_error(
        lambda: ct_other.create_trail(Name="west-4", S3BucketName=BUCKET),
        "MaximumNumberOfTrailsExceededException",
        f"User: {ACCOUNT} already has 5 trails in {OTHER_REGION}.",
    )
    # A new multi-Region trail would be a sixth one in the full region.
    expect_error(
        lambda: ct.create_trail(Name="global-two", S3BucketName=BUCKET, IsMultiRegionTrail=True),
        "MaximumNumberOfTrailsExceededException",
    )
