/// A failure of a plugin verb at run time (not found, nothing to plot): printed as `Error: <message>` and exit
/// status 1, without the usage text a mistyped command gets (ValidationError).
struct PluginError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
