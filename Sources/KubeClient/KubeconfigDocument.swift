import KubeCore

/// Parses the text of one kubeconfig file into a JSON value, turning syntax errors into config errors
/// that name the file and position.
func parseKubeconfigText(_ text: String, file: String) throws(KubeClientError) -> JSONValue {
    // Until KubeYAML lands, kubeconfigs are read as JSON (a subset of YAML).
    do {
        return try JSONValue.parse(text)
    } catch {
        throw .config(file: file, field: nil, message: error.description)
    }
}
