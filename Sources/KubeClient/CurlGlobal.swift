import CCurl

/// libcurl's global initialisation must run once before any handle exists, and is not thread-safe itself;
/// a Swift global `let` is initialised lazily exactly once under a lock, which is what we need.
let curlGlobalInit: Void = {
    _ = curl_global_init(Int(CURL_GLOBAL_ALL))
}()

/// Text of a CURLcode.
func curlMessage(_ code: CURLcode) -> String {
    guard let text = curl_easy_strerror(code) else { return "curl error \(code.rawValue)" }
    return String(cString: text)
}
