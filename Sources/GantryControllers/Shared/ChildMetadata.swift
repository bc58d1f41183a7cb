import GantryAPI
import KubeCore

/// The identity every child of a Gantry object carries, stamped in one place: name and namespace, the labels
/// the operator's watches select on and users filter by (`app.kubernetes.io/managed-by=gantry`,
/// `app.kubernetes.io/instance=<owner>`, `gantry.dev/kind=<kind>`), and the controller ownerReference.
public enum ChildMetadata {
    /// The labels every child of `owner` carries (label values valid for any owner name: ChildNaming).
    public static func labels<Kind: CustomResourceKind>(of owner: CustomObject<Kind>) -> [String: String] {
        [GantryLabels.managedBy: GantryLabels.managedByValue,
         GantryLabels.instance: ChildNaming.labelValue(owner.name),
         GantryLabels.kind: Kind.resourceType.kind.lowercased()]
    }

    /// Stamps `child` as `name`, a child of `owner`: the standard labels over the child's own (the watches
    /// depend on them), `annotations` added, and the owner's controller reference unless `owned` is false
    /// (objects that must outlive their owner, like experiment records).
    public static func stamp<Kind: CustomResourceKind, Model: KubeResource>(
        _ child: inout Model, name: String, owner: CustomObject<Kind>, labels extra: [String: String] = [:],
        annotations: [String: String] = [:], owned: Bool = true
    ) {
        child.name = name
        child.namespace = owner.namespace
        child.labels = child.labels.merging(extra) { _, new in new }.merging(labels(of: owner)) { _, new in new }
        if !annotations.isEmpty { child.annotations = child.annotations.merging(annotations) { _, new in new } }
        if owned { child.ownerReferences = [owner.ownerReference] }
    }
}
