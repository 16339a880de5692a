#!/usr/bin/env bash
# Impact preview over 10,000 orders: seeds a fresh database with ORDERS checkouts of the
# demo merchant haidilao through the API (the load generator; 70% Alipay, 30% WeChat Pay),
# saves a draft of alipay-discount (pays 70% instead of 80%), then times RUNS previews of
# the draft over the newest 10,000 orders that reached pricing, and one of a routing table
# given in the body. Prints each preview's wall time as curl saw it, what it evaluated, and
# the server's resident memory after each (VmRSS) and its peak (VmHWM) before and after.
# POOL sets the server's database pool (default 16).
#
#   cargo build --release -p app -p tests
#   tests/perf/impact.sh sqlite            # backend [runs]
#   tests/perf/impact.sh postgres 5        # needs PostgreSQL on 127.0.0.1:5432
set -euo pipefail
cd "$(dirname "$0")/../.."
BACKEND=${1:-sqlite}
RUNS=${2:-5}
ORDERS=${ORDERS:-10000}
BIN=${CARGO_TARGET_DIR:-target}/release
KEY=loadgen-admin-key-0123456789
URL=http://127.0.0.1:18081
source tests/perf/common.sh

ORDERFLOW_ADDR=127.0.0.1:18081 DATABASE_URL="$(database impact)" ORDERFLOW_ADMIN_KEY=$KEY \
  ORDERFLOW_RATE_LIMIT=0 ORDERFLOW_LOG=warn ORDERFLOW_SQLITE_SYNC=normal ORDERFLOW_DB_POOL=${POOL:-16} "$BIN/orderflow" \
  >"$WORK/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -fs $URL/readyz >/dev/null && break; sleep 0.1; done

alipay=$(( ORDERS * 7 / 10 ))
echo "== seeding $ORDERS checkouts ($BACKEND): $alipay alipay, $(( ORDERS - alipay )) wechat_pay"
ORDERFLOW_ADMIN_KEY=$KEY "$BIN/loadgen" --url $URL --concurrency 16 --orders "$alipay" \
  --method alipay --fail-on-errors | grep -E '^(checkouts|errors)'
ORDERFLOW_ADMIN_KEY=$KEY "$BIN/loadgen" --url $URL --concurrency 16 --orders $(( ORDERS - alipay )) \
  --method wechat_pay --fail-on-errors | grep -E '^(checkouts|errors)'

hwm() { awk '/VmHWM/ {print $2 " kB"}' /proc/"$server"/status; }
rss() { awk '/VmRSS/ {print $2 " kB"}' /proc/"$server"/status; }
echo "server peak RSS after seeding: $(hwm)"

curl -fs -X PUT $URL/v1/merchants/haidilao/metadata/discount-function/alipay-discount/draft \
  -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
  -d '{"description":"Alipay pays 70%","script":"#{ amount_minor: percent_of(order.amount_minor, 70), label: \"Alipay: 30% off\" }","tests":[]}' >/dev/null

preview() { # path body: one timed preview
  curl -fs -o "$WORK/preview.json" -w '%{time_total}' -X POST "$URL$1" \
    -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d "$2"
}
summary() {
  python3 -c 'import json,sys; b=json.load(open(sys.argv[1])); c=b["by_currency"][0] if b["by_currency"] else {}; print("evaluated", b["orders"]["evaluated"], "changed", b["orders"]["changed"], "now_failing", b["orders"]["now_failing"], "discount", c.get("discount_before_minor"), "->", c.get("discount_after_minor"))' "$WORK/preview.json"
}

for run in $(seq 1 "$RUNS"); do
  t=$(preview /v1/merchants/haidilao/metadata/discount-function/alipay-discount/impact '{"sample":{"limit":10000}}')
  echo "discount-function draft, run $run: ${t}s; $(summary); server RSS $(rss)"
done
t=$(preview /v1/merchants/haidilao/metadata/routing-table/default/impact \
  '{"sample":{"limit":10000},"document":{"rules":[{"when":{"method":"wechat_pay"},"function":"alipay-discount"}],"default":{"action":"cancel"}}}')
echo "routing-table in the body: ${t}s; $(summary)"
echo "server peak RSS after the previews: $(hwm)"
kill "$server"; wait "$server" 2>/dev/null || true
