import FuzzEntries

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzContainerScript(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    FuzzEntry.fuzz("ContainerScript", data, size)
}
