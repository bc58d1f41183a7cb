import CCurl

/// One libcurl easy handle and the state of its exchange.
///
/// `@unchecked Sendable`: the easy handle, header list and response parse state are created and used only
/// on the loop thread (`CurlMultiLoop`); other threads only pass the object around and read `sink`.
final class CurlTransfer: @unchecked Sendable {
    let request: TransportRequest
    let sink: any TransferSink
    private(set) var easy: UnsafeMutableRawPointer?
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var connectTo: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private var status = 0
    private var headers: [(name: String, value: String)] = []
    private var headDelivered = false
    /// Set when the sink asked for a pause; cleared by `CurlMultiLoop.resume`.
    var paused = false

    init(request: TransportRequest, sink: any TransferSink) {
        self.request = request
        self.sink = sink
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        releaseHandle()
        errorBuffer.deallocate()
    }

    /// Creates and configures the easy handle (loop thread). Returns an error when libcurl rejects an option.
    func makeHandle() -> KubeClientError? {
        guard let easy = curl_easy_init() else { return .transport(code: Int(CURLE_OUT_OF_MEMORY.rawValue), message: "curl_easy_init failed") }
        self.easy = easy
        let context = Unmanaged.passUnretained(self).toOpaque()
        var rc = CURLE_OK
        func set(_ code: CURLcode) { if rc == CURLE_OK { rc = code } }

        set(ccurl_easy_setopt_string(easy, CURLOPT_URL, request.url))
        set(ccurl_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer))
        // Signals are process-wide; libcurl must not use them from a background thread.
        set(ccurl_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1))
        set(ccurl_easy_setopt_string(easy, CURLOPT_PROTOCOLS_STR, "http,https"))
        set(ccurl_easy_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1))
        // HTTP/2 over TLS when the server offers it (multiplexed on one connection), HTTP/1.1 keep-alive otherwise.
        set(ccurl_easy_setopt_long(easy, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_2TLS)))
        // Transfers started while the first connection is still being set up wait for it and multiplex on it
        // if it turns out to be HTTP/2, rather than each opening a connection of its own (client-go keeps one
        // HTTP/2 connection per server too).
        set(ccurl_easy_setopt_long(easy, CURLOPT_PIPEWAIT, 1))
        set(ccurl_easy_setopt_string(easy, CURLOPT_ACCEPT_ENCODING, ""))
        set(ccurl_easy_setopt_string(easy, CURLOPT_USERAGENT, request.userAgent))
        set(ccurl_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(request.connectTimeout)))
        if let timeout = request.timeout {
            set(ccurl_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, Self.milliseconds(timeout)))
        }

        switch request.method {
        case "GET": break
        case "HEAD": set(ccurl_easy_setopt_long(easy, CURLOPT_NOBODY, 1))
        default: set(ccurl_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, request.method))
        }
        if let body = request.body {
            // COPYPOSTFIELDS copies the bytes, so the array need not outlive this call; size first for binary bodies.
            set(ccurl_easy_setopt_off_t(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)))
            if body.isEmpty {
                set(ccurl_easy_setopt_string(easy, CURLOPT_COPYPOSTFIELDS, ""))
            } else {
                set(body.withUnsafeBytes { ccurl_easy_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: $0.baseAddress)) })
            }
        }

        // "Expect:" stops libcurl from waiting for 100-continue before sending large bodies.
        var list: UnsafeMutablePointer<curl_slist>? = curl_slist_append(nil, "Expect:")
        for (name, value) in request.headers { list = curl_slist_append(list, "\(name): \(value)") }
        headerList = list
        set(ccurl_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, list))

        configureTLS(easy, set: set)
        if let proxy = request.proxy {
            set(ccurl_easy_setopt_string(easy, CURLOPT_PROXY, proxy))
            set(ccurl_easy_setopt_string(easy, CURLOPT_NOPROXY, ""))  // an explicit proxy-url applies to every host
        }

        set(ccurl_set_write_callback(easy, curlWriteTrampoline, context))
        set(ccurl_set_header_callback(easy, curlHeaderTrampoline, context))
        if rc != CURLE_OK { return .transport(code: Int(rc.rawValue), message: "setting up the request: \(curlMessage(rc))") }
        return nil
    }

    private func configureTLS(_ easy: UnsafeMutableRawPointer, set: (CURLcode) -> Void) {
        let tls = request.tls
        if let ca = tls.caData {
            set(ca.withUnsafeBytes { ccurl_easy_setopt_blob(easy, CURLOPT_CAINFO_BLOB, $0.baseAddress, $0.count) })
        } else if let caFile = tls.caFile {
            set(ccurl_easy_setopt_string(easy, CURLOPT_CAINFO, caFile))
        }
        if let cert = tls.clientCertData {
            set(ccurl_easy_setopt_string(easy, CURLOPT_SSLCERTTYPE, "PEM"))
            set(cert.withUnsafeBytes { ccurl_easy_setopt_blob(easy, CURLOPT_SSLCERT_BLOB, $0.baseAddress, $0.count) })
        }
        if let key = tls.clientKeyData {
            set(ccurl_easy_setopt_string(easy, CURLOPT_SSLKEYTYPE, "PEM"))
            set(key.withUnsafeBytes { ccurl_easy_setopt_blob(easy, CURLOPT_SSLKEY_BLOB, $0.baseAddress, $0.count) })
        }
        if tls.insecureSkipVerify {
            set(ccurl_easy_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 0))
            set(ccurl_easy_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 0))
        }
        if let entry = tls.connectTo {
            connectTo = curl_slist_append(nil, entry)
            set(ccurl_easy_setopt_slist(easy, CURLOPT_CONNECT_TO, connectTo))
        }
    }

    /// Frees the easy handle and lists (loop thread, after the handle left the multi handle).
    func releaseHandle() {
        if let easy { curl_easy_cleanup(easy) }
        easy = nil
        curl_slist_free_all(headerList)
        headerList = nil
        curl_slist_free_all(connectTo)
        connectTo = nil
    }

    // MARK: callbacks (loop thread)

    func onHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        // Trim CR/LF as bytes: in Swift "\r\n" is one Character, so trimming Characters would miss it.
        var end = bytes.count
        while end > 0, bytes[end - 1] == 0x0D || bytes[end - 1] == 0x0A { end -= 1 }
        let line = Substring(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[0..<end]), as: UTF8.self))
        if line.hasPrefix("HTTP/") {
            // A new status line (after 100 Continue, or the final answer): start over.
            let parts = line.split(separator: " ", maxSplits: 2)
            status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
            headers = []
        } else if let colon = line.firstIndex(of: ":") {
            let name = String(line[..<colon])
            let value = line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
            headers.append((name: name, value: String(value)))
        }
    }

    func onBody(_ bytes: UnsafeRawBufferPointer) -> Int {
        deliverHeadIfNeeded()
        if sink.receiveBody(bytes) { return bytes.count }
        paused = true
        return ccurl_writefunc_pause()
    }

    private func deliverHeadIfNeeded() {
        guard !headDelivered else { return }
        headDelivered = true
        if status == 0, let easy {
            var code = 0
            _ = ccurl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &code)
            status = code
        }
        sink.receiveHead(status: status, headers: headers)
    }

    /// The multi handle reported the end of the transfer (loop thread).
    func finish(_ result: CURLcode) {
        if result == CURLE_OK {
            deliverHeadIfNeeded()
            sink.complete(nil)
        } else {
            sink.complete(transportError(result))
        }
    }

    func transportError(_ result: CURLcode) -> KubeClientError {
        if result == CURLE_OPERATION_TIMEDOUT, let timeout = request.timeout {
            return .timeout(seconds: Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18)
        }
        let detail = String(cString: errorBuffer)
        return .transport(code: Int(result.rawValue), message: detail.isEmpty ? curlMessage(result) : detail)
    }

    static func milliseconds(_ d: Duration) -> Int {
        let c = d.components
        return max(1, Int(c.seconds) * 1000 + Int(c.attoseconds / 1_000_000_000_000_000))
    }
}

// Capture-less trampolines handed to libcurl as C function pointers; userdata is the unretained CurlTransfer,
// kept alive by the loop's table of running transfers for as long as libcurl may call back.
let curlWriteTrampoline: ccurl_data_callback = { data, size, count, userdata in
    guard let userdata else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
    return transfer.onBody(UnsafeRawBufferPointer(start: data, count: size * count))
}

let curlHeaderTrampoline: ccurl_data_callback = { data, size, count, userdata in
    guard let userdata else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
    transfer.onHeaderLine(UnsafeRawBufferPointer(start: data, count: size * count))
    return size * count
}
