#!/usr/bin/env bash
# Bytes the gateway allocates per request: the runtime's allocated-bytes counter (its Prometheus export on the admin
# listener) read before and after a load window, divided by the requests the backend counted from it in between.
# The gateway alone on CPU 0, backend and wrk on CPU 1, as in pair.sh; traffic only to 127.0.0.1.
#
# Usage: ./allocs.sh [spec]   spec: a pipeline file in gateway/ (default empty.json), optionally with settings after a
#                             "|" as in pair.sh ("empty.json|--Gateway:InlineIo=false", "tag-js.json|env:NAME=value")
#   env: WARMUP=20 DURATION=10 ROUNDS=3 CONNS=16   HEADER="x-api-key: ..." (policies.json)
set -euo pipefail
cd "$(dirname "$0")"
SPEC=${1:-empty.json}; WARMUP=${WARMUP:-20}; DURATION=${DURATION:-10}; ROUNDS=${ROUNDS:-3}; CONNS=${CONNS:-16}
PORT=9040; ADMIN=9140
WRK_HEADER=(); if [ -n "${HEADER:-}" ]; then WRK_HEADER=(-H "$HEADER"); fi

dotnet build backend -c Release -nologo -v q -clp:ErrorsOnly
dotnet build ../Gateway -c Release -nologo -v q -clp:ErrorsOnly
for plugin in HeaderRewrite Auth AbTesting Balancing Caching; do
  dotnet build "../PluginSources/$plugin" -c Release -nologo -v q -clp:ErrorsOnly
done

PIDS=()
cleanup() { local p; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

file=${SPEC%%|*}; words=(); settings=(); environment=()
if [[ $SPEC == *"|"* ]]; then read -ra words <<<"${SPEC#*|}"; fi
for word in "${words[@]}"; do
  if [[ $word == env:* ]]; then environment+=("${word#env:}"); else settings+=("$word"); fi
done
taskset -c 1 backend/bin/Release/net10.0/Backend --urls http://127.0.0.1:9001 >/dev/null 2>&1 & PIDS+=("$!")
env "${environment[@]}" taskset -c 0 ../Gateway/bin/Release/net10.0/Gateway --contentRoot "$PWD/gateway" \
  --Kestrel:Endpoints:Proxy:Url="http://127.0.0.1:$PORT" --Kestrel:Endpoints:Admin:Url="http://127.0.0.1:$ADMIN" \
  --Gateway:PipelineFile="$PWD/gateway/$file" --Gateway:PluginsPath="$PWD/../plugins" --Gateway:ScriptsPath="$PWD/../scripts" \
  --Gateway:Metrics:Prometheus=true "${settings[@]}" >/dev/null 2>&1 & PIDS+=("$!")
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$ADMIN/healthz" >/dev/null && break; sleep 0.1; done

allocated() { taskset -c 1 curl -sf -H "Authorization: Bearer bench-admin-key" "http://127.0.0.1:$ADMIN/metrics" |
  awk '/^dotnet_gc_heap_total_allocated_bytes_total/ { print $2 }'; }
served() { taskset -c 1 curl -sf http://127.0.0.1:9001/counts | awk -v host="127.0.0.1:$PORT" '$1 == host { print $2 }'; }
wrk_for() { taskset -c 1 wrk -t1 -c"$CONNS" -d"$1s" "${WRK_HEADER[@]}" "http://127.0.0.1:$PORT/" >/dev/null; }

wrk_for "$WARMUP"
for round in $(seq "$ROUNDS"); do
  wrk_for $(( DURATION + 2 )) & load=$!
  sleep 1
  a0=$(allocated); n0=$(served)
  sleep "$DURATION"
  a1=$(allocated); n1=$(served)
  wait "$load"
  python3 -c "import sys; a0, a1, n0, n1 = map(float, sys.argv[1:]); print(f'round $round: {(a1 - a0) / (n1 - n0):,.0f} B/req over {n1 - n0:,.0f} requests')" "$a0" "$a1" "$n0" "$n1"
done
