import KubeCore

/// A CRD version's `openAPIV3Schema`, ready to validate, default and prune custom resources the way
/// kube-apiserver's apiextensions does. Pure and `Sendable`: load once per CRD version, share across requests.
///
/// The server's order on create and update, as kube's: `prune` (report the paths for fieldValidation), then
/// `applyDefaults`, then `validate` / `validateUpdate`.
public struct StructuralSchema: Sendable {
    let root: SchemaNode
    /// kube builds a CEL validator only for schemas with rules; without one there is no "rules were not
    /// checked" placeholder either.
    let hasRules: Bool

    /// Throws `SchemaError` naming the schema path for a schema kube would reject as non-structural, or one
    /// this implementation cannot honour (an invalid pattern, a CEL rule outside the supported subset).
    public init(json: JSONValue) throws(SchemaError) {
        root = try SchemaLoader.load(json)
        hasRules = root.containsRules
    }

    /// All errors of the whole object (apiVersion, kind and metadata included; the schema rarely says much
    /// about metadata, and name rules are the server's). Transition rules (using `oldSelf`) are skipped.
    public func validate(_ object: JSONValue) -> [FieldError] {
        Validator(checkRules: hasRules).validate(object, node: root, at: .root)
    }

    /// Like `validate`, plus transition rules evaluated against `old` where the old value exists.
    public func validateUpdate(_ new: JSONValue, old: JSONValue) -> [FieldError] {
        Validator(checkRules: hasRules).validate(new, node: root, at: .root, old: old)
    }

    /// A `/status` write: `new` is the object as it would be stored (the stored spec and metadata, the written
    /// status). Only the status is judged against the schema; list types and CEL rules see the whole object.
    public func validateStatusUpdate(_ new: JSONValue, old: JSONValue) -> [FieldError] {
        Validator(checkRules: hasRules).validateStatus(new, node: root, old: old)
    }

    /// Drops nulls of non-nullable fields without default, then applies `default`s.
    public func applyDefaults(to object: inout JSONValue) {
        Defaulter.apply(&object, root)
    }

    /// Removes fields the schema does not specify (keeping root apiVersion/kind/metadata and anything under
    /// x-kubernetes-preserve-unknown-fields; unknown metadata fields are dropped as ObjectMeta decoding does).
    /// Returns the removed paths, sorted, e.g. `spec.foo` (the server words them `unknown field "spec.foo"`).
    public func prune(_ object: inout JSONValue) -> [String] {
        Pruner.prune(&object, node: root, at: .root, isRoot: true)
    }
}
