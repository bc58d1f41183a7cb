/// How the executable was invoked: as `gantry`, or as the kubectl plugin `kubectl-gantry`, and the plugin's
/// arguments made readable by the commands. Pure, so the rules are unit-tested.
public enum PluginInvocation {
    /// kubectl finds plugins as executables named `kubectl-<name>` on PATH and runs them with that path as
    /// argv[0] (a symlink keeps its own name).
    public static let executableName = "kubectl-gantry"

    public static func isPlugin(argv0: String) -> Bool {
        argv0.split(separator: "/").last.map(String.init) == executableName
    }

    /// Options that take a value, as kubectl spells them: `--namespace ml`, `--namespace=ml`, `-n ml`, `-n=ml`, `-nml`.
    static let valueOptions: Set<String> = ["--kubeconfig", "--context", "--namespace", "-n", "--output", "-o",
                                            "--metric", "--experiment", "--sort-by", "--tail", "--container", "-c",
                                            "--width", "--height", "--local-port"]
    /// Short options whose value may be glued on (`-nml`, `-ojson`) or follow `=` (`-n=ml`), as pflag allows.
    static let shortValueOptions: Set<Character> = ["n", "o", "c"]

    /// The arguments after argv[0], made readable by the subcommands:
    /// - options written before the verb (`kubectl gantry -n ml get`: kubectl passes them so) move after it,
    ///   since each verb reads its own options;
    /// - `-nml` and `-n=ml` become `-n ml`.
    public static func arguments(_ arguments: [String]) -> [String] {
        let split = arguments.flatMap(splitShortOption)
        var leading: [String] = []
        var index = split.startIndex
        while index < split.endIndex, split[index].hasPrefix("-"), split[index] != "--" {
            let option = split[index]
            leading.append(option)
            index += 1
            if valueOptions.contains(option), index < split.endIndex {
                leading.append(split[index])
                index += 1
            }
        }
        return Array(split[index...]) + leading
    }

    /// kubectl's global flags the plugin does not read (it reads --kubeconfig, --context and -n). kubectl hands
    /// them over like any argument; refused by name, so a user never believes `--as` or `--server` took effect.
    static let unreadKubectlFlags: Set<String> = [
        "--as", "--as-group", "--as-uid", "--cache-dir", "--certificate-authority", "--client-certificate", "--client-key",
        "--cluster", "--disable-compression", "--insecure-skip-tls-verify", "--match-server-version", "--password",
        "--profile", "--profile-output", "--request-timeout", "--server", "-s", "--tls-server-name", "--token", "--user",
        "--username", "-v", "--v", "--vmodule", "--warnings-as-errors", "--kuberc", "--log-flush-frequency",
    ]

    /// Why `arguments` cannot run as given, or nil.
    public static func refusal(_ arguments: [String]) -> String? {
        for argument in arguments.prefix(while: { $0 != "--" }) {
            let flag = String(argument.prefix { $0 != "=" })
            if unreadKubectlFlags.contains(flag) {
                return "\(flag) is a kubectl flag kubectl gantry does not read: it reads --kubeconfig, --context and -n/--namespace; put the other settings in a kubeconfig context"
            }
        }
        return nil
    }

    /// `-nml` / `-n=ml` → `["-n", "ml"]`; anything else unchanged.
    static func splitShortOption(_ argument: String) -> [String] {
        let chars = Array(argument)
        guard chars.count > 2, chars[0] == "-", chars[1] != "-", shortValueOptions.contains(chars[1]) else { return [argument] }
        let value = chars[2] == "=" ? String(chars[3...]) : String(chars[2...])
        return ["-\(chars[1])", value]
    }
}
