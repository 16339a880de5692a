#!/usr/bin/env bash
# The admin console: rebuild the bundle from a clean install and fail when it differs from the
# committed one (the binary embeds app/web/dist), then run the browser tests in Chromium
# against the given server binary.
#   usage: .ci/console.sh build | .ci/console.sh e2e <orderflow binary>
set -euo pipefail
cd "$(dirname "$0")/../app/web"

case "${1:-}" in
  build)
    npm ci --no-audit --no-fund
    npm run build
    if ! git diff --quiet -- dist ||
      [ -n "$(git ls-files --others --exclude-standard -- dist)" ]; then
      echo "The committed console bundle is stale: run 'npm run build' in app/web and commit." >&2
      git status --short -- dist >&2
      git diff --stat -- dist >&2
      exit 1
    fi
    echo "app/web/dist matches a fresh build"
    ;;
  e2e)
    bin="${2:?usage: console.sh e2e <orderflow binary>}"
    if ! command -v chromium >/dev/null; then
      echo "Installing Debian's chromium for the browser tests"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    fi
    chromium --version
    ORDERFLOW_BIN="$bin" npm run e2e
    ;;
  *)
    echo "usage: $0 build | e2e <orderflow binary>" >&2
    exit 2
    ;;
esac
