import FuzzEntries

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCEL(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    FuzzEntry.fuzz("CEL", data, size)
}
