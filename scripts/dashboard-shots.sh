#!/usr/bin/env bash
# `make dashboard-shots`: the embedded cluster, the operator, a small workload of every kind and `gantry dashboard`,
# then a screenshot of each page in Debian's headless chromium, written to docs/images/dashboard-*.png
# (docs/dashboard.md shows them). Everything runs locally and is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

GANTRY=${GANTRY:-.build/debug/gantry}
KUBECTL=${KUBECTL:-kubectl}
CHROMIUM=${CHROMIUM:-chromium}
OUT=${OUT:-docs/images}
STATE=$(mktemp -d)
export KUBECONFIG="$STATE/kubeconfig"
mkdir -p "$OUT"

pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$STATE"
}
trap cleanup EXIT INT TERM
fail() { echo "dashboard-shots: $*" >&2; for log in "$STATE"/*.log; do echo "== $log" >&2; tail -20 "$log" >&2; done; exit 1; }

echo "starting the embedded cluster and the operator"
"$GANTRY" dev --kubeconfig "$KUBECONFIG" --port 0 >"$STATE/dev.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do [ -s "$KUBECONFIG" ] && break; sleep 0.1; done
[ -s "$KUBECONFIG" ] || fail "gantry dev did not start"
"$KUBECTL" apply -k crds/ >/dev/null
"$KUBECTL" wait --for=condition=Established --timeout=30s crd/trainingjobs.gantry.dev crd/platformconfigs.gantry.dev \
  crd/inferenceservices.gantry.dev crd/notebooks.gantry.dev crd/experiments.gantry.dev >/dev/null
"$GANTRY" controller --kubeconfig "$KUBECONFIG" --health-port 0 --lease-namespace default >"$STATE/controller.log" 2>&1 &
pids+=($!)

echo "applying the workload: an Experiment, an InferenceService that swaps, a Notebook, a GPU-hour budget"
"$KUBECTL" apply -f - >/dev/null <<'YAML'
apiVersion: gantry.dev/v1alpha1
kind: PlatformConfig
metadata: {name: default}
spec:
  quotas: [{namespace: default, gpus: 16}]
  budgets: {accountingPeriodSeconds: 5, namespaces: [{namespace: default, gpuHoursPerMonth: 40}]}
  idleGPUs: {checkPeriodSeconds: 2}
YAML
"$KUBECTL" apply -f examples/experiment.yaml -f examples/inferenceservice.yaml -f examples/notebook.yaml >/dev/null
"$KUBECTL" wait --for=condition=Ready --timeout=120s inferenceservice/sentiment >/dev/null || fail "the InferenceService did not become ready"
"$KUBECTL" patch inferenceservice sentiment --type=merge -p '{"spec":{"image":"ghcr.io/acme/sentiment-serving:1.5.0"}}' >/dev/null
"$KUBECTL" wait --for=jsonpath='{.status.activeColor}'=green --timeout=120s inferenceservice/sentiment >/dev/null || fail "no swap"
"$KUBECTL" wait --for=jsonpath='{.status.phase}'=Running --timeout=60s notebook/alice >/dev/null || fail "the Notebook did not start"
"$KUBECTL" wait --for=jsonpath='{.status.phase}'=Succeeded --timeout=300s experiment/lr-search >/dev/null || fail "the Experiment did not finish"
best=$("$KUBECTL" get experiment lr-search -o jsonpath='{.status.bestTrial.name}')

echo "starting gantry dashboard"
"$GANTRY" dashboard --kubeconfig "$KUBECONFIG" --port 0 >"$STATE/dashboard.log" 2>&1 &
pids+=($!)
url=""
for _ in $(seq 1 100); do
  url=$(sed -n 's|^gantry dashboard: serving \(http://[^ ]*\)/ .*|\1|p' "$STATE/dashboard.log")
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || fail "gantry dashboard did not start"

# name, path, window height (long pages get a taller window).
shots=(
  "overview / 700"
  "experiments /experiments 700"
  "experiment /experiments/default/lr-search 1500"
  "trainingjobs /trainingjobs 900"
  "trainingjob /trainingjobs/default/$best 1100"
  "inferenceservices /inferenceservices 700"
  "inferenceservice /inferenceservices/default/sentiment 1100"
  "notebooks /notebooks 700"
  "gpus /gpus 900"
)
for shot in "${shots[@]}"; do
  read -r name path height <<<"$shot"
  "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars --user-data-dir="$STATE/chromium" \
    --window-size="1280,$height" --screenshot="$OUT/dashboard-$name.png" "$url$path" >/dev/null 2>"$STATE/chromium-$name.log" \
    || fail "chromium could not load $path"
  echo "wrote $OUT/dashboard-$name.png ($url$path)"
done
