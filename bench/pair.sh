#!/usr/bin/env bash
# Paired comparison of two proxies run side by side on CPU 0 under equal load (backend and two wrk on CPU 1).
# Sequential runs of run.sh swing ±15 % between rounds on this machine; running both at once cancels most of that
# drift, so small per-request costs (one pipeline stage) become visible as the ratio of CPU µs per request.
# The proxy whose wrk starts first gets more of the load and batches more, which lowers its CPU per request: the
# same gateway against itself measured 1.02–1.08 with a fixed order. So the order alternates each round (take the
# median of an even number of rounds); against itself the ratio was then 0.95–1.02, median 0.99 (6 × 10 s), and on a
# noisier day 0.952 (20 × 5 s): read a pair's median as good to a few percent, and repeat it.
#
# Usage: ./pair.sh A B        A and B: "yarp" (the plain YARP host) or a pipeline file in gateway/ (e.g. empty.json)
#   env: WARMUP=60 DURATION=10 ROUNDS=6 CONNS=16     Traffic only to 127.0.0.1; every process is stopped on exit.
#        HEADER="x-api-key: ..." adds a request header to both (policies.json needs its API key).
#        URL_PATH=/big requests the backend's 16 KiB body instead of ~100 B.
#        REDIS=127.0.0.1:6379 gives both gateways that Redis as their cache (cache-hit.json with Redis).
set -euo pipefail
cd "$(dirname "$0")"
WARMUP=${WARMUP:-60}; DURATION=${DURATION:-10}; ROUNDS=${ROUNDS:-6}; CONNS=${CONNS:-16}; URL_PATH=${URL_PATH:-/}
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
wrk_to() { # port seconds output
  taskset -c 1 wrk -t1 -c"$CONNS" -d"$2s" "${WRK_HEADER[@]}" "http://127.0.0.1:$1$URL_PATH" >"$3"
}
load() { # seconds round -> wrk against both at once, B's started first in odd rounds; outputs in /tmp/pair-{a,b}.txt
  local w
  if (( $2 % 2 )); then
    wrk_to 9031 "$1" /tmp/pair-b.txt & w=$!
    wrk_to 9030 "$1" /tmp/pair-a.txt
  else
    wrk_to 9030 "$1" /tmp/pair-a.txt & w=$!
    wrk_to 9031 "$1" /tmp/pair-b.txt
  fi
  wait "$w"
}

taskset -c 1 backend/bin/Release/net10.0/Backend --urls http://127.0.0.1:9001 >/dev/null 2>&1 & PIDS+=("$!")
start_sut "$1" 9030; A=$LAST
start_sut "$2" 9031; B=$LAST
for port in 9001 9030 9031; do
  for i in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
done
# Tiered JIT compiles for ~45 s of full load on one core (dotnet-counters: 1–2 s of JIT per 10 s until then, ~1 ms
# after). Two proxies sharing the core take twice as long, and a perf profile of a pair after a shared 60 s warm-up
# still spent 8 % (empty pipeline) and 20 % (tag.js: Jint is a lot of code) of its samples in the JIT, which read as
# a cost of the pipeline. So each proxy first warms up alone, with the core to itself.
wrk_to 9030 "$WARMUP" /dev/null
wrk_to 9031 "$WARMUP" /dev/null
load 10 0
HZ=$(getconf CLK_TCK)
: >/tmp/pair-ratios.txt
for r in $(seq "$ROUNDS"); do
  a0=$(ticks "$A"); b0=$(ticks "$B")
  load "$DURATION" "$r"
  a1=$(ticks "$A"); b1=$(ticks "$B")
  python3 - "$1" "$2" "$r" "$HZ" "$a0" "$a1" "$b0" "$b1" <<'PY'
import sys, re
a, b, r, hz, a0, a1, b0, b1 = sys.argv[1:]
def reqs(f): return int(re.search(r"(\d+) requests in", open(f).read()).group(1))
ra, rb = reqs("/tmp/pair-a.txt"), reqs("/tmp/pair-b.txt")
ua = (int(a1) - int(a0)) / int(hz) * 1e6 / ra; ub = (int(b1) - int(b0)) / int(hz) * 1e6 / rb
print(f"round {r}: {a} {ua:.1f} µs/req ({ra} req), {b} {ub:.1f} µs/req ({rb} req), {b} ÷ {a} = {ub / ua:.3f}")
open("/tmp/pair-ratios.txt", "a").write(f"{ub / ua}\n")
PY
done
python3 -c 'import statistics; r = [float(x) for x in open("/tmp/pair-ratios.txt")]; print(f"median {statistics.median(r):.3f} (min {min(r):.3f}, max {max(r):.3f}, {len(r)} rounds)")'

