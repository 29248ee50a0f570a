"""Service-wide behaviour through boto3: not-yet-available operations, authentication, request ids."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from support import body, expect_error

SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)


def test_lookup_events_finds_recorded_calls(ct):
    expect_error(lambda: ct.get_trail(Name="no-such-trail"), "TrailNotFoundException")
    answer = ct.lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "GetTrail"}], MaxResults=5
    )
    assert len(answer["Events"]) == 1
    event = answer["Events"][0]
    assert event["EventSource"] == "cloudtrail.amazonaws.com" and event["ReadOnly"] == "true"
    record = json.loads(event["CloudTrailEvent"])
    assert record["errorCode"] == "TrailNotFoundException"
    assert record["requestParameters"] == {"name": "no-such-trail"}
    pages = list(ct.get_paginator("lookup_events").paginate(PaginationConfig={"PageSize": 1}))
    assert len(pages) >= 2
    expect_error(lambda: ct.lookup_events(MaxResults=51), "InvalidMaxResultsException")




def test_wrong_secret_is_an_invalid_signature(server):
    client = server.client(secret="not-the-secret")
    expect_error(lambda: client.list_trails(), "InvalidSignatureException", SIGNATURE_MISMATCH)
    expect_error(lambda: client.describe_trails(), "InvalidSignatureException", SIGNATURE_MISMATCH)


def test_unknown_access_key_is_unrecognized(server):
    client = server.client(key="AKIAIOSFODNN7EXAMPLE", secret="whatever")
    expect_error(
        lambda: client.list_trails(),
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
    )


def test_region_outside_the_served_set(server):
    client = server.client(region="xx-nowhere-9")
    expect_error(
        lambda: client.list_trails(),
        "InvalidSignatureException",
        "Credential should be scoped to a valid region, not 'xx-nowhere-9'.",
    )


def test_failed_mutation_changes_nothing(server, ct):
    bad = server.client(secret="nope")
    expect_error(lambda: bad.create_trail(Name="sneaky", S3BucketName="my-bucket"), "InvalidSignatureException")
    assert body(ct.describe_trails()) == {"trailList": []}


def test_unsigned_request_is_refused(server):
    req = urllib.request.Request(
        server.url + "/",
        data=b"{}",
        method="POST",
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.ListTrails",
        },
    )
    try:
        urllib.request.urlopen(req, timeout=10)
        raise AssertionError("an unsigned request was accepted")
    except urllib.error.HTTPError as e:
        status, payload, request_id = e.code, json.loads(e.read()), e.headers.get("x-amzn-RequestId")
    assert status == 403
    assert payload["__type"] == "MissingAuthenticationTokenException"
    assert request_id


def test_every_response_has_its_own_request_id(ct):
    ids = {ct.list_trails()["ResponseMetadata"]["RequestId"] for _ in range(3)}
    assert len(ids) == 3
