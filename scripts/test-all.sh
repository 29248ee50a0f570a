#!/usr/bin/env bash
# The one test command (README, `npm test`, CI): build, type check, lint, the layer rules, the vitest
# suites and the pytest suite (boto3 and the AWS CLI against a real server). Ends with
# `tests: N passed, N failed, N skipped`.
set -uo pipefail
cd "$(dirname "$0")/.."
# the AWS SDK's notice that its 2027 releases need Node 22, in every test process and server
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
results=.test-results
rm -rf "$results" && mkdir -p "$results"
status=0
passed=0
failed=0
skipped=0

step() {
  local name=$1
  shift
  echo "== $name"
  if "$@"; then
    passed=$((passed + 1))
  else
    echo "== $name FAILED"
    failed=$((failed + 1))
    status=1
  fi
}

step build npm run --silent build
step typecheck npm run --silent typecheck
step lint npm run --silent lint
step layers npm run --silent lint:layers
# boto3, the AWS CLI, pytest and moto_server, pinned in requirements-dev.txt; installed if missing
step python-packages bash scripts/python-deps.sh

echo "== vitest"
npx vitest run --reporter=default --reporter=json --outputFile="$results/vitest.json" || status=1
if [ -f "$results/vitest.json" ]; then
  read -r vp vf vs < <(node -e '
    const r = require(process.argv[1]);
    console.log(r.numPassedTests, r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0), r.numPendingTests + r.numTodoTests);
  ' "$PWD/$results/vitest.json")
  passed=$((passed + vp))
  failed=$((failed + vf))
  skipped=$((skipped + vs))
else
  echo "vitest wrote no results"
  failed=$((failed + 1))
fi

echo "== pytest"
python3 -m pytest -q -p no:cacheprovider --junitxml="$results/pytest.xml" test/py
rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 5 ]; then status=1; fi
if [ -f "$results/pytest.xml" ]; then
  read -r pp pf ps < <(python3 - "$results/pytest.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
t = sum(int(s.get("tests", 0)) for s in suites)
f = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
sk = sum(int(s.get("skipped", 0)) for s in suites)
print(t - f - sk, f, sk)
PY
)
  passed=$((passed + pp))
  failed=$((failed + pf))
  skipped=$((skipped + ps))
elif [ "$rc" -ne 5 ]; then
  failed=$((failed + 1))
fi

if [ "$failed" -gt 0 ]; then status=1; fi
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit "$status"
