#!/usr/bin/env bash
# `make run`: the embedded cluster (simulated GPU nodes) + the operator + the examples, shown working.
# Everything runs locally; Ctrl-C stops it all. Logs go to .gantry/.
set -euo pipefail
cd "$(dirname "$0")/.."

GANTRY=${GANTRY:-.build/debug/gantry}
KUBECTL=${KUBECTL:-kubectl}
# GANTRY_STATE: where the kubeconfig and logs go (MakeRunTourTests runs the tour in a folder of its own).
STATE=${GANTRY_STATE:-.gantry}
mkdir -p "$STATE"
export KUBECONFIG="$(cd "$STATE" && pwd)/kubeconfig"
rm -f "$KUBECONFIG"

pids=()
cleanup() {
  trap - EXIT INT TERM
  echo
  echo "stopping the operator and the embedded cluster..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "starting the embedded cluster (gantry dev)"
"$GANTRY" dev --kubeconfig "$KUBECONFIG" --port 0 >"$STATE/dev.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do [ -s "$KUBECONFIG" ] && break; sleep 0.1; done
[ -s "$KUBECONFIG" ] || { echo "gantry dev did not start; see $STATE/dev.log"; cat "$STATE/dev.log"; exit 1; }
"$KUBECTL" get nodes -L nvidia.com/gpu.product,nvidia.com/gpu.count

step "installing the CRDs"
"$KUBECTL" apply -k crds/
"$KUBECTL" wait --for=condition=Established --timeout=30s crd/trainingjobs.gantry.dev crd/platformconfigs.gantry.dev \
  crd/inferenceservices.gantry.dev crd/notebooks.gantry.dev crd/experiments.gantry.dev

step "starting the operator (gantry controller)"
"$GANTRY" controller --kubeconfig "$KUBECONFIG" --health-port 0 --lease-namespace default >"$STATE/controller.log" 2>&1 &
pids+=($!)

step "applying the examples"
"$KUBECTL" apply -f examples/platformconfig.yaml
"$KUBECTL" apply -f examples/trainingjob-single-gpu.yaml -f examples/trainingjob-pytorch-distributed.yaml -f examples/trainingjob-sweep.yaml

step "watching the TrainingJobs (one learns to the end, the weak runs of the sweep are stopped early)"
deadline=$((SECONDS + ${DEMO_TIMEOUT:-180}))
while [ $SECONDS -lt $deadline ]; do
  table=$("$KUBECTL" get trainingjobs -o wide 2>/dev/null || true)
  printf '\033[2J\033[H%s\n\n' "$table"
  "$KUBECTL" get pods -l app.kubernetes.io/managed-by=gantry 2>/dev/null | head -20 || true
  unfinished=$("$KUBECTL" get trainingjobs -o jsonpath='{range .items[*]}{.status.phase}{"\n"}{end}' 2>/dev/null \
    | grep -cvE '^(Succeeded|Failed|EarlyStopped)$' || true)
  [ "$unfinished" = "0" ] && break
  sleep 2
done

step "final state"
"$KUBECTL" get trainingjobs -o wide
echo
"$KUBECTL" get trainingjobs -o custom-columns='NAME:.metadata.name,PHASE:.status.phase,RULE:.status.earlyStop.rule,WHY:.status.earlyStop.message'

step "experiment records (ConfigMaps that outlive the pods)"
"$KUBECTL" get configmaps -l gantry.dev/record=true
echo
"$KUBECTL" get configmap mnist-baseline-record -o jsonpath='{.data.record\.json}' 2>/dev/null | head -c 1200 || true
echo

step "events"
"$KUBECTL" get events --sort-by=.metadata.creationTimestamp 2>/dev/null | grep -i trainingjob | tail -15 || true

step "an InferenceService: serving from blue, swapped to green, rolled back (docs/inferenceservice.md)"
"$KUBECTL" apply -f examples/inferenceservice.yaml
"$KUBECTL" wait --for=condition=Ready --timeout=120s inferenceservice/sentiment
"$KUBECTL" get inferenceservices
echo "new image: the candidate starts in green beside blue, the alias moves once it is ready"
"$KUBECTL" patch inferenceservice sentiment --type=merge -p '{"spec":{"image":"ghcr.io/acme/sentiment-serving:1.5.0"}}'
"$KUBECTL" wait --for=jsonpath='{.status.activeColor}'=green --timeout=120s inferenceservice/sentiment
"$KUBECTL" get inferenceservices
"$KUBECTL" get pods -l app.kubernetes.io/instance=sentiment -L gantry.dev/color,gantry.dev/revision
echo "the old image again, inside scaleDownDelaySeconds: the alias moves back to blue without a new pod"
"$KUBECTL" patch inferenceservice sentiment --type=merge -p '{"spec":{"image":"ghcr.io/acme/sentiment-serving:1.4.0"}}'
"$KUBECTL" wait --for=jsonpath='{.status.activeColor}'=blue --timeout=60s inferenceservice/sentiment
"$KUBECTL" get inferenceservices
"$KUBECTL" get events --field-selector involvedObject.name=sentiment --sort-by=.metadata.creationTimestamp 2>/dev/null | tail -6 || true

step "a Notebook culled after 15 s idle, its workspace kept (docs/notebook.md)"
cat <<'YAML' | "$KUBECTL" apply -f -
apiVersion: gantry.dev/v1alpha1
kind: Notebook
metadata: {name: demo, namespace: default}
spec:
  image: jupyter/base-notebook:latest
  gpu: {count: 1}
  workspace: {size: 1Gi}
  culling: {idleTimeoutSeconds: 15, checkPeriodSeconds: 2, warnBeforeSeconds: 5}
YAML
"$KUBECTL" wait --for=jsonpath='{.status.phase}'=Running --timeout=60s notebook/demo
"$KUBECTL" get notebooks
echo "nobody uses it..."
"$KUBECTL" wait --for=jsonpath='{.status.phase}'=Culled --timeout=90s notebook/demo
"$KUBECTL" get notebooks
"$KUBECTL" get pvc,secret -l app.kubernetes.io/instance=demo
"$KUBECTL" get events --field-selector involvedObject.name=demo --sort-by=.metadata.creationTimestamp 2>/dev/null | tail -4 || true

step "an Experiment: a TPE search over lr and batch_size, 12 trials, 3 at a time (docs/experiment.md)"
"$KUBECTL" apply -f examples/experiment.yaml
deadline=$((SECONDS + ${DEMO_TIMEOUT:-240}))
while [ $SECONDS -lt $deadline ]; do
  printf '\033[2J\033[H%s\n\n' "$("$KUBECTL" get experiments 2>/dev/null)"
  "$KUBECTL" get trainingjobs -l gantry.dev/experiment=lr-search --sort-by=.metadata.creationTimestamp -o custom-columns='TRIAL:.metadata.name,PHASE:.status.phase,LR:.spec.hyperparameters.lr,BATCH:.spec.hyperparameters.batch_size,LOSS:.status.metrics.best.value' 2>/dev/null || true
  phase=$("$KUBECTL" get experiment lr-search -o jsonpath='{.status.phase}' 2>/dev/null || true)
  case "$phase" in Succeeded|Failed) break ;; esac
  sleep 2
done
"$KUBECTL" get experiments
"$GANTRY" records --kubeconfig "$KUBECONFIG" --experiment lr-search

cat <<MSG

The cluster and the operator keep running. In another terminal:
  export KUBECONFIG=$KUBECONFIG
  kubectl get gantry          # every Gantry kind
  kubectl describe trainingjob mnist-baseline
  kubectl describe inferenceservice sentiment
  kubectl describe notebook demo
  kubectl describe experiment lr-search
  $GANTRY dashboard           # the web dashboard: open http://127.0.0.1:8090/ (docs/dashboard.md)
  ln -s "$(realpath "$GANTRY")" ~/.local/bin/kubectl-gantry   # once (or make install-plugin), then:
  kubectl gantry get          # the kubectl plugin (docs/kubectl-plugin.md)
  kubectl gantry metrics --experiment lr-search   # every trial's loss curve on one plot
Logs: $STATE/dev.log, $STATE/controller.log. Press Ctrl-C to stop.
MSG
if [ -n "${DEMO_EXIT:-}" ]; then exit 0; fi
wait "${pids[0]}"
