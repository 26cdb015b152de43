#!/usr/bin/env bash
# Paired comparison of two proxies run side by side on CPU 0 under equal load (backend and two wrk on CPU 1).
# Sequential runs of run.sh swing ±15 % between rounds on this machine; running both at once cancels most of that
# drift, so small per-request costs (one pipeline stage) become visible as the ratio of CPU µs per request.
# The proxy whose wrk starts first gets more of the load and batches more, which lowers its CPU per request: the
# same gateway against itself measured 1.02–1.08 with a fixed order. So the order alternates each round (take the
# median of an even number of rounds). Single runs then seemed to favour the second proxy started (port 9031): the
# same gateway against itself measured medians of 0.99, 0.952 and 0.961, and tag.js ÷ empty 1.139 one way but
# 1/0.833 = 1.20 with the two swapped. So a comparison runs twice, the second time with the two proxies in each other's
# place, and the figure is the geometric mean of the two medians (ORIENTATIONS=1 skips the second); it also prints the
# port's own factor, which came out 1.001, 1.007, 0.976 and 1.005 on four comparisons: noise between runs, averaged.
# Round to round the ratio still swings ±10 %: read a figure as good to a few percent, and repeat it.
# A round's CPU and requests are taken over a window MARGIN seconds inside the load on both ends, the requests counted
# by the backend per proxy (X-Forwarded-Host): a wrk run's end leaves up to CONNS requests in flight, and a profile
# caught a proxy spending ~70 ms on canceling them (exceptions in HttpClient and YARP, colder code each time a round
# ended) inside a round that counted them.
#
# Usage: ./pair.sh A B        A and B: "yarp" (the plain YARP host) or a pipeline file in gateway/ (e.g. empty.json),
#                             optionally with gateway settings after a "|": "empty.json|--Gateway:HideOrigin:Enabled=false";
#                             a setting "env:NAME=value" is an environment variable of that gateway alone
#                             ("empty.json|env:DOTNET_TieredPGO=0"), where a variable exported is both gateways'
#   env: WARMUP=60 DURATION=10 ROUNDS=6 ORIENTATIONS=2 CONNS=16 MARGIN=1   Traffic only to 127.0.0.1; every process is stopped on exit.
#        HEADER="x-api-key: ..." adds a request header to both (policies.json needs its API key).
#        URL_PATH=/big requests the backend's 16 KiB body instead of ~100 B.
#        DELAY_MS=5 paces the rounds (paced.lua): each connection waits that long after each response, so both proxies
#        are offered the same rate (under 16 × 1000 / 5 = 3,200 requests/s each; ~2,350 measured) instead of
#        competing for all of it, where the slower one also gets fewer requests, batches less and so pays more per
#        request: an unpaced pair amplifies a difference, a paced one does not (and dilutes it with the cost of
#        waking up for each request, which both pay alike).
#        REDIS=127.0.0.1:6379 gives both gateways that Redis as their cache (cache-hit.json with Redis).
#        TLS=1 makes both proxy listeners HTTPS with a throwaway self-signed certificate (openssl), wrk's requests too:
#        the YARP host through Kestrel's own TLS (Kestrel:Certificates:Default), a gateway through its own handshake
#        callback; with HEADER="Connection: close" every request is a new connection and a full handshake.
#        SCRAPE=1 has a scraper (curl on CPU 1) read both gateways' admin GET /metrics once a second throughout, as
#        Prometheus would ("empty.json|--Gateway:Metrics:Prometheus=true" is a gateway with its metrics exported).
#        SOLO=3 loads one proxy at a time instead, 3 s each (plus MARGIN on both ends), the order alternating by
#        round: each has the core to itself, as run.sh arranges a proxy, where a pair also shares the core's caches and
#        charges a code-heavy stage for running cold. Windows seconds apart drift far more than a pair's two halves:
#        the same gateway against itself measured 0.985 over 48 rounds (0.70–1.43 each), so take 48 rounds or more.
set -euo pipefail
cd "$(dirname "$0")"
WARMUP=${WARMUP:-60}; DURATION=${DURATION:-10}; ROUNDS=${ROUNDS:-6}; ORIENTATIONS=${ORIENTATIONS:-2}; MARGIN=${MARGIN:-1}
SOLO=${SOLO:-0}
CONNS=${CONNS:-16}; URL_PATH=${URL_PATH:-/}
WRK_HEADER=(); if [ -n "${HEADER:-}" ]; then WRK_HEADER=(-H "$HEADER"); fi
PACING=(); if [ -n "${DELAY_MS:-}" ]; then export DELAY_MS; PACING=(-s paced.lua); fi
CACHE_ARGS=(); if [ -n "${REDIS:-}" ]; then CACHE_ARGS=(--ConnectionStrings:Redis="$REDIS"); fi
SCHEME=http; YARP_TLS=(); GATEWAY_TLS=()
if [ "${TLS:-0}" = 1 ]; then
  SCHEME=https; TLS_DIR=$(mktemp -d)
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$TLS_DIR/key.pem" -out "$TLS_DIR/cert.pem" 2>/dev/null
  YARP_TLS=(--Kestrel:Certificates:Default:Path="$TLS_DIR/cert.pem" --Kestrel:Certificates:Default:KeyPath="$TLS_DIR/key.pem")
  GATEWAY_TLS=(--Kestrel:Endpoints:Proxy:Certificate:Path="$TLS_DIR/cert.pem" --Kestrel:Endpoints:Proxy:Certificate:KeyPath="$TLS_DIR/key.pem")
fi

dotnet build backend -c Release -nologo -v q -clp:ErrorsOnly
dotnet build yarp -c Release -nologo -v q -clp:ErrorsOnly
dotnet build ../Gateway -c Release -nologo -v q -clp:ErrorsOnly
for plugin in HeaderRewrite Auth AbTesting Balancing Caching IpFilter RateLimit Retry Compression Buffering Gslb; do
  dotnet build "../PluginSources/$plugin" -c Release -nologo -v q -clp:ErrorsOnly
done

PIDS=()
stop() { local p; for p in "$@"; do kill "$p" 2>/dev/null || true; done; for p in "$@"; do wait "$p" 2>/dev/null || true; done; }
cleanup() { stop "${PIDS[@]}"; if [ -n "${TLS_DIR:-}" ]; then rm -rf "$TLS_DIR"; fi; }
trap cleanup EXIT

start_sut() { # spec port -> pid in LAST; a spec "file.json|--Setting=value env:NAME=value ..." adds gateway settings and variables
  if [ "$1" = yarp ]; then
    taskset -c 0 yarp/bin/Release/net10.0/ProxyHost --urls "$SCHEME://127.0.0.1:$2" "${YARP_TLS[@]}" >/dev/null 2>&1 &
  else
    local file=${1%%|*} words=() settings=() environment=() word
    if [[ $1 == *"|"* ]]; then read -ra words <<<"${1#*|}"; fi
    for word in "${words[@]}"; do
      if [[ $word == env:* ]]; then environment+=("${word#env:}"); else settings+=("$word"); fi
    done
    env "${environment[@]}" taskset -c 0 ../Gateway/bin/Release/net10.0/Gateway --contentRoot "$PWD/gateway" \
      --Kestrel:Endpoints:Proxy:Url="$SCHEME://127.0.0.1:$2" --Kestrel:Endpoints:Admin:Url="http://127.0.0.1:$(( $2 + 100 ))" "${GATEWAY_TLS[@]}" \
      --Gateway:PipelineFile="$PWD/gateway/$file" --Gateway:PluginsPath="$PWD/../plugins" \
      --Gateway:ScriptsPath="$PWD/../scripts" "${CACHE_ARGS[@]}" "${settings[@]}" >/dev/null 2>&1 &
  fi
  LAST=$!; PIDS+=("$LAST")
}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
counts() { taskset -c 1 curl -sf http://127.0.0.1:9001/counts; }
wrk_to() { # port seconds output [pacing...]
  taskset -c 1 wrk -t1 -c"$CONNS" -d"$2s" "${WRK_HEADER[@]}" "${@:4}" "$SCHEME://127.0.0.1:$1$URL_PATH" >"$3"
}
load() { # seconds round [pacing...] -> wrk against both at once, B's started first in odd rounds; outputs in /tmp/pair-{a,b}.txt
  local w
  if (( $2 % 2 )); then
    wrk_to 9031 "$1" /tmp/pair-b.txt "${@:3}" & w=$!
    wrk_to 9030 "$1" /tmp/pair-a.txt "${@:3}"
  else
    wrk_to 9030 "$1" /tmp/pair-a.txt "${@:3}" & w=$!
    wrk_to 9031 "$1" /tmp/pair-b.txt "${@:3}"
  fi
  wait "$w"
}

taskset -c 1 backend/bin/Release/net10.0/Backend --urls http://127.0.0.1:9001 >/dev/null 2>&1 & PIDS+=("$!")
HZ=$(getconf CLK_TCK)
: >/tmp/pair-ratios.txt

solo_round() { # pid-on-9030 pid-on-9031 orientation round -> B ÷ A appended to /tmp/pair-ratios.txt
  # Each proxy alone under load for SOLO seconds (plus MARGIN each side), 9031 first in odd rounds.
  local first=9030 second=9031 port pid lp t0 t1 c0 c1 windows=()
  if (( $4 % 2 )); then first=9031; second=9030; fi
  for port in $first $second; do
    if [ "$port" = 9030 ]; then pid=$1; else pid=$2; fi
    wrk_to "$port" "$(( SOLO + 2 * MARGIN ))" /dev/null & lp=$!
    sleep "$MARGIN"
    t0=$(ticks "$pid"); c0=$(counts)
    sleep "$SOLO"
    t1=$(ticks "$pid"); c1=$(counts)
    wait "$lp"
    windows+=("$port" "$t0" "$t1" "$c0" "$c1")
  done
  python3 - "$3" "$4" "$HZ" "${windows[@]}" <<'PY'
import sys
orientation, r, hz, *w = sys.argv[1:]
def served(counts, port): return int(dict(line.split() for line in counts.splitlines()).get(f"127.0.0.1:{port}", 0))
us = {}
for i in range(0, len(w), 5):
    port, t0, t1, c0, c1 = w[i:i + 5]
    n = served(c1, port) - served(c0, port)
    if n == 0:
        sys.exit(f"SOLO counts requests at the backend, and the proxy on {port} sent it none (cache hits?)")
    us[port] = (int(t1) - int(t0)) / int(hz) * 1e6 / n
ratio = us["9031"] / us["9030"] if orientation == "1" else us["9030"] / us["9031"]
print(f"round {r}: 9030 {us['9030']:.1f} µs/req, 9031 {us['9031']:.1f} µs/req, B ÷ A = {ratio:.3f}")
open("/tmp/pair-ratios.txt", "a").write(f"{orientation} {ratio}\n")
PY
}

measure() { # first second orientation -> rounds of B ÷ A (whichever port each is on) appended to /tmp/pair-ratios.txt
  local a b r a0 a1 b0 b1 c0 c1 lp
  start_sut "$1" 9030; a=$LAST
  start_sut "$2" 9031; b=$LAST
  local scraper=
  if [ "${SCRAPE:-0}" = 1 ]; then
    taskset -c 1 bash -c 'while :; do for p in 9130 9131; do curl -s -o /dev/null -H "Authorization: Bearer bench-admin-key" "http://127.0.0.1:$p/metrics"; done; sleep 1; done' &
    scraper=$!
  fi
  for i in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:9001/" && break; sleep 0.1; done
  for port in 9030 9031; do
    for i in $(seq 100); do curl -sfk -o /dev/null "$SCHEME://127.0.0.1:$port/" && break; sleep 0.1; done
  done
  # Tiered JIT compiles for ~45 s of full load on one core (dotnet-counters: 1–2 s of JIT per 10 s until then, ~1 ms
  # after). Two proxies sharing the core take twice as long, and a perf profile of a pair after a shared 60 s warm-up
  # still spent 8 % (empty pipeline) and 20 % (tag.js: Jint is a lot of code) of its samples in the JIT, which read as
  # a cost of the pipeline. So each proxy first warms up alone, with the core to itself.
  wrk_to 9030 "$WARMUP" /dev/null
  wrk_to 9031 "$WARMUP" /dev/null
  load 10 0
  if (( SOLO )); then
    for r in $(seq "$ROUNDS"); do solo_round "$a" "$b" "$3" "$r"; done
    stop "$a" "$b" $scraper
    return
  fi
  for r in $(seq "$ROUNDS"); do
    # The window is MARGIN inside the load at both ends (see the top).
    load "$(( DURATION + 2 * MARGIN ))" "$r" "${PACING[@]}" & lp=$!
    sleep "$MARGIN"
    a0=$(ticks "$a"); b0=$(ticks "$b"); c0=$(counts)
    sleep "$DURATION"
    a1=$(ticks "$a"); b1=$(ticks "$b"); c1=$(counts)
    wait "$lp"
    python3 - "$1" "$2" "$3" "$r" "$HZ" "$a0" "$a1" "$b0" "$b1" "$c0" "$c1" "$DURATION" "$MARGIN" <<'PY'
import sys, re
first, second, orientation, r, hz, a0, a1, b0, b1, c0, c1, window, margin = sys.argv[1:]
def reqs(f): return int(re.search(r"(\d+) requests in", open(f).read()).group(1))
def served(counts, port): return int(dict(line.split() for line in counts.splitlines()).get(f"127.0.0.1:{port}", 0))
r1, r2 = served(c1, 9030) - served(c0, 9030), served(c1, 9031) - served(c0, 9031)
if r1 == 0 or r2 == 0:
    # A proxy that answers without the backend (cache hits): its share of wrk's count, as if the rate were even.
    share = int(window) / (int(window) + 2 * int(margin))
    r1, r2 = reqs("/tmp/pair-a.txt") * share, reqs("/tmp/pair-b.txt") * share
u1 = (int(a1) - int(a0)) / int(hz) * 1e6 / r1; u2 = (int(b1) - int(b0)) / int(hz) * 1e6 / r2
# Always B ÷ A of the command line, whichever port each proxy is on in this orientation.
ratio = u2 / u1 if orientation == "1" else u1 / u2
print(f"round {r}: {first} {u1:.1f} µs/req ({r1:.0f} req), {second} {u2:.1f} µs/req ({r2:.0f} req), B ÷ A = {ratio:.3f}")
open("/tmp/pair-ratios.txt", "a").write(f"{orientation} {ratio}\n")
PY
  done
  stop "$a" "$b" $scraper
}

echo "A = $1 on 9030, B = $2 on 9031"
measure "$1" "$2" 1
if (( ORIENTATIONS > 1 )); then
  echo "swapped: B = $2 on 9030, A = $1 on 9031"
  measure "$2" "$1" 2
fi
python3 - "$1" "$2" <<'PY'
import sys, statistics, math
a, b = sys.argv[1:]
rows = [line.split() for line in open("/tmp/pair-ratios.txt")]
by = {o: [float(x) for k, x in rows if k == o] for o in ("1", "2")}
medians = {o: statistics.median(v) for o, v in by.items() if v}
for o, m in medians.items():
    v = by[o]
    print(f"orientation {o}: {b} ÷ {a} median {m:.3f} (min {min(v):.3f}, max {max(v):.3f}, {len(v)} rounds)")
if len(medians) == 2:
    print(f"{b} ÷ {a} = {math.sqrt(medians['1'] * medians['2']):.3f} (geometric mean of both orientations; "
          f"on port 9031 a proxy measured {math.sqrt(medians['1'] / medians['2']):.3f} × what it did on 9030)")
PY
