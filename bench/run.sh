#!/usr/bin/env bash
# Benchmark: direct Kestrel vs nginx / HAProxy / YARP / YARP+1 middleware / the gateway, on 2 cores.
# Gateway targets: gw-empty (empty pipeline), gw-hr (HeaderRewrite: one request and one response header), gw-policies
# (Auth + HeaderRewrite + AbTesting + Balancing, policies.json, requests carrying its API key), gw-cache (every request a
# hit of the Caching plugin, cache-hit.json; nginx-cache is nginx's proxy_cache doing the same), gw-before
# (empty pipeline, on the gateway build BEFORE names: another checkout's ../Gateway/bin/Release/net10.0/Gateway, for a
# before/after table in one run).
#
# CPU arrangement (2 cores):
#   CPU 0: the system under test alone (the proxy; for "kestrel@cpu0" a second backend instance)
#   CPU 1: the backend (Kestrel) and wrk (-t1) together
# For "direct" the backend runs on CPU 1 as always and CPU 0 sits idle, so every row uses the same
# backend on the same core; "kestrel@cpu0" shows what a bare Kestrel app does in the proxy's slot.
# Per-CPU busy% and the CPU time of the SUT and backend per request are recorded, so one can
# tell which side limited each run (a side at ~100% is the limit).
#
# Warm-up: every measurement is preceded by a ${WARMUP}s wrk run on the same URL. .NET processes
# on one saturated core need ~45-60 s before tiered JIT + dynamic PGO reach steady state, so for
# the .NET SUTs (yarp, yarp-mw, kestrel@cpu0) the first measurement after start is recorded as
# "<target>:cold" (GET / only), then wrk runs STEADY_WARMUP more seconds before the steady ones.
# The backend is warmed for BACKEND_WARMUP seconds once, at the start.
#
# Usage: ./run.sh                      (3 rounds, paths / and /big, ~20 min)
#   env: ROUNDS=3 WARMUP=3 DURATION=10 CONNS=32 PATHS="/ /big" STEADY_WARMUP=45 BACKEND_WARMUP=60
#        TARGETS="direct nginx haproxy yarp yarp-mw kestrel@cpu0" OUT=results/<stamp>
# Needs: dotnet (SDK 10), wrk, nginx, haproxy, taskset, curl, python3. Traffic only to 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")"

ROUNDS=${ROUNDS:-3}; WARMUP=${WARMUP:-3}; DURATION=${DURATION:-10}; CONNS=${CONNS:-32}
STEADY_WARMUP=${STEADY_WARMUP:-45}; BACKEND_WARMUP=${BACKEND_WARMUP:-60}
PATHS=${PATHS:-"/ /big"}
TARGETS=${TARGETS:-"direct nginx haproxy yarp yarp-mw kestrel@cpu0 gw-empty gw-hr"}
SUT_CPU=0; BACKEND_CPU=1; WRK_CPU=1
OUT=${OUT:-results/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT" /tmp/bench-nginx
RAW="$OUT/raw.tsv"

PIDS=()
stop() { # pid: TERM, then wait (bounded), then KILL
  local p=$1 i
  kill "$p" 2>/dev/null || return 0
  for i in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
}
cleanup() { local p; for p in "${PIDS[@]}"; do stop "$p"; done; PIDS=(); }
trap cleanup EXIT
trap 'exit 130' INT TERM

LAST=
start() { # name cpu cmd... -> sets LAST to the pid (taskset execs, so it is the server's pid)
  local name=$1 cpu=$2; shift 2
  taskset -c "$cpu" "$@" >>"$OUT/$name.log" 2>&1 &
  LAST=$!; PIDS+=("$LAST")
}
HDR=()  # request headers of the target being measured (run_target sets them)
wait_http() { # url: up to 20 s for a 200
  local i
  for i in $(seq 200); do
    [ "$(curl -s "${HDR[@]}" -o /dev/null -w '%{http_code}' "$1" || true)" = 200 ] && return 0
    sleep 0.1
  done
  echo "no 200 from $1" >&2; return 1
}
ticks() { # utime+stime (clock ticks) of the given pids and their direct children
  local p s=0 pids=("$@")
  for p in "$@"; do pids+=($(ps -o pid= --ppid "$p" || true)); done
  for p in "${pids[@]}"; do
    [ -r "/proc/$p/stat" ] || continue
    s=$(( s + $(sed 's/.*) //' "/proc/$p/stat" | awk '{print $12 + $13}') ))
  done
  echo "$s"
}
cpustat() { awk '/^cpu[01] /{printf "%s %d %d %d ", $1, $2+$3+$4+$7+$8, $5+$6, $9}' /proc/stat; }

echo "== building (Release)"
dotnet build backend -c Release -nologo -v q -clp:ErrorsOnly
dotnet build yarp -c Release -nologo -v q -clp:ErrorsOnly
dotnet build ../Gateway -c Release -nologo -v q -clp:ErrorsOnly
dotnet build ../PluginSources/HeaderRewrite -c Release -nologo -v q -clp:ErrorsOnly
GATEWAY=../Gateway/bin/Release/net10.0/Gateway
gateway() { # name cpu port pipeline-file
  start "$1" "$2" "$GATEWAY" --contentRoot "$PWD/gateway" --Kestrel:Endpoints:Proxy:Url="http://127.0.0.1:$3" \
    --Kestrel:Endpoints:Admin:Url="http://127.0.0.1:$(( $3 + 100 ))" --Gateway:PipelineFile="$PWD/gateway/$4" \
    --Gateway:PluginsPath="$PWD/../plugins"
}
BACKEND=backend/bin/Release/net10.0/Backend
YARP=yarp/bin/Release/net10.0/ProxyHost

{ echo "# $(date -Is) $(uname -r) $(nproc) cpus; $(dotnet --version); $(nginx -v 2>&1); $(haproxy -v | head -1)"
  echo "# ROUNDS=$ROUNDS WARMUP=$WARMUP DURATION=$DURATION CONNS=$CONNS STEADY_WARMUP=$STEADY_WARMUP BACKEND_WARMUP=$BACKEND_WARMUP sut_cpu=$SUT_CPU backend_cpu=$BACKEND_CPU wrk_cpu=$WRK_CPU"
  printf 'round\ttarget\tpath\trps\tp50_us\tp90_us\tp99_us\trequests\terrors\tcpu0_pct\tcpu1_pct\tsteal_pct\tsut_us_per_req\tbackend_us_per_req\n'
} >"$RAW"

echo "== backend on CPU $BACKEND_CPU (127.0.0.1:9001)"
start backend "$BACKEND_CPU" "$BACKEND" --urls http://127.0.0.1:9001
BACKEND_PID=$LAST
wait_http http://127.0.0.1:9001/
if [ "$BACKEND_WARMUP" -ge 6 ]; then
  taskset -c "$WRK_CPU" wrk -t1 -c"$CONNS" -d"$(( BACKEND_WARMUP * 5 / 6 ))s" http://127.0.0.1:9001/ >/dev/null
  taskset -c "$WRK_CPU" wrk -t1 -c"$CONNS" -d"$(( BACKEND_WARMUP / 6 ))s" http://127.0.0.1:9001/big >/dev/null
fi

HZ=$(getconf CLK_TCK)
measure() { # round target port path sut_pid   (target is recorded as given, e.g. yarp:cold)
  local round=$1 target=$2 port=$3 path=$4 sut=$5 url="http://127.0.0.1:$3$4"
  local check; check=$(curl -s "${HDR[@]}" -o /dev/null -w '%{http_code} %{size_download}' "$url")
  case "$path:$check" in "/:200 100"|"/big:200 16384") ;; *) echo "bad response from $url: $check" >&2; return 1;; esac
  taskset -c "$WRK_CPU" wrk -t1 -c"$CONNS" -d"${WARMUP}s" "${HDR[@]}" "$url" >/dev/null
  local c0 s0 b0 c1 s1 b1 f="$OUT/wrk-${target/:/-}-${path//\//_}-r$round.txt"
  c0=$(cpustat); s0=$(ticks "$sut"); b0=$(ticks "$BACKEND_PID")
  taskset -c "$WRK_CPU" wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency -s report.lua "${HDR[@]}" "$url" >"$f"
  c1=$(cpustat); s1=$(ticks "$sut"); b1=$(ticks "$BACKEND_PID")
  python3 - "$round" "$target" "$path" "$HZ" "$s0" "$s1" "$b0" "$b1" "$c0" "$c1" "$f" >>"$RAW" <<'PY'
import sys, re
round_, target, path, hz, s0, s1, b0, b1, c0, c1, f = sys.argv[1:]
hz = int(hz)
res = dict(kv.split("=") for kv in re.search(r"^RESULT (.*)$", open(f).read(), re.M).group(1).split())
req = int(res["requests"]); rps = req / (int(res["duration_us"]) / 1e6)
def cpus(s):
    t = s.split(); return {t[i]: tuple(map(int, t[i+1:i+4])) for i in range(0, len(t), 4)}
a, b = cpus(c0), cpus(c1)
def pct(c):
    busy, idle, steal = (b[c][k] - a[c][k] for k in range(3)); tot = busy + idle + steal
    return 100 * busy / tot, 100 * steal / tot
(p0, st0), (p1, st1) = pct("cpu0"), pct("cpu1")
us = lambda x0, x1: (int(x1) - int(x0)) / hz * 1e6 / req
print(f"{round_}\t{target}\t{path}\t{rps:.0f}\t{res['p50_us']}\t{res['p90_us']}\t{res['p99_us']}\t{req}\t"
      f"{int(res['errors']) + int(res['status_errors'])}\t{p0:.0f}\t{p1:.0f}\t{max(st0, st1):.1f}\t"
      f"{us(s0, s1):.1f}\t{us(b0, b1):.1f}")
PY
  tail -1 "$RAW"
}

run_target() { # round target
  local round=$1 target=$2 port pid path
  HDR=()
  case $target in
    direct)        port=9001; pid=$BACKEND_PID ;;
    nginx)         port=9002; start nginx "$SUT_CPU" nginx -p /tmp/bench-nginx/ -c "$PWD/nginx.conf"; pid=$LAST ;;
    haproxy)       port=9003; start haproxy "$SUT_CPU" haproxy -db -f haproxy.cfg; pid=$LAST ;;
    yarp)          port=9004; start yarp "$SUT_CPU" env PROXY_MIDDLEWARE=0 "$YARP" --urls http://127.0.0.1:9004; pid=$LAST ;;
    yarp-mw)       port=9005; start yarp-mw "$SUT_CPU" env PROXY_MIDDLEWARE=1 "$YARP" --urls http://127.0.0.1:9005; pid=$LAST ;;
    kestrel@cpu0)  port=9011; start kestrel-cpu0 "$SUT_CPU" "$BACKEND" --urls http://127.0.0.1:9011; pid=$LAST ;;
    gw-empty)      port=9006; gateway gw-empty "$SUT_CPU" 9006 empty.json; pid=$LAST ;;
    gw-hr)         port=9007; gateway gw-hr "$SUT_CPU" 9007 header-rewrite.json; pid=$LAST ;;
    gw-policies)   port=9012; HDR=(-H "x-api-key: bench-key-0123456789abcdef"); gateway gw-policies "$SUT_CPU" 9012 policies.json; pid=$LAST ;;
    gw-cache)      port=9013; gateway gw-cache "$SUT_CPU" 9013 cache-hit.json; pid=$LAST ;;
    nginx-cache)   port=9010; start nginx-cache "$SUT_CPU" nginx -p /tmp/bench-nginx/ -c "$PWD/nginx.conf"; pid=$LAST ;;
    gw-before)     port=9008; GATEWAY="${BEFORE:?gw-before needs BEFORE=<a gateway build>}" gateway gw-before "$SUT_CPU" 9008 empty.json; pid=$LAST ;;
    *) echo "unknown target $target" >&2; return 1 ;;
  esac
  wait_http "http://127.0.0.1:$port/"
  case $target in yarp|yarp-mw|kestrel@cpu0|gw-*)
    measure "$round" "$target:cold" "$port" / "$pid"
    [ "$STEADY_WARMUP" -gt 0 ] && taskset -c "$WRK_CPU" wrk -t1 -c"$CONNS" -d"${STEADY_WARMUP}s" "${HDR[@]}" "http://127.0.0.1:$port/" >/dev/null ;;
  esac
  for path in $PATHS; do measure "$round" "$target" "$port" "$path" "$pid"; done
  if [ "$target" != direct ]; then
    stop "$pid"
    local keep=() p; for p in "${PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done; PIDS=("${keep[@]}")
  fi
}

read -r -a T <<<"$TARGETS"
for ((r = 1; r <= ROUNDS; r++)); do
  echo "== round $r/$ROUNDS"
  n=${#T[@]}
  for ((i = 0; i < n; i++)); do run_target "$r" "${T[$(( (i + r - 1) % n ))]}"; done  # rotate order per round
done
cleanup
python3 summarize.py "$RAW" | tee "$OUT/summary.md"
