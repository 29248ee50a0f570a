"""Fixtures that drive a real `opentrail serve` with boto3 and the AWS CLI v1.

The suite builds nothing: it expects `npm run build` to have produced dist/cli/main.js.
"""

from __future__ import annotations

import os

import pytest
from support import BUCKETS, OTHER_REGION, REGION, Server, run_aws, start_server, stop_server


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Server:
    srv = start_server(tmp_path_factory.mktemp("opentrail-data"))
    yield srv
    stop_server(srv.proc)


@pytest.fixture(autouse=True)
def fresh_state(request):
    """Every test that talks to the session server starts from an empty service."""
    if "server" not in request.fixturenames:
        yield
        return
    srv: Server = request.getfixturevalue("server")
    status, body = srv.post("/_opentrail/reset")
    assert status == 200, f"reset failed: {status} {body!r}"
    for bucket in BUCKETS:
        (srv.data_dir / "buckets" / bucket).mkdir(parents=True, exist_ok=True)
    yield


@pytest.fixture
def ct(server):
    """boto3 client in the default region with the development credential."""
    return server.client()


@pytest.fixture
def ct_other(server):
    """boto3 client in a second served region."""
    return server.client(OTHER_REGION)


@pytest.fixture(scope="session")
def aws_env(tmp_path_factory) -> dict[str, str]:
    """Environment for CLI subprocesses: only our credential, no file config of this machine."""
    home = tmp_path_factory.mktemp("aws-home")
    config_file = home / "config"
    creds_file = home / "credentials"
    config_file.write_text("")
    creds_file.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE=str(config_file),
        AWS_SHARED_CREDENTIALS_FILE=str(creds_file),
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


@pytest.fixture
def cli(server, aws_env):
    """`cli("get-trail", "--name", "x", region=...)` → (exit code, parsed JSON stdout or None, stderr)."""

    def call(*args: str, region: str | None = None, key: str | None = None, secret: str | None = None):
        env = dict(aws_env)
        if region:
            env["AWS_DEFAULT_REGION"] = region
        if key:
            env["AWS_ACCESS_KEY_ID"] = key
        if secret:
            env["AWS_SECRET_ACCESS_KEY"] = secret
        return run_aws(env, ["cloudtrail", *args, "--endpoint-url", server.url, "--output", "json"])

    return call
