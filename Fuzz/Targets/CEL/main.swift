import CFuzzerDriver
import Foundation
import FuzzEntries

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 { FuzzEntry.fuzz("CEL", data, size) }

// Whichever `main` the link keeps (libFuzzer's, or SwiftPM's entry point for this file), libFuzzer's driver runs.
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOne(data, size) })
