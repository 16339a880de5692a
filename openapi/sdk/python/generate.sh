#!/usr/bin/env bash
# Generates the Python SDK (package `orderflow_client`) from openapi/openapi.json with the
# pinned openapi-python-client, into python/generated/ (git-ignored; never committed).
#
#   openapi/sdk/python/generate.sh [OPENAPI_DOCUMENT]   # default: openapi/openapi.json
#
# The generator and the client's run-time dependencies live in python/.venv, created on the
# first run and reused while requirements.txt is unchanged.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
spec="$(realpath "${1:-$here/../../openapi.json}")"
venv="$here/.venv"
out="$here/generated"

if [ ! -x "$venv/bin/python" ] || ! cmp -s "$here/requirements.txt" "$venv/.requirements.txt"; then
  echo "python: installing the pinned generator into $venv"
  python3 -m venv --clear "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$here/requirements.txt"
  cp "$here/requirements.txt" "$venv/.requirements.txt"
fi

echo "python: generating $out/orderflow_client from $spec"
rm -rf "$out"
mkdir -p "$out"
log="$out/generate.log"
# The venv's bin/ goes first on PATH: the generator formats its output with the pinned ruff.
if ! PATH="$venv/bin:$PATH" openapi-python-client generate --path "$spec" \
    --config "$here/config.yml" --meta none --output-path "$out/orderflow_client" >"$log" 2>&1; then
  cat "$log" >&2
  echo "python: openapi-python-client failed" >&2
  exit 1
fi
# Every warning must be a known one: the application/yaml body of the draft and check
# endpoints (four), which the generator skips (the JSON body is generated). Anything else
# fails the build.
warnings=$(grep -c '^WARNING' "$log" || true)
known=$(grep -c '^Unsupported content type application/yaml$' "$log" || true)
if [ "$warnings" != "$known" ] || grep -q 'ruff is not in PATH' "$log"; then
  cat "$log" >&2
  echo "python: unexpected generator warnings (see above)" >&2
  exit 1
fi
[ -f "$out/orderflow_client/__init__.py" ] || { cat "$log" >&2; echo "python: no package generated" >&2; exit 1; }
# The hand-written part: problem+json as exceptions (ok(), ProblemError).
cp "$here/problems.py" "$out/orderflow_client/problems.py"
echo "python: generated ($warnings known warning(s): application/yaml request bodies are skipped)"
