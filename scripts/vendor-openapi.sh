#!/usr/bin/env bash
# Regenerates Sources/EmbeddedCluster/Resources/openapi-builtin.json: the upstream OpenAPI schemas of the built-in
# kinds the embedded cluster serves (and every definition they reference), from the PyPI package
# kubernetes-validate (Apache-2.0), which ships kube-apiserver's definitions for each release.
#   scripts/vendor-openapi.sh            # Kubernetes v1.33.0
#   K8S_VERSION=v1.34.0 scripts/vendor-openapi.sh
# The kinds are listed below; keep them in step with BuiltinKinds.all (Sources/EmbeddedCluster/ResourceInfo.swift):
# BuiltinSchemaTests fails naming any served kind without a vendored schema.
set -euo pipefail
cd "$(dirname "$0")/.."
K8S_VERSION=${K8S_VERSION:-v1.33.0}
PACKAGE_VERSION=${PACKAGE_VERSION:-1.37.0}
OUT=Sources/EmbeddedCluster/Resources/openapi-builtin.json
KINDS="/v1/Namespace /v1/Node /v1/Pod /v1/Service /v1/Endpoints /v1/ConfigMap /v1/Secret /v1/ServiceAccount
/v1/PersistentVolumeClaim /v1/PersistentVolume storage.k8s.io/v1/StorageClass /v1/Event events.k8s.io/v1/Event discovery.k8s.io/v1/EndpointSlice apps/v1/DaemonSet
apps/v1/Deployment apps/v1/ReplicaSet rbac.authorization.k8s.io/v1/Role rbac.authorization.k8s.io/v1/RoleBinding
rbac.authorization.k8s.io/v1/ClusterRole rbac.authorization.k8s.io/v1/ClusterRoleBinding
authorization.k8s.io/v1/SelfSubjectAccessReview coordination.k8s.io/v1/Lease policy/v1/PodDisruptionBudget
scheduling.k8s.io/v1/PriorityClass apiextensions.k8s.io/v1/CustomResourceDefinition"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m pip download --quiet --no-deps --dest "$work" "kubernetes-validate==$PACKAGE_VERSION"
python3 - "$work"/kubernetes_validate-*.whl "$K8S_VERSION" "$PACKAGE_VERSION" "$OUT" $KINDS <<'PY'
import json, sys, zipfile
wheel, version, package_version, out, kinds = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
with zipfile.ZipFile(wheel) as z:
    defs = json.loads(z.read(f"kubernetes_validate/kubernetes-json-schema/{version}-local/_definitions.json"))["$defs"]
wanted = {tuple(k.split("/")) for k in kinds}
roots = [n for n, s in defs.items() for g in s.get("x-kubernetes-group-version-kind", [])
         if (g["group"], g["version"], g["kind"]) in wanted]
found = {(g["group"], g["version"], g["kind"]) for n in roots for g in defs[n]["x-kubernetes-group-version-kind"]}
missing = wanted - found
if missing:
    sys.exit(f"kinds not in {version}: {sorted(missing)}")

# kubernetes-validate writes JSON Schema (draft 2020-12: `#/$defs/`, `type: [T, "null"]`, `$ref` beside a
# description); kube-apiserver's /openapi/v3 writes OpenAPI 3.0 (`#/components/schemas/`, one type, `allOf: [$ref]`
# when the field has its own description). Convert back, so the documents are served as they are vendored.
def convert(x, top=False):
    if isinstance(x, list):
        return [convert(v) for v in x]
    if not isinstance(x, dict):
        return x
    out = {}
    for k, v in x.items():
        if k == "$ref" and isinstance(v, str):
            out[k] = v.replace("#/$defs/", "#/components/schemas/")
        elif k == "type" and isinstance(v, list):
            types = [t for t in v if t != "null"]
            out[k] = types[0] if len(types) == 1 else types
        elif k == "properties":
            out[k] = {name: convert(p) for name, p in v.items()}
            if top:  # the -local flavour pins apiVersion and kind with an enum upstream does not have
                for name in ("apiVersion", "kind"):
                    out[k].get(name, {}).pop("enum", None)
        else:
            out[k] = convert(v)
    if "$ref" in out and len(out) > 1:
        out["allOf"] = [{"$ref": out.pop("$ref")}]
    return out

keep = set()
def walk(x):
    if isinstance(x, dict):
        for k, v in x.items():
            if k == "$ref" and isinstance(v, str):
                name = v.split("/")[-1]
                if name not in keep:
                    keep.add(name)
                    walk(defs[name])
            else:
                walk(v)
    elif isinstance(x, list):
        for v in x:
            walk(v)
for r in roots:
    keep.add(r)
    walk(defs[r])
doc = {
    "kubernetesVersion": version,
    "source": f"PyPI kubernetes-validate {package_version}, kubernetes-json-schema/{version}-local/_definitions.json (Apache-2.0); regenerate with scripts/vendor-openapi.sh",
    "schemas": {n: convert(defs[n], top=n in roots) for n in sorted(keep)},
}
with open(out, "w") as f:
    json.dump(doc, f, separators=(",", ":"), sort_keys=True)
    f.write("\n")
print(f"{out}: {len(roots)} kinds, {len(keep)} definitions of Kubernetes {version}")
PY
