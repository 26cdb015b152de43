#!/usr/bin/env bash
# Paired comparison of two proxies run side by side on CPU 0 under equal load (backend and two wrk on CPU 1).
# Sequential runs of run.sh swing ±15 % between rounds on this machine; running both at once cancels most of that
# drift, so small per-request costs (one pipeline stage) become visible as the ratio of CPU µs per request.
#
# Usage: ./pair.sh A B        A and B: "yarp" (the plain YARP host) or a pipeline file in gateway/ (e.g. empty.json)
#   env: WARMUP=90 DURATION=10 ROUNDS=4 CONNS=16     Traffic only to 127.0.0.1; every process is stopped on exit.
#        HEADER="x-api-key: ..." adds a request header to both (policies.json needs its API key).
#        URL_PATH=/big requests the backend's 16 KiB body instead of ~100 B.
#        REDIS=127.0.0.1:6379 gives both gateways that Redis as their cache (cache-hit.json with Redis).
set -euo pipefail
cd "$(dirname "$0")"
WARMUP=${WARMUP:-90}; DURATION=${DURATION:-10}; ROUNDS=${ROUNDS:-4}; CONNS=${CONNS:-16}; URL_PATH=${URL_PATH:-/}
WRK_HEADER=(); if [ -n "${HEADER:-}" ]; then WRK_HEADER=(-H "$HEADER"); fi
CACHE_ARGS=(); if [ -n "${REDIS:-}" ]; then CACHE_ARGS=(--ConnectionStrings:Redis="$REDIS"); fi

dotnet build backend -c Release -nologo -v q -clp:ErrorsOnly
dotnet build yarp -c Release -nologo -v q -clp:ErrorsOnly
dotnet build ../Gateway -c Release -nologo -v q -clp:ErrorsOnly
for plugin in HeaderRewrite Auth AbTesting Balancing Caching; do
  dotnet build "../PluginSources/$plugin" -c Release -nologo -v q -clp:ErrorsOnly
done

PIDS=()
cleanup() { local p; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

start_sut() { # spec port -> pid in LAST
  if [ "$1" = yarp ]; then
    taskset -c 0 yarp/bin/Release/net10.0/ProxyHost --urls "http://127.0.0.1:$2" >/dev/null 2>&1 &
  else
    taskset -c 0 ../Gateway/bin/Release/net10.0/Gateway --contentRoot "$PWD/gateway" \
      --Kestrel:Endpoints:Proxy:Url="http://127.0.0.1:$2" --Kestrel:Endpoints:Admin:Url="http://127.0.0.1:$(( $2 + 100 ))" \
      --Gateway:PipelineFile="$PWD/gateway/$1" --Gateway:PluginsPath="$PWD/../plugins" \
      --Gateway:ScriptsPath="$PWD/../scripts" "${CACHE_ARGS[@]}" >/dev/null 2>&1 &
  fi
  LAST=$!; PIDS+=("$LAST")
}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
load() { # seconds -> wrk against both at once; outputs in /tmp/pair-a.txt, /tmp/pair-b.txt
  taskset -c 1 wrk -t1 -c"$CONNS" -d"$1s" "${WRK_HEADER[@]}" "http://127.0.0.1:9030$URL_PATH" >/tmp/pair-a.txt & local w=$!
  taskset -c 1 wrk -t1 -c"$CONNS" -d"$1s" "${WRK_HEADER[@]}" "http://127.0.0.1:9031$URL_PATH" >/tmp/pair-b.txt
  wait "$w"
}

taskset -c 1 backend/bin/Release/net10.0/Backend --urls http://127.0.0.1:9001 >/dev/null 2>&1 & PIDS+=("$!")
start_sut "$1" 9030; A=$LAST
start_sut "$2" 9031; B=$LAST
for port in 9001 9030 9031; do
  for i in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
done
load "$WARMUP"
HZ=$(getconf CLK_TCK)
for r in $(seq "$ROUNDS"); do
  a0=$(ticks "$A"); b0=$(ticks "$B")
  load "$DURATION"
  a1=$(ticks "$A"); b1=$(ticks "$B")
  python3 - "$1" "$2" "$r" "$HZ" "$a0" "$a1" "$b0" "$b1" <<'PY'
import sys, re
a, b, r, hz, a0, a1, b0, b1 = sys.argv[1:]
def reqs(f): return int(re.search(r"(\d+) requests in", open(f).read()).group(1))
ra, rb = reqs("/tmp/pair-a.txt"), reqs("/tmp/pair-b.txt")
ua = (int(a1) - int(a0)) / int(hz) * 1e6 / ra; ub = (int(b1) - int(b0)) / int(hz) * 1e6 / rb
print(f"round {r}: {a} {ua:.1f} µs/req ({ra} req), {b} {ub:.1f} µs/req ({rb} req), {b} ÷ {a} = {ub / ua:.3f}")
PY
done
