"""Two accounts on one server (configured credentials, so no development key and no reset)."""

from __future__ import annotations

import json

import pytest
from support import (
    BUCKET,
    REGION,
    body,
    expect_error,
    get_trail_unknown_message,
    start_server,
    stop_server,
    trail_arn,
)

ALICE = {"accessKeyId": "AKIAALICE0000000001", "secretAccessKey": "alice-secret", "accountId": "111111111111",
         "type": "IAMUser", "userName": "alice"}  # fmt: skip
BOB = {"accessKeyId": "AKIABOB000000000002", "secretAccessKey": "bob-secret", "accountId": "222222222222",
       "type": "IAMUser", "userName": "bob"}  # fmt: skip


@pytest.fixture(scope="module")
def accounts_server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("opentrail-accounts")
    config = data_dir / "opentrail.json"
    config.write_text(json.dumps({"credentials": [ALICE, BOB]}))
    srv = start_server(data_dir, "--config", str(config))
    yield srv
    stop_server(srv.proc)


def client_for(srv, who, region=REGION):
    return srv.client(region, key=who["accessKeyId"], secret=who["secretAccessKey"])


def test_accounts_are_isolated(accounts_server):
    alice = client_for(accounts_server, ALICE)
    bob = client_for(accounts_server, BOB)
    made = alice.create_trail(Name="shared-name", S3BucketName=BUCKET, IsMultiRegionTrail=True)
    alice_arn = trail_arn("shared-name", account=ALICE["accountId"])
    assert made["TrailARN"] == alice_arn

    assert body(bob.describe_trails()) == {"trailList": []}
    assert body(bob.list_trails()) == {"Trails": []}
    assert body(client_for(accounts_server, BOB, "eu-west-1").describe_trails()) == {"trailList": []}
    expect_error(
        lambda: bob.get_trail(Name="shared-name"),
        "TrailNotFoundException",
        get_trail_unknown_message("shared-name", account=BOB["accountId"]),
    )
    # Knowing the other account's ARN does not help.
    expect_error(lambda: bob.get_trail(Name=alice_arn), "TrailNotFoundException")
    expect_error(lambda: bob.delete_trail(Name=alice_arn), "TrailNotFoundException")

    # The same name is free in the other account, quotas are per account too.
    mine = bob.create_trail(Name="shared-name", S3BucketName=BUCKET)
    assert mine["TrailARN"] == trail_arn("shared-name", account=BOB["accountId"])
    assert [t["TrailARN"] for t in alice.list_trails()["Trails"]] == [alice_arn]
    assert alice.get_trail(Name="shared-name")["Trail"]["IsMultiRegionTrail"] is True


def test_tags_are_per_account(accounts_server):
    alice = client_for(accounts_server, ALICE)
    bob = client_for(accounts_server, BOB)
    alice.create_trail(Name="alice-tags", S3BucketName=BUCKET, TagsList=[{"Key": "owner", "Value": "alice"}])
    alice_arn = trail_arn("alice-tags", account=ALICE["accountId"])
    # AWS answers tag calls on another account's trail this way (seen by tools listing organization trails).
    wrong_account = f"AccountID in ARN is wrong, you can only access resources with AccountID {BOB['accountId']}."
    expect_error(lambda: bob.list_tags(ResourceIdList=[alice_arn]), "CloudTrailARNInvalidException", wrong_account)
    expect_error(
        lambda: bob.add_tags(ResourceId=alice_arn, TagsList=[{"Key": "x"}]),
        "CloudTrailARNInvalidException",
        wrong_account,
    )
    assert alice.list_tags(ResourceIdList=[alice_arn])["ResourceTagList"][0]["TagsList"] == [
        {"Key": "owner", "Value": "alice"}
    ]


def test_configured_credentials_replace_the_development_key(accounts_server):
    expect_error(lambda: accounts_server.client().list_trails(), "UnrecognizedClientException")
    expect_error(
        lambda: accounts_server.client(key=ALICE["accessKeyId"], secret=BOB["secretAccessKey"]).list_trails(),
        "InvalidSignatureException",
    )
    status, _ = accounts_server.post("/_opentrail/reset")
    assert status == 404
