#!/usr/bin/env bash
# Warm-up: the gateway's CPU per request second by second from its start (and, with RELOAD=1, from a reload that
# brings new code), under the same load as pair.sh's (gateway alone on CPU 0, backend and wrk on CPU 1, GET / 100 B).
# Prints each second's CPU µs per request, then the first 10 s and the last 10 s of each phase and their ratio (issue
# 24's target: the first 10 s within 1.5× the steady figure).
#
# Usage: ./warmup.sh [spec]     spec as pair.sh's: "empty.json", "tag-js.json|--Setting=value env:NAME=value ..."
#   env: SECONDS_AFTER=40 (each phase's length), CONNS=16, RELOAD=1 (a reload to RELOAD_PIPELINE, default tag-js.json,
#        once the start's phase is over), GATEWAY_BIN (another build of the gateway, e.g. a ReadyToRun publish:
#        dotnet publish ../Gateway -c Release -r linux-x64 -p:PublishReadyToRun=true -o /tmp/gw-r2r, then
#        GATEWAY_BIN=/tmp/gw-r2r/Gateway). Traffic only to 127.0.0.1; every process is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")"
SPEC=${1:-empty.json}; GATEWAY_BIN=${GATEWAY_BIN:-../Gateway/bin/Release/net10.0/Gateway}; SECONDS_AFTER=${SECONDS_AFTER:-40}; CONNS=${CONNS:-16}; RELOAD_PIPELINE=${RELOAD_PIPELINE:-tag-js.json}

dotnet build backend -c Release -nologo -v q -clp:ErrorsOnly >/dev/null
dotnet build ../Gateway -c Release -nologo -v q -clp:ErrorsOnly >/dev/null

PIDS=()
cleanup() { local p; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
WORK=$(mktemp -d); trap cleanup EXIT

file=${SPEC%%|*} words=() settings=() environment=()
if [[ $SPEC == *"|"* ]]; then read -ra words <<<"${SPEC#*|}"; fi
for word in "${words[@]}"; do
  if [[ $word == env:* ]]; then environment+=("${word#env:}"); else settings+=("$word"); fi
done
# The pipeline file is a copy, so a reload can swap it without touching gateway/.
cp "gateway/$file" "$WORK/plugins.json"

taskset -c 1 backend/bin/Release/net10.0/Backend --urls http://127.0.0.1:9001 >/dev/null 2>&1 & PIDS+=("$!")
for _ in $(seq 100); do curl -sf -o /dev/null http://127.0.0.1:9001/ && break; sleep 0.1; done
env "${environment[@]}" taskset -c 0 "$GATEWAY_BIN" --contentRoot "$PWD/gateway" \
  --Kestrel:Endpoints:Proxy:Url=http://127.0.0.1:9030 --Kestrel:Endpoints:Admin:Url=http://127.0.0.1:9130 \
  --Gateway:PipelineFile="$WORK/plugins.json" --Gateway:PluginsPath="$PWD/../plugins" --Gateway:ScriptsPath="$PWD/../scripts" \
  "${settings[@]}" >"$WORK/gateway.log" 2>&1 & GATEWAY=$!; PIDS+=("$GATEWAY")
for _ in $(seq 200); do curl -sf -o /dev/null http://127.0.0.1:9030/ && break; sleep 0.05; done

served() { curl -sf http://127.0.0.1:9001/counts | awk '$1 == "127.0.0.1:9030" {print $2}'; }
ticks() { awk '{print $14 + $15}' "/proc/$GATEWAY/stat"; }
HZ=$(getconf CLK_TCK)

phase() { # name: SECONDS_AFTER one-second windows under load
  local t0 c0 t1 c1 i
  taskset -c 1 wrk -t1 -c"$CONNS" -d"$(( SECONDS_AFTER + 1 ))s" http://127.0.0.1:9030/ >/dev/null & local w=$!
  t0=$(ticks); c0=$(served)
  for ((i = 1; i <= SECONDS_AFTER; i++)); do
    sleep 1
    t1=$(ticks); c1=$(served)
    echo "$1 $i $(( t1 - t0 )) $(( c1 - c0 ))"
    t0=$t1; c0=$c1
  done >>"$WORK/windows"
  wait "$w"
}

phase start
if [ "${RELOAD:-0}" = 1 ]; then
  cp "gateway/$RELOAD_PIPELINE" "$WORK/plugins.json"
  curl -sf -X POST -H "Authorization: Bearer bench-admin-key" http://127.0.0.1:9130/admin/reload >/dev/null
  phase reload
fi

python3 - "$HZ" "$WORK/windows" <<'PY'
import sys
hz = int(sys.argv[1])
phases = {}
for line in open(sys.argv[2]):
    name, second, ticks, served = line.split()
    phases.setdefault(name, []).append((int(ticks), int(served)))
for name, windows in phases.items():
    per = [t / hz * 1e6 / n if n else float("nan") for t, n in windows]
    print(name + ": " + " ".join(f"{v:.0f}" for v in per))
    first, last = windows[:10], windows[-10:]
    f = sum(t for t, _ in first) / hz * 1e6 / sum(n for _, n in first)
    l = sum(t for t, _ in last) / hz * 1e6 / sum(n for _, n in last)
    print(f"{name}: first 10 s {f:.1f} µs/req, last 10 s {l:.1f} µs/req, ratio {f / l:.2f}")
PY
