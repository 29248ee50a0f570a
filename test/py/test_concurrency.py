"""Concurrent CreateTrail calls from boto3 clients in parallel threads: uniqueness and the quota hold."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError
from support import BUCKET, OTHER_REGION, trail_arn

PARALLEL = 16
# One round of PARALLEL creates overshoots the quota about half the time when nothing serialises the
# check and the write, so this many rounds make a miss of such a bug vanishingly unlikely.
ROUNDS = 20

def create(client, name, **extra):
    try:
        client.create_trail(Name=name, S3BucketName=BUCKET, **extra)
        return "ok"
    except ClientError as e:
        return e.response["Error"]["Code"]


def in_parallel(server, region, names, **extra):
    clients = [server.client(region) for _ in names]
    with ThreadPoolExecutor(len(names)) as pool:
        return list(pool.map(lambda pair: create(*pair, **extra), zip(clients, names)))


def test_one_name_created_once(server, ct):
    results = in_parallel(server, "us-east-1", ["contested"] * PARALLEL)
    assert sorted(results) == ["TrailAlreadyExistsException"] * (PARALLEL - 1) + ["ok"]
    assert [t["Name"] for t in ct.describe_trails()["trailList"]] == ["contested"]


def test_parallel_add_tags_lose_nothing(server, ct):
    ct.create_trail(Name="tag-race", S3BucketName=BUCKET)
    arn = trail_arn("tag-race")

    def add(i):
        try:
            server.client().add_tags(ResourceId=arn, TagsList=[{"Key": f"t{i}-{j}", "Value": "v"} for j in range(10)])
            return "ok"
        except ClientError as e:
            return e.response["Error"]["Code"]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(add, range(8)))
    tags = ct.list_tags(ResourceIdList=[arn])["ResourceTagList"][0]["TagsList"]
    # Every acknowledged AddTags is visible, and the 50-tag limit holds.
    assert len(tags) == 10 * results.count("ok") <= 50, results
    assert set(results) <= {"ok", "TagsLimitExceededException", "ConflictException"}


def test_regional_quota_under_concurrency(server, ct):
    for _ in range(ROUNDS):
        server.post("/_opentrail/reset")
        results = in_parallel(server, "us-east-1", [f"racer-{i}" for i in range(PARALLEL)])
        trails = ct.describe_trails()["trailList"]
        assert results.count("ok") == 5 and len(trails) == 5, (results, [t["Name"] for t in trails])
        assert set(results) == {"ok", "MaximumNumberOfTrailsExceededException"}


def test_multi_region_quota_under_concurrency(server, ct_other):
    for _ in range(ROUNDS):
        server.post("/_opentrail/reset")
        for i in range(4):
            ct_other.create_trail(Name=f"west-{i}", S3BucketName=BUCKET)
        results = in_parallel(server, "us-east-1", [f"global-{i}" for i in range(PARALLEL)], IsMultiRegionTrail=True)
        trails = ct_other.describe_trails()["trailList"]
        assert results.count("ok") == 1 and len(trails) == 5, (results, OTHER_REGION, len(trails))


def test_multi_region_name_clash_under_concurrency(server):
    regions = ["us-east-1", "eu-west-1", "us-west-2", "ap-south-1", "sa-east-1", "eu-central-1"]

    def create_in(i):
        client = server.client(regions[i])
        return create(client, "shared", IsMultiRegionTrail=(i == 0))

    with ThreadPoolExecutor(len(regions)) as pool:
        for _ in range(ROUNDS):
            server.post("/_opentrail/reset")
            results = list(pool.map(create_in, range(len(regions))))
            # Either the multi-Region trail won and every other create clashed, or it lost.
            if results[0] == "ok":
                assert set(results[1:]) == {"TrailAlreadyExistsException"}, results
            else:
                assert results[0] == "TrailAlreadyExistsException", results
