# What the perf scripts share; sourced after BACKEND is set. Makes a scratch directory
# ($WORK) removed on exit, with every background job stopped.
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

database() { # a fresh database URL for this backend
  case "$BACKEND" in
    sqlite) echo "sqlite://$WORK/$1.db?mode=rwc" ;;
    postgres)
      psql -h 127.0.0.1 -U postgres -qAt -c "DROP DATABASE IF EXISTS perf_$1" -c "CREATE DATABASE perf_$1" >/dev/null
      echo "postgres://postgres@127.0.0.1:5432/perf_$1" ;;
  esac
}

requests_per_second() { awk '$1 == "requests" {sub(/\/s/, "", $3); print $3}' "$1"; }
