"""The recording proxy with boto3: S3, DynamoDB, STS and IAM through opentrail to moto_server.

Answers must equal moto's own, refusals come in each service's format, and the calls appear in
event history (management events) under the signing key's identity.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from support import REGION, start_server, stop_server

CONFIG = Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30, s3={"addressing_style": "path"})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def moto():
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-p", str(port), "-H", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            with urllib.request.urlopen(f"{url}/moto-api/data.json", timeout=2) as res:
                if res.status == 200:
                    break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("moto_server did not start")
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def proxy(moto, tmp_path_factory):
    srv = start_server(tmp_path_factory.mktemp("opentrail-proxy"), "--upstream", moto)
    yield srv
    stop_server(srv.proc)


def client(service: str, endpoint: str, secret: str = "test"):
    return boto3.client(
        service,
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id="test",
        aws_secret_access_key=secret,
        config=CONFIG,
    )


def history(proxy) -> list[dict]:
    events = client("cloudtrail", proxy.url).lookup_events(MaxResults=50)["Events"]
    return [e for e in events if e["EventSource"] != "cloudtrail.amazonaws.com"]


def test_s3_through_the_proxy_answers_as_moto(proxy, moto):
    s3 = client("s3", proxy.url)
    s3.create_bucket(Bucket="py-bucket")
    s3.put_object(Bucket="py-bucket", Key="k", Body=b"boto3 body" * 1000)
    got = s3.get_object(Bucket="py-bucket", Key="k")["Body"].read()
    direct = client("s3", moto).get_object(Bucket="py-bucket", Key="k")["Body"].read()
    assert got == direct == b"boto3 body" * 1000
    listed = s3.list_objects_v2(Bucket="py-bucket")
    assert [o["Key"] for o in listed["Contents"]] == ["k"]
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "py-bucket", "Key": "k"}, ExpiresIn=60)
    with urllib.request.urlopen(url, timeout=10) as res:
        assert res.read() == direct
    assert "CreateBucket" in [e["EventName"] for e in history(proxy)]


def test_s3_multipart_upload(proxy):
    s3 = client("s3", proxy.url)
    s3.create_bucket(Bucket="py-multi")
    upload = s3.create_multipart_upload(Bucket="py-multi", Key="big")
    part = b"x" * (5 * 1024 * 1024)
    parts = [
        {"PartNumber": n, "ETag": s3.upload_part(Bucket="py-multi", Key="big", UploadId=upload["UploadId"], PartNumber=n, Body=part)["ETag"]}
        for n in (1, 2)
    ]
    s3.complete_multipart_upload(Bucket="py-multi", Key="big", UploadId=upload["UploadId"], MultipartUpload={"Parts": parts})
    assert s3.head_object(Bucket="py-multi", Key="big")["ContentLength"] == 10 * 1024 * 1024


def test_dynamodb_sts_iam(proxy, moto):
    ddb = client("dynamodb", proxy.url)
    ddb.create_table(
        TableName="PyMusic",
        KeySchema=[{"AttributeName": "Artist", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "Artist", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName="PyMusic", Item={"Artist": {"S": "Acme Band"}})
    item = ddb.get_item(TableName="PyMusic", Key={"Artist": {"S": "Acme Band"}})["Item"]
    assert item == client("dynamodb", moto).get_item(TableName="PyMusic", Key={"Artist": {"S": "Acme Band"}})["Item"]
    assert client("sts", proxy.url).get_caller_identity()["Account"]
    client("iam", proxy.url).create_user(UserName="py-user")
    created = [e for e in history(proxy) if e["EventName"] == "CreateUser"]
    assert created and created[0]["EventSource"] == "iam.amazonaws.com"
    assert created[0]["Username"] == "test"


@pytest.mark.parametrize(
    ("service", "call", "code"),
    [
        ("s3", lambda c: c.list_buckets(), "SignatureDoesNotMatch"),
        ("dynamodb", lambda c: c.list_tables(), "InvalidSignatureException"),
        ("sts", lambda c: c.get_caller_identity(), "SignatureDoesNotMatch"),
    ],
)
def test_a_wrong_secret_gets_the_services_own_error(proxy, service, call, code):
    with pytest.raises(ClientError) as raised:
        call(client(service, proxy.url, secret="wrong"))
    assert raised.value.response["Error"]["Code"] == code
