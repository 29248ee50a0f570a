#!/usr/bin/env bash
# `npm start`: builds only when a source is newer than the last build, then becomes the server
# (exec), so a signal sent to npm reaches it.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=dist/.build-stamp
if [ ! -f "$stamp" ] || [ ! -f dist/cli/main.js ] ||
  [ -n "$(find src package.json tsconfig.json tsconfig.build.json -newer "$stamp" -print -quit)" ]; then
  npm run --silent build
  touch "$stamp"
fi
exec node dist/cli/main.js serve "$@"
