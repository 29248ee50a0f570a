"""Shared pieces of the pytest suite: the server process, the CLI runner and error assertions."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

REPO = Path(__file__).resolve().parents[2]
MAIN_JS = REPO / "dist" / "cli" / "main.js"

ACCOUNT = "123456789012"
REGION = "us-east-1"
OTHER_REGION = "eu-west-1"
BUCKET = "my-bucket"
OTHER_BUCKET = "other-bucket"
BUCKETS = (BUCKET, OTHER_BUCKET)
STARTUP_SECONDS = 30

# Client-side retries would hide a 5xx behind several attempts and slow the suite down.
BOTO_CONFIG = Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30)


@dataclass
class Server:
    url: str
    data_dir: Path
    proc: subprocess.Popen
    stderr_lines: list[str] = field(default_factory=list)

    def client(self, region: str = REGION, key: str = "test", secret: str = "test"):
        return boto3.client(
            "cloudtrail",
            region_name=region,
            endpoint_url=self.url,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            config=BOTO_CONFIG,
        )

    def post(self, path: str) -> tuple[int, bytes]:
        # JSON, as the development reset requires (a page cannot send it without a CORS preflight)
        req = urllib.request.Request(
            self.url + path, data=b"{}", method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as res:
                return res.status, res.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()


def start_server(data_dir: Path, *extra: str) -> Server:
    """Starts `opentrail serve --port 0` and waits for the URL line on stderr."""
    if not MAIN_JS.exists():
        pytest.exit(
            f"{MAIN_JS.relative_to(REPO)} is missing: run `npm run build` before the pytest suite",
            returncode=2,
        )
    for bucket in BUCKETS:
        (data_dir / "buckets" / bucket).mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        ["node", str(MAIN_JS), "serve", "--port", "0", "--data-dir", str(data_dir), *extra],
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stderr_lines: list[str] = []
    url_holder: list[str] = []
    url_seen = threading.Event()

    # The start line is on stderr, the log on stdout; both pipes must keep being read, or a chatty
    # server would block on a full buffer.
    def read_stderr() -> None:
        for line in proc.stderr:
            stderr_lines.append(line)
            if not url_holder and line.startswith("opentrail listening on "):
                url_holder.append(line.split(" on ", 1)[1].strip())
                url_seen.set()
        url_seen.set()  # stderr closed: the process is gone

    def drain_stdout() -> None:
        for line in proc.stdout:
            stderr_lines.append(line)

    threading.Thread(target=read_stderr, daemon=True).start()
    threading.Thread(target=drain_stdout, daemon=True).start()
    url_seen.wait(STARTUP_SECONDS)
    if not url_holder:
        stop_server(proc)
        pytest.exit(
            "opentrail did not print its URL; stderr:\n" + "".join(stderr_lines[-40:]),
            returncode=3,
        )
    return Server(url=url_holder[0], data_dir=data_dir, proc=proc, stderr_lines=stderr_lines)


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@dataclass
class CliResult:
    rc: int
    out: object
    err: str

    def __iter__(self):
        return iter((self.rc, self.out, self.err))


def run_aws(env: dict[str, str], args: list[str], prefix: list[str] | None = None) -> CliResult:
    """Runs the CLI (by default this Python's awscli module) and parses its JSON output, if any."""
    proc = subprocess.run(
        [*(prefix or [sys.executable, "-m", "awscli"]), *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    out = json.loads(proc.stdout) if proc.stdout.strip() else None
    return CliResult(proc.returncode, out, proc.stderr)


def signed_call(server: Server, target: str, payload: object, region: str = REGION):
    """Sends a SigV4-signed AWS JSON 1.1 request, bypassing botocore's parsing, to see the raw wire."""
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    req = AWSRequest(
        method="POST",
        url=server.url + "/",
        data=data,
        headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target},
    )
    SigV4Auth(Credentials("test", "test"), "cloudtrail", region).add_auth(req)
    http = urllib.request.Request(server.url + "/", data=data, headers=dict(req.headers.items()), method="POST")
    try:
        with urllib.request.urlopen(http, timeout=10) as res:
            return res.status, {k.lower(): v for k, v in res.headers.items()}, res.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def trail_arn(name: str, region: str = REGION, account: str = ACCOUNT) -> str:
    return f"arn:aws:cloudtrail:{region}:{account}:trail/{name}"


def unknown_trail_message(name_or_arn: str, region: str = REGION, account: str = ACCOUNT) -> str:
    # AWS renders a plain name as an ARN of the *current* region in this message.
    arn = name_or_arn if name_or_arn.startswith("arn:") else trail_arn(name_or_arn, region, account)
    return f"Unknown trail: {arn} for the user: {account}"


def get_trail_unknown_message(name_or_arn: str, account: str = ACCOUNT) -> str:
    # GetTrail alone repeats a plain name as given.
    return f"Unknown trail: {name_or_arn} for the user: {account}"


def expect_error(call, code: str, message: str | re.Pattern | None = None) -> ClientError:
    """Runs a boto3 call that must fail with a modeled 400 error shaped like AWS's."""
    with pytest.raises(ClientError) as info:
        call()
    err = info.value.response
    assert err["Error"]["Code"] == code, err
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400, err
    assert err["ResponseMetadata"].get("RequestId"), err
    # The JS SDK reads this header before the body, so it must never disagree with `__type`.
    header = err["ResponseMetadata"]["HTTPHeaders"].get("x-amzn-errortype")
    assert header in (None, code), err
    if isinstance(message, re.Pattern):
        assert message.fullmatch(err["Error"]["Message"]), err["Error"]["Message"]
    elif message is not None:
        assert err["Error"]["Message"] == message
    else:
        assert err["Error"]["Message"], err
    return info.value


# AWS CLI v1 ends every failed command, service errors included, with 255; 254 is v2's code for
# "the service returned an error" (checked against awscli 1.45's clidriver and the v1 user guide).
CLI_SERVICE_ERROR_RC = 255


def expect_cli_error(result: CliResult, code: str, operation: str, message: str | None = None) -> None:
    assert result.rc == CLI_SERVICE_ERROR_RC, result
    assert result.out is None, result
    prefix = f"An error occurred ({code}) when calling the {operation} operation: "
    line = next((ln for ln in result.err.splitlines() if ln.startswith("An error occurred")), "")
    assert line.startswith(prefix), result.err
    if message is not None:
        assert line == prefix + message, result.err


# Members of the Trail object per operations.md (presence "always").
TRAIL_ALWAYS = {
    "Name",
    "S3BucketName",
    "IncludeGlobalServiceEvents",
    "IsMultiRegionTrail",
    "HomeRegion",
    "TrailARN",
    "LogFileValidationEnabled",
    "HasCustomEventSelectors",
    "HasInsightSelectors",
    "IsOrganizationTrail",
}
# Create/Update responses: the same minus the three members AWS leaves out there.
CREATE_ALWAYS = TRAIL_ALWAYS - {"HomeRegion", "HasCustomEventSelectors", "HasInsightSelectors"}
STATUS_DEPRECATED = {
    "LatestDeliveryAttemptTime",
    "LatestNotificationAttemptTime",
    "LatestNotificationAttemptSucceeded",
    "LatestDeliveryAttemptSucceeded",
    "TimeLoggingStarted",
    "TimeLoggingStopped",
}
ISO_SECOND = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def body(response: dict) -> dict:
    """A boto3 response without its ResponseMetadata."""
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}
