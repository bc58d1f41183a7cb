import KubeCore
import KubeYAML

/// Parses the text of one kubeconfig file into a JSON value, turning syntax errors into config errors
/// that name the file, line and column.
func parseKubeconfigText(_ text: String, file: String) throws(KubeClientError) -> JSONValue {
    do {
        return try YAML.parse(text)
    } catch {
        throw .config(file: file, field: nil, message: "line \(error.line), column \(error.column): \(error.message)")
    }
}
