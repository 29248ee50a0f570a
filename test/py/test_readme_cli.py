"""The README's AWS CLI walkthrough, run as a reader types it: the development key in the environment,
`aws --endpoint-url <url> cloudtrail ...`, no --output flag (the CLI's default output is JSON).
Only the port differs from the README's 4566."""

from __future__ import annotations

import shlex
import shutil
import sys

from support import ACCOUNT, expect_cli_error, run_aws

README_ENV = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}


def readme_aws(aws_env, url, line):
    """`line` is a README command with `aws --endpoint-url http://127.0.0.1:4566` in front."""
    words = shlex.split(line)
    assert words[:3] == ["aws", "--endpoint-url", "http://127.0.0.1:4566"], line
    env = {**aws_env, **README_ENV, "AWS_PAGER": ""}  # AWS_PAGER: a v2 `aws` on PATH would page
    aws = shutil.which("aws")
    prefix = [aws] if aws else [sys.executable, "-m", "awscli"]
    return run_aws(env, ["--endpoint-url", url, *words[3:]], prefix=prefix)


def test_readme_walkthrough(server, aws_env):
    def aws(line):
        result = readme_aws(aws_env, server.url, line)
        assert result.rc == 0, f"{line}\n{result.err}"
        return result.out

    base = "aws --endpoint-url http://127.0.0.1:4566 cloudtrail"
    created = aws(f"{base} create-trail --name my-trail --s3-bucket-name my-bucket --is-multi-region-trail")
    arn = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/my-trail"
    assert created["TrailARN"] == arn and created["IsMultiRegionTrail"] is True

    assert aws(f"{base} start-logging --name my-trail") is None
    assert aws(f"{base} get-trail-status --name my-trail")["IsLogging"] is True

    selectors = aws(
        f"{base} put-event-selectors --trail-name my-trail "
        """--event-selectors '[{"ReadWriteType":"WriteOnly","IncludeManagementEvents":true}]'"""
    )
    assert selectors["EventSelectors"][0]["ReadWriteType"] == "WriteOnly"

    [shadow] = aws(f"{base} describe-trails --region eu-west-1")["trailList"]
    assert (shadow["TrailARN"], shadow["HomeRegion"]) == (arn, "us-east-1")

    missing = readme_aws(aws_env, server.url, f"{base} get-trail --name no-such-trail")
    expect_cli_error(
        missing,
        "TrailNotFoundException",
        "GetTrail",
        f"Unknown trail: no-such-trail for the user: {ACCOUNT}",
    )
