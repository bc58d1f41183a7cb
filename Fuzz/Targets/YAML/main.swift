import FuzzEntries

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzYAML(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    FuzzEntry.fuzz("YAML", data, size)
}
