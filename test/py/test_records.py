"""Records of calls made by boto3 and the AWS CLI v1, read back with LookupEvents and compared field
by field with log-files.md §3 (failures included; authentication failures leave no record)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest
from botocore.exceptions import ClientError
from support import ACCOUNT, BUCKET, ISO_SECOND, OTHER_REGION, REGION, body, get_trail_unknown_message

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

# The development credential: an IAM user named `test` (log-files.md §2).
DEV_IDENTITY = {
    "type": "IAMUser",
    "principalId": f"AIDA{ACCOUNT}",
    "arn": f"arn:aws:iam::{ACCOUNT}:user/test",
    "accountId": ACCOUNT,
    "accessKeyId": "test",
    "userName": "test",
}


def record_spelling(value):
    """Member names with their first letter lower-cased, at every depth (log-files.md §3)."""
    if isinstance(value, dict):
        return {k[0].lower() + k[1:]: record_spelling(v) for k, v in value.items()}
    if isinstance(value, list):
        return [record_spelling(v) for v in value]
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return value


def whole_second(when: datetime) -> datetime:
    return when.replace(microsecond=0)


@dataclass
class Sent:
    """One call's outcome and what its record must repeat of it."""

    request_id: str
    user_agent: str
    before: datetime
    after: datetime
    output: dict | None = None
    error: tuple[str, str] | None = None


class Boto:
    """A boto3 client that remembers the User-Agent header of the last request it sent."""

    def __init__(self, client):
        self.client = client
        self.user_agent = None
        client.meta.events.register("before-send.cloudtrail.*", self._capture)

    def _capture(self, request, **_):
        agent = request.headers.get("User-Agent")
        self.user_agent = agent.decode() if isinstance(agent, bytes) else agent

    def send(self, operation: str, **params) -> Sent:
        before = whole_second(datetime.now(timezone.utc))
        try:
            answer = getattr(self.client, operation)(**params)
            output, error, meta = body(answer), None, answer["ResponseMetadata"]
        except ClientError as e:
            output, meta = None, e.response["ResponseMetadata"]
            error = (e.response["Error"]["Code"], e.response["Error"]["Message"])
        assert self.user_agent, "boto3 sent no User-Agent"
        return Sent(meta["RequestId"], self.user_agent, before, datetime.now(timezone.utc), output, error)


def record_of(client, sent: Sent, event_name: str) -> tuple[dict, dict]:
    """The record with the call's requestID, fetched again by its EventId (which finds only it)."""
    found = client.lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": event_name}], StartTime=sent.before
    )["Events"]
    ids = [e["EventId"] for e in found if json.loads(e["CloudTrailEvent"]).get("requestID") == sent.request_id]
    assert len(ids) == 1, f"records with requestID {sent.request_id}: {ids}"
    events = client.lookup_events(LookupAttributes=[{"AttributeKey": "EventId", "AttributeValue": ids[0]}])["Events"]
    assert len(events) == 1
    record = json.loads(events[0]["CloudTrailEvent"])
    assert record["eventID"] == ids[0]
    return events[0], record


def expected_record(sent: Sent, event_name: str, read_only: bool, request_parameters, response_elements=None,
                    region: str = REGION) -> dict:  # fmt: skip
    record = {
        "eventVersion": "1.08",
        "userIdentity": DEV_IDENTITY,
        "eventTime": ANY_TIME,
        "eventSource": "cloudtrail.amazonaws.com",
        "eventName": event_name,
        "awsRegion": region,
        "sourceIPAddress": "127.0.0.1",
        "userAgent": sent.user_agent,
    }
    if sent.error:
        record["errorCode"], record["errorMessage"] = sent.error
    record.update(
        requestParameters=request_parameters,
        responseElements=None if sent.error else response_elements,
        requestID=sent.request_id,
        eventID=ANY_UUID,
        readOnly=read_only,
        eventType="AwsApiCall",
        managementEvent=True,
        recipientAccountId=ACCOUNT,
        eventCategory="Management",
    )
    return record


class Matching:
    """Equal to any string the pattern matches in full."""

    def __init__(self, pattern: re.Pattern):
        self.pattern = pattern

    def __eq__(self, other):
        return isinstance(other, str) and bool(self.pattern.fullmatch(other))

    def __repr__(self):
        return f"<matching {self.pattern.pattern}>"


ANY_TIME = Matching(ISO_SECOND)
ANY_UUID = Matching(UUID)


def assert_time_within(record: dict, sent: Sent) -> None:
    at = datetime.strptime(record["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert sent.before <= at <= sent.after


def assert_event_columns(event: dict, record: dict, resources: list[dict]) -> None:
    """The Event members LookupEvents derives from the record (lookup-events.md)."""
    assert event["EventId"] == record["eventID"]
    assert event["EventName"] == record["eventName"]
    assert event["EventSource"] == "cloudtrail.amazonaws.com"
    assert event["ReadOnly"] == str(record["readOnly"]).lower()
    assert event["AccessKeyId"] == "test" and event["Username"] == "test"
    assert event["EventTime"] == datetime.strptime(record["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=event["EventTime"].tzinfo
    )
    assert event["Resources"] == resources


# ---------------------------------------------------------------------------------------------
# boto3


@pytest.fixture
def boto(ct):
    return Boto(ct)


def test_boto3_create_trail_success(boto):
    sent = boto.send("create_trail", Name="boto-rec", S3BucketName=BUCKET, IsMultiRegionTrail=True,
                     TagsList=[{"Key": "team", "Value": "audit"}])  # fmt: skip
    assert sent.error is None
    event, record = record_of(boto.client, sent, "CreateTrail")
    assert record == expected_record(
        sent,
        "CreateTrail",
        False,
        {"name": "boto-rec", "s3BucketName": BUCKET, "isMultiRegionTrail": True,
         "tagsList": [{"key": "team", "value": "audit"}]},  # fmt: skip
        record_spelling(sent.output),
    )
    assert record["responseElements"]["trailARN"] == f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/boto-rec"
    assert "Boto3/" in record["userAgent"]
    assert_time_within(record, sent)
    assert_event_columns(event, record, [{"ResourceType": "AWS::CloudTrail::Trail", "ResourceName": "boto-rec"}])


def test_boto3_create_trail_failure(boto):
    boto.client.create_trail(Name="boto-twice", S3BucketName=BUCKET)
    sent = boto.send("create_trail", Name="boto-twice", S3BucketName=BUCKET)
    assert sent.error == ("TrailAlreadyExistsException", f"Trail boto-twice already exists for customer: {ACCOUNT}")
    _, record = record_of(boto.client, sent, "CreateTrail")
    assert record == expected_record(sent, "CreateTrail", False, {"name": "boto-twice", "s3BucketName": BUCKET})
    assert_time_within(record, sent)


def test_boto3_read_only_call(boto):
    boto.client.create_trail(Name="boto-read", S3BucketName=BUCKET)
    sent = boto.send("get_trail_status", Name="boto-read")
    assert sent.error is None and sent.output["IsLogging"] is False
    event, record = record_of(boto.client, sent, "GetTrailStatus")
    assert record == expected_record(sent, "GetTrailStatus", True, {"name": "boto-read"})
    assert_event_columns(event, record, [{"ResourceType": "AWS::CloudTrail::Trail", "ResourceName": "boto-read"}])


def test_boto3_call_without_members(boto):
    sent = boto.send("list_trails")
    _, record = record_of(boto.client, sent, "ListTrails")
    assert record == expected_record(sent, "ListTrails", True, None)


def test_boto3_mutating_call_without_output(boto):
    boto.client.create_trail(Name="boto-start", S3BucketName=BUCKET)
    sent = boto.send("start_logging", Name="boto-start")
    assert sent.error is None
    _, record = record_of(boto.client, sent, "StartLogging")
    assert record == expected_record(sent, "StartLogging", False, {"name": "boto-start"})


def test_boto3_lookup_events_parameters(boto):
    start = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    sent = boto.send("lookup_events", StartTime=start, MaxResults=7,
                     LookupAttributes=[{"AttributeKey": "ReadOnly", "AttributeValue": "false"}])  # fmt: skip
    _, record = record_of(boto.client, sent, "LookupEvents")
    assert record == expected_record(
        sent,
        "LookupEvents",
        True,
        {"startTime": "2024-01-02T03:04:05.000Z", "maxResults": 7,
         "lookupAttributes": [{"attributeKey": "ReadOnly", "attributeValue": "false"}]},  # fmt: skip
    )


def test_boto3_service_error_in_other_region(server, ct):
    eu = Boto(server.client(OTHER_REGION))
    sent = eu.send("get_trail", Name="nowhere")
    assert sent.error[0] == "TrailNotFoundException"
    _, record = record_of(eu.client, sent, "GetTrail")
    assert record == expected_record(sent, "GetTrail", True, {"name": "nowhere"}, region=OTHER_REGION)
    # event history is per region
    here = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventId", "AttributeValue": record["eventID"]}])
    assert here["Events"] == []


def test_boto3_auth_failures_are_not_recorded(server, ct):
    for key, secret, code in (("test", "wrong", "InvalidSignatureException"),
                              ("AKIANOBODY", "x", "UnrecognizedClientException")):  # fmt: skip
        with pytest.raises(ClientError) as info:
            server.client(key=key, secret=secret).get_trail(Name="boto-auth-probe")
        assert info.value.response["Error"]["Code"] == code
    probe = [{"AttributeKey": "ResourceName", "AttributeValue": "boto-auth-probe"}]
    assert ct.lookup_events(LookupAttributes=probe)["Events"] == []
    with pytest.raises(ClientError):
        ct.get_trail(Name="boto-auth-probe")
    assert len(ct.lookup_events(LookupAttributes=probe)["Events"]) == 1


# ---------------------------------------------------------------------------------------------
# AWS CLI v1: `--debug` shows the request as sent and the response headers


SENT_USER_AGENT = re.compile(r"Sending http request: <AWSPreparedRequest .*'User-Agent': b?'([^']+)'")
RESPONSE_REQUEST_ID = re.compile(r"Response headers: \{.*'x-amzn-requestid': '([^']+)'")
CLI_ERROR_LINE = re.compile(r"An error occurred \((\w+)\) when calling the \w+ operation: (.*)")


def cli_send(cli, *args: str, region: str | None = None) -> Sent:
    before = whole_second(datetime.now(timezone.utc))
    result = cli(*args, "--debug", region=region)
    after = datetime.now(timezone.utc)
    agents = SENT_USER_AGENT.findall(result.err)
    # an error response is parsed (and logged) twice
    request_ids = sorted(set(RESPONSE_REQUEST_ID.findall(result.err)))
    assert len(agents) == 1 and len(request_ids) == 1, result.err[-3000:]
    error = None
    if result.rc != 0:
        line = next(ln for ln in result.err.splitlines() if ln.startswith("An error occurred"))
        error = CLI_ERROR_LINE.fullmatch(line).groups()
    return Sent(request_ids[0], agents[0], before, after, result.out, tuple(error) if error else None)


def test_cli_create_trail_success(cli, ct):
    sent = cli_send(
        cli, "create-trail", "--name", "cli-rec", "--s3-bucket-name", BUCKET, "--enable-log-file-validation"
    )
    assert sent.error is None
    event, record = record_of(ct, sent, "CreateTrail")
    assert record == expected_record(
        sent,
        "CreateTrail",
        False,
        {"name": "cli-rec", "s3BucketName": BUCKET, "enableLogFileValidation": True},
        record_spelling(sent.output),
    )
    assert record["userAgent"].startswith("aws-cli/1.")
    assert_time_within(record, sent)
    assert_event_columns(event, record, [{"ResourceType": "AWS::CloudTrail::Trail", "ResourceName": "cli-rec"}])


def test_cli_failures(server, cli, ct):
    sent = cli_send(cli, "get-trail", "--name", "cli-missing")
    assert sent.error == ("TrailNotFoundException", get_trail_unknown_message("cli-missing"))
    _, record = record_of(ct, sent, "GetTrail")
    assert record == expected_record(sent, "GetTrail", True, {"name": "cli-missing"})
    assert "aws-cli/" in record["userAgent"]

    sent = cli_send(cli, "delete-trail", "--name", "cli-missing", region=OTHER_REGION)
    assert sent.error[0] == "TrailNotFoundException"
    _, record = record_of(server.client(OTHER_REGION), sent, "DeleteTrail")
    assert record == expected_record(sent, "DeleteTrail", False, {"name": "cli-missing"}, region=OTHER_REGION)


def test_cli_read_only_call(cli, ct):
    sent = cli_send(cli, "describe-trails", "--no-include-shadow-trails")
    assert sent.error is None
    _, record = record_of(ct, sent, "DescribeTrails")
    assert record == expected_record(sent, "DescribeTrails", True, {"includeShadowTrails": False})


def test_cli_auth_failure_is_not_recorded(cli, ct):
    result = cli("get-trail", "--name", "cli-auth-probe", secret="wrong")
    assert result.rc == 255 and "InvalidSignatureException" in result.err
    probe = [{"AttributeKey": "ResourceName", "AttributeValue": "cli-auth-probe"}]
    assert ct.lookup_events(LookupAttributes=probe)["Events"] == []
