import KubeCore
import KubeYAML

/// Parses the text of one kubeconfig file (YAML, or JSON which is YAML) into a JSON value, turning syntax
/// errors into config errors that name the file, line and column.
func parseKubeconfigText(_ text: String, file: String) throws(KubeClientError) -> JSONValue {
    do {
        return try YAML.parse(text)
    } catch {
        throw .config(file: file, field: nil, line: error.line, column: error.column, message: error.message)
    }
}
