#!/usr/bin/env bash
# Generates the TypeScript SDK from openapi/openapi.json with the pinned @hey-api/openapi-ts
# (client-fetch), into typescript/generated/ (git-ignored; never committed), then compiles it
# together with e2e.ts (tsc, strict) into typescript/dist/.
#
#   openapi/sdk/typescript/generate.sh [OPENAPI_DOCUMENT]   # default: openapi/openapi.json
#
# node_modules comes from `npm ci` (package-lock.json) and is reused while the lock file is
# unchanged.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
spec="$(realpath "${1:-$here/../../openapi.json}")"
cd "$here"

if [ ! -d node_modules ] || ! cmp -s package-lock.json node_modules/.orderflow-package-lock.json; then
  echo "typescript: npm ci (pinned @hey-api/openapi-ts, typescript)"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.orderflow-package-lock.json
fi

echo "typescript: generating $here/generated/orderflow from $spec"
rm -rf generated dist
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! NO_COLOR=1 ORDERFLOW_OPENAPI="$spec" node_modules/.bin/openapi-ts -f openapi-ts.config.mjs >"$log" 2>&1 \
    || [ ! -f generated/orderflow/sdk.gen.ts ]; then
  cat "$log" >&2
  echo "typescript: openapi-ts failed" >&2
  exit 1
fi

echo "typescript: compiling the SDK and e2e.ts (tsc --strict)"
node_modules/.bin/tsc -p tsconfig.json
echo "typescript: generated"
