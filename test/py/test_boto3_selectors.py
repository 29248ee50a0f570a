"""PutEventSelectors / GetEventSelectors (basic and advanced) and the insight selector pair."""

from __future__ import annotations

import pytest
from support import BUCKET, body, expect_error, trail_arn, unknown_trail_message

MANAGEMENT_ONLY = [
    {"Name": "Management events", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}
]
S3_DATA = [
    {
        "Name": "objects of one bucket",
        "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
            {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::my-bucket/"]},
            {"Field": "readOnly", "Equals": ["false"]},
        ],
    }
]


@pytest.fixture
def trail(ct):
    ct.create_trail(Name="selected", S3BucketName=BUCKET)
    return "selected"


def test_basic_selectors_round_trip_normalised(ct, trail):
    sent = [
        {"ReadWriteType": "WriteOnly"},
        {
            "ReadWriteType": "ReadOnly",
            "IncludeManagementEvents": False,
            "DataResources": [
                {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::my-bucket/", "arn:aws:s3:::bucket-two/prefix"]},
                {"Type": "AWS::Lambda::Function", "Values": ["arn:aws:lambda"]},
            ],
        },
        {"IncludeManagementEvents": True, "ExcludeManagementEventSources": ["kms.amazonaws.com"]},
    ]
    stored = [
        {"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True, "DataResources": [],
         "ExcludeManagementEventSources": []},
        {"ReadWriteType": "ReadOnly", "IncludeManagementEvents": False, "DataResources": sent[1]["DataResources"],
         "ExcludeManagementEventSources": []},
        {"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": [],
         "ExcludeManagementEventSources": ["kms.amazonaws.com"]},
    ]  # fmt: skip
    put = body(ct.put_event_selectors(TrailName=trail, EventSelectors=sent))
    assert put == {"TrailARN": trail_arn(trail), "EventSelectors": stored}
    assert body(ct.get_event_selectors(TrailName=trail_arn(trail))) == put
    assert ct.get_trail(Name=trail)["Trail"]["HasCustomEventSelectors"] is True


def test_advanced_selectors_round_trip_and_switch_back(ct, trail):
    put = body(ct.put_event_selectors(TrailName=trail, AdvancedEventSelectors=MANAGEMENT_ONLY + S3_DATA))
    assert put == {"TrailARN": trail_arn(trail), "AdvancedEventSelectors": MANAGEMENT_ONLY + S3_DATA}
    got = body(ct.get_event_selectors(TrailName=trail))
    assert got == put and "EventSelectors" not in got
    assert ct.describe_trails()["trailList"][0]["HasCustomEventSelectors"] is True

    back = body(ct.put_event_selectors(TrailName=trail, EventSelectors=[{"ReadWriteType": "All"}]))
    assert "AdvancedEventSelectors" not in back
    assert "AdvancedEventSelectors" not in ct.get_event_selectors(TrailName=trail)


def test_advanced_selectors_may_be_empty(ct, trail):
    put = body(ct.put_event_selectors(TrailName=trail, AdvancedEventSelectors=[]))
    assert put == {"TrailARN": trail_arn(trail), "AdvancedEventSelectors": []}
    assert body(ct.get_event_selectors(TrailName=trail)) == put


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"EventSelectors": [{"ReadWriteType": "All"}], "AdvancedEventSelectors": MANAGEMENT_ONLY},
         "You can select events by using either EventSelectors or AdvancedEventSelectors, but not both."),
        ({}, None),
        ({"EventSelectors": []}, None),
        ({"EventSelectors": [{"ReadWriteType": "All"}] * 6}, None),
        ({"EventSelectors": [{"ReadWriteType": "read-only"}]}, None),
        ({"EventSelectors": [{"DataResources": [{"Type": "AWS::S3::Bucket", "Values": ["arn:aws:s3:::b/"]}]}]},
         "Value AWS::S3::Bucket for DataResources.Type is invalid. Valid values are: AWS::DynamoDB::Table, "
         "AWS::Lambda::Function, AWS::S3::Object"),
        ({"EventSelectors": [{"DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::*"]}]}]},
         "Value arn:aws:s3:::* for DataResources.Values is invalid."),
        ({"EventSelectors": [{"ExcludeManagementEventSources": ["s3.amazonaws.com"]}]}, None),
        ({"AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "readOnly", "Equals": ["true"]}]}]}, None),
        ({"AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}]}]}, None),
    ],
    ids=["both-kinds", "neither", "empty-basic", "six-basic", "bad-read-write", "bad-type", "bad-value",
         "bad-exclude", "no-category", "data-without-type"],
)  # fmt: skip
def test_put_event_selectors_invalid(ct, trail, args, message):
    before = body(ct.get_event_selectors(TrailName=trail))
    expect_error(lambda: ct.put_event_selectors(TrailName=trail, **args), "InvalidEventSelectorsException", message)
    assert body(ct.get_event_selectors(TrailName=trail)) == before


def test_event_selectors_unknown_trail(ct):
    expect_error(
        lambda: ct.get_event_selectors(TrailName="nowhere"), "TrailNotFoundException", unknown_trail_message("nowhere")
    )
    expect_error(
        lambda: ct.put_event_selectors(TrailName="nowhere", EventSelectors=[{"ReadWriteType": "All"}]),
        "TrailNotFoundException",
    )
    expect_error(lambda: ct.get_event_selectors(TrailName="x"), "InvalidTrailNameException")


# --- Insight selectors ---------------------------------------------------------------------------


def insights_disabled(name: str) -> str:
    return (
        f"Trail {name} does not have Insights enabled. "
        "Edit the trail settings to enable Insights, and then try the operation again."
    )


def test_insight_selectors_round_trip_and_disable(ct, trail):
    expect_error(
        lambda: ct.get_insight_selectors(TrailName=trail), "InsightNotEnabledException", insights_disabled(trail)
    )
    selectors = [{"InsightType": "ApiCallRateInsight"}, {"InsightType": "ApiErrorRateInsight"}]
    put = body(ct.put_insight_selectors(TrailName=trail, InsightSelectors=selectors))
    assert put == {"TrailARN": trail_arn(trail), "InsightSelectors": selectors}
    assert body(ct.get_insight_selectors(TrailName=trail_arn(trail))) == put
    assert ct.get_trail(Name=trail)["Trail"]["HasInsightSelectors"] is True

    assert body(ct.put_insight_selectors(TrailName=trail, InsightSelectors=[]))["InsightSelectors"] == []
    assert ct.get_trail(Name=trail)["Trail"]["HasInsightSelectors"] is False
    expect_error(
        lambda: ct.get_insight_selectors(TrailName=trail), "InsightNotEnabledException", insights_disabled(trail)
    )


def test_insight_selectors_with_categories(ct, trail):
    selectors = [{"InsightType": "ApiErrorRateInsight", "EventCategories": ["Management"]}]
    put = body(ct.put_insight_selectors(TrailName=trail, InsightSelectors=selectors))
    assert put["InsightSelectors"] == selectors
    assert ct.get_insight_selectors(TrailName=trail)["InsightSelectors"] == selectors


@pytest.mark.parametrize(
    "selectors",
    [
        [{"InsightType": "ApiCallVolumeInsight"}],
        [{"InsightType": "ApiCallRateInsight"}, {"InsightType": "ApiCallRateInsight"}],
    ],
    ids=["unknown-type", "duplicate-type"],
)
def test_put_insight_selectors_invalid(ct, trail, selectors):
    expect_error(
        lambda: ct.put_insight_selectors(TrailName=trail, InsightSelectors=selectors),
        "InvalidInsightSelectorsException",
    )
    assert ct.get_trail(Name=trail)["Trail"]["HasInsightSelectors"] is False


def test_insight_selectors_parameter_errors(ct, trail):
    expect_error(lambda: ct.get_insight_selectors(), "InvalidParameterException")
    expect_error(
        lambda: ct.get_insight_selectors(TrailName=trail, EventDataStore="my-event-data-store"),
        "InvalidParameterCombinationException",
    )
    expect_error(
        lambda: ct.get_insight_selectors(EventDataStore="my-event-data-store"), "UnsupportedOperationException"
    )
    expect_error(
        lambda: ct.put_insight_selectors(InsightSelectors=[{"InsightType": "ApiCallRateInsight"}]),
        "InvalidParameterException",
    )
    expect_error(
        lambda: ct.put_insight_selectors(TrailName="nowhere", InsightSelectors=[]),
        "TrailNotFoundException",
        unknown_trail_message("nowhere"),
    )
