import FuzzEntries

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMetricLines(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    FuzzEntry.fuzz("MetricLines", data, size)
}
