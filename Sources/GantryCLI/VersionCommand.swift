import ArgumentParser

/// Gantry's release, as the image tag in deploy/deployment.yaml names it. Changed by hand when a release is
/// cut; no build step stamps it (nor a git commit), so it says only what the source says.
public enum GantryVersion {
    public static let current = "0.1.0"
}

/// `gantry version`: the release this binary was built from (also `gantry --version`).
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print the Gantry release this binary was built from.")

    func run() {
        print("gantry \(GantryVersion.current)")
    }
}
