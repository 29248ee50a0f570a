#!/usr/bin/env bash
# Makes sure the Python packages of requirements-dev.txt can be imported (and moto_server run);
# installs them with pip only when one is missing. Exits 1 with what to do when that fails.
set -uo pipefail
cd "$(dirname "$0")/.."
have() {
  python3 -c "import boto3, botocore, awscli, pytest, moto.server" >/dev/null 2>&1 && command -v moto_server >/dev/null 2>&1
}
if ! command -v python3 >/dev/null 2>&1; then
  echo "opentrail: python3 is not on PATH; the tests need Python 3 with the packages of requirements-dev.txt" >&2
  exit 1
fi
have && exit 0
echo "== installing the Python test packages: python3 -m pip install -r requirements-dev.txt"
if ! python3 -m pip install --quiet -r requirements-dev.txt; then
  echo "opentrail: could not install the Python test packages (boto3, awscli, pytest, moto[server]); install them with 'python3 -m pip install -r requirements-dev.txt' and run the tests again" >&2
  exit 1
fi
if ! have; then
  echo "opentrail: the Python test packages were installed but cannot be used (is pip's bin directory, where moto_server lives, on PATH?)" >&2
  exit 1
fi
