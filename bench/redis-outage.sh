#!/usr/bin/env bash
# The gateway with the Caching plugin while its Redis is down, against the same gateway without a cache: req/s,
# errors and CPU per request, each proxy alone on CPU 0 under wrk (backend and wrk on CPU 1), as run.sh arranges them.
# Redis is started, the cached gateway connects to it and is warmed with Redis up, then Redis is killed for good.
#
# Usage: ./redis-outage.sh              (ROUNDS=3 DURATION=10 CONNS=32 WARMUP=20, ~3 min)
#   GATEWAY=path/to/Gateway to measure another build (e.g. an older commit's). Traffic only to 127.0.0.1.
# Needs: dotnet (SDK 10), wrk, redis-server, taskset, curl, python3.
set -euo pipefail
cd "$(dirname "$0")"

ROUNDS=${ROUNDS:-3}; DURATION=${DURATION:-10}; CONNS=${CONNS:-32}; WARMUP=${WARMUP:-20}
GATEWAY=${GATEWAY:-../Gateway/bin/Release/net10.0/Gateway}
OUT=${OUT:-results/redis-outage-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"

PIDS=()
cleanup() { local p; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
trap 'exit 130' INT TERM
start() { # name cpu cmd... -> LAST
  local name=$1 cpu=$2; shift 2
  taskset -c "$cpu" "$@" >>"$OUT/$name.log" 2>&1 &
  LAST=$!; PIDS+=("$LAST")
}
wait_http() { local i; for i in $(seq 200); do [ "$(curl -s -o /dev/null -w '%{http_code}' "$1" || true)" = 200 ] && return 0; sleep 0.1; done; echo "no 200 from $1" >&2; return 1; }
ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }

dotnet build backend -c Release -nologo -v q -clp:ErrorsOnly
if [ "$GATEWAY" = ../Gateway/bin/Release/net10.0/Gateway ]; then
  dotnet build ../Gateway.sln -c Release -nologo -v q -clp:ErrorsOnly
fi

start backend 1 backend/bin/Release/net10.0/Backend --urls http://127.0.0.1:9001
wait_http http://127.0.0.1:9001/
start redis 1 redis-server --port 9079 --bind 127.0.0.1 --save '' --appendonly no
REDIS=$LAST
gateway() { # name port pipeline [args...]
  local name=$1 port=$2 pipeline=$3; shift 3
  start "$name" 0 "$GATEWAY" --contentRoot "$PWD/gateway" --Kestrel:Endpoints:Proxy:Url="http://127.0.0.1:$port" \
    --Kestrel:Endpoints:Admin:Url="http://127.0.0.1:$(( port + 100 ))" --Gateway:PipelineFile="$PWD/gateway/$pipeline" \
    --Gateway:PluginsPath="$PWD/../plugins" "$@"
  wait_http "http://127.0.0.1:$port/"
}
gateway cached 9040 cache-hit-nolocal.json --ConnectionStrings:Redis=127.0.0.1:9079; CACHED=$LAST
gateway plain 9041 empty.json; PLAIN=$LAST
for port in 9040 9041; do taskset -c 1 wrk -t1 -c"$CONNS" -d"${WARMUP}s" "http://127.0.0.1:$port/" >/dev/null; done
kill "$REDIS"; wait "$REDIS" 2>/dev/null || true
curl -s -H "Authorization: Bearer bench-admin-key" http://127.0.0.1:9140/healthz; echo
taskset -c 1 wrk -t1 -c"$CONNS" -d5s http://127.0.0.1:9040/ >/dev/null   # the outage's first seconds, not measured

printf 'round\ttarget\trps\terrors\tp50_us\tp99_us\tcpu_us_per_req\n' | tee "$OUT/raw.tsv"
for round in $(seq "$ROUNDS"); do
  for target in cached plain; do
    [ "$target" = cached ] && { port=9040; pid=$CACHED; } || { port=9041; pid=$PLAIN; }
    t0=$(ticks "$pid")
    taskset -c 1 wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency -s report.lua "http://127.0.0.1:$port/" >"$OUT/wrk-$target-$round.txt"
    t1=$(ticks "$pid")
    python3 - "$round" "$target" "$t0" "$t1" "$(getconf CLK_TCK)" "$OUT/wrk-$target-$round.txt" <<'PY' | tee -a "$OUT/raw.tsv"
import sys, re
round_, target, t0, t1, hz, f = sys.argv[1:]
r = dict(kv.split("=") for kv in re.search(r"^RESULT (.*)$", open(f).read(), re.M).group(1).split())
req = int(r["requests"])
print(f"{round_}\t{target}\t{req / (int(r['duration_us']) / 1e6):.0f}\t{int(r['errors']) + int(r['status_errors'])}\t"
      f"{r['p50_us']}\t{r['p99_us']}\t{(int(t1) - int(t0)) / int(hz) * 1e6 / req:.1f}")
PY
  done
done
python3 - "$OUT/raw.tsv" <<'PY'
import sys, statistics
rows = [l.split("\t") for l in open(sys.argv[1]).read().splitlines()[1:]]
rps = {t: statistics.median(float(r[2]) for r in rows if r[1] == t) for t in ("cached", "plain")}
print(f"median req/s: cached with Redis down {rps['cached']:.0f}, without a cache {rps['plain']:.0f}, ratio {rps['cached'] / rps['plain']:.2f}")
PY
