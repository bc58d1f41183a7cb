import GantryAPI
import KubeCore

/// Pure builders of a Notebook's children: the server Pod, its Service, the workspace claim and the token Secret.
public enum NotebookChildren {
    public static let containerName = "notebook"
    public static let port: Int64 = 8888
    public static let tokenKey = "token"

    public static func podName(_ nb: Notebook) -> String { ChildNaming.name(nb.name, "") }
    public static func serviceName(_ nb: Notebook) -> String { ChildNaming.name(nb.name, "") }
    public static func secretName(_ nb: Notebook) -> String { ChildNaming.name(nb.name, "token") }
    public static func claimName(_ nb: Notebook) -> String { nb.spec.workspace?.claimName ?? ChildNaming.name(nb.name, "workspace") }

    public static func url(_ nb: Notebook) -> String { "http://\(serviceName(nb)).\(nb.namespace).svc.cluster.local" }

    static func selector(_ nb: Notebook) -> [String: String] {
        [GantryLabels.instance: ChildNaming.labelValue(nb.name), GantryLabels.managedBy: GantryLabels.managedByValue,
         GantryLabels.role: "notebook"]
    }

    /// The token Secret: created once, kept across stop and cull, deleted with the Notebook.
    public static func secret(_ nb: Notebook, token: String) -> Secret {
        var secret = Secret(name: secretName(nb))
        ChildMetadata.stamp(&secret, name: secretName(nb), owner: nb)
        secret.type = "Opaque"
        secret.setValue(tokenKey, Array(token.utf8))
        return secret
    }

    /// The workspace claim Gantry creates (none with `claimName`). Owned (deleted with the Notebook) only with
    /// `deletePolicy: Delete`; never deleted on stop or cull.
    public static func claim(_ nb: Notebook) -> PersistentVolumeClaim? {
        let workspace = nb.spec.effectiveWorkspace
        guard workspace.claimName == nil else { return nil }
        var claim = PersistentVolumeClaim(name: claimName(nb))
        ChildMetadata.stamp(&claim, name: claimName(nb), owner: nb, owned: workspace.effectiveDeletePolicy == .delete)
        claim.spec.accessModes = ["ReadWriteOnce"]
        claim.spec.storage = workspace.effectiveSize
        claim.spec.storageClassName = workspace.storageClassName
        return claim
    }

    public static func service(_ nb: Notebook) -> Service {
        var service = Service(name: serviceName(nb))
        ChildMetadata.stamp(&service, name: serviceName(nb), owner: nb)
        service.spec.selector = selector(nb)
        service.spec.ports = [Service.Port(name: "http", port: 80, targetPort: "http")]
        return service
    }

    /// The server: the token comes from the Secret (never in the pod spec), the workspace is mounted.
    public static func pod(_ nb: Notebook, placement: GPUPlacement, security: PodPolicy.SecurityProfile) -> Pod {
        let spec = nb.spec
        var container = Container(name: containerName, image: spec.image)
        var env = ContainerSettings.env(spec.env)
        env.append(Container.EnvVar(json: ["name": "JUPYTER_TOKEN", "valueFrom": ["secretKeyRef": ["name": .string(secretName(nb)), "key": .string(tokenKey)]]]))
        container.env = env
        container.ports = [Container.Port(name: "http", containerPort: port)]
        // /api answers without the token (Jupyter's version endpoint): ready once the server listens.
        container.readinessProbe = RawObject(json: ["httpGet": ["path": "/api", "port": "http"], "periodSeconds": 5])
        container.resources = ContainerSettings.resources(spec.resources, placement: placement)
        container.volumeMounts = [RawObject(json: ["name": "workspace", "mountPath": .string(spec.effectiveWorkspace.effectiveMountPath)])]
        if security == .restricted {
            container.securityContext = RawObject(json: ["allowPrivilegeEscalation": false, "capabilities": ["drop": ["ALL"]]])
        }

        var pod = Pod(name: podName(nb))
        var labels = spec.podMetadata?.labels ?? [:]
        labels[GantryLabels.role] = "notebook"
        ChildMetadata.stamp(&pod, name: podName(nb), owner: nb, labels: labels, annotations: spec.podMetadata?.annotations ?? [:])
        pod.spec.containers = [container]
        pod.spec.volumes = [RawObject(json: ["name": "workspace", "persistentVolumeClaim": ["claimName": .string(claimName(nb))]])]
        pod.spec.restartPolicy = "Always"
        pod.spec.tolerations = (placement.tolerations + (spec.tolerations ?? [])).map { Pod.Toleration(json: $0) }
        if let selector = spec.nodeSelector, !selector.isEmpty { pod.spec.nodeSelector = selector }
        if let affinity = placement.affinity { pod.spec.affinity = RawObject(json: affinity) }
        pod.spec.serviceAccountName = spec.serviceAccountName
        pod.spec.imagePullSecrets = (spec.imagePullSecrets ?? []).map(\.name)
        if security == .restricted {
            // The Jupyter docker-stacks images run as jovyan (uid 1000), not root.
            pod.spec.securityContext = RawObject(json: ["runAsNonRoot": true, "seccompProfile": ["type": "RuntimeDefault"], "fsGroup": 100])
        }
        return pod
    }
}
