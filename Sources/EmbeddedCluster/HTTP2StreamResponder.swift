import NIOCore
import NIOHPACK
import NIOHTTP1
import NIOHTTP2

/// Answers one HTTP/2 stream in frames: collects the request, hands it to `APIServer`, writes the answer (whole,
/// or chunk by chunk for streams, each write awaited, so a reader's flow-control window paces the writes; the
/// producers behind a stream buffer within their own bounds). The stream closing (client reset, connection
/// loss) cancels the answer's task.
///
/// The last frame of an answer carries END_STREAM, as Go's http2 server (kube-apiserver) writes it: HEADERS for an
/// empty body or a HEAD, the DATA frame of the body otherwise (NIO's HTTP/1 codec sent an empty DATA frame after
/// it, which a client done by the Content-Length found still open). Client resets are tolerated by the backend's
/// stream configuration (`HTTP2Backend.start`).
final class HTTP2StreamResponder: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    /// The request head as HEADERS carried it.
    private struct Head {
        var method: String
        var target: String
        var fields: [(String, String)]
    }

    let api: APIServer
    let answers: InflightAnswers
    private var head: Head?
    private var body: [UInt8] = []
    /// Answered without its body (401 before the body, 413 past the limit): the rest is dropped as it arrives.
    private var refusal: APIResponse?
    /// Set once the request ended: trailers and stray frames after it change nothing.
    private var answered = false
    private var task: Task<Void, Never>?

    init(api: APIServer, answers: InflightAnswers) {
        self.api = api
        self.answers = answers
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        switch unwrapInboundIn(data) {
        case .headers(let frame):
            if head == nil {
                // NIO validated the block (pseudo-headers present, once, first); a stream without them is reset.
                guard let method = frame.headers.first(name: ":method"), let target = frame.headers.first(name: ":path") else {
                    context.close(promise: nil)
                    return
                }
                // Regular fields, with :authority as Host (what an HTTP/1.1 request carries).
                var fields: [(String, String)] = frame.headers.first(name: ":authority").map { [("host", $0)] } ?? []
                for (name, value, _) in frame.headers where !name.hasPrefix(":") { fields.append((name, value)) }
                let h = Head(method: method, target: target, fields: fields)
                head = h
                refusal = api.refusalBeforeBody(request(h, context.channel))
            }
            if frame.endStream { answer(context.channel) }
        case .data(let frame):
            if refusal == nil, case .byteBuffer(let buffer) = frame.data {
                body.append(contentsOf: buffer.readableBytesView)
                if body.count > APIServer.maxRequestBody, let head {
                    refusal = api.refuseOversizedBody(request(head, context.channel))
                    body = []
                }
            }
            if frame.endStream { answer(context.channel) }
        default:
            break
        }
    }

    private func answer(_ channel: any Channel) {
        guard let head else { return }
        answered = true
        let isHead = head.method == "HEAD"
        if let refusal {
            task = answers.run { await Self.write(refusal, to: channel, isHead: isHead) }
            return
        }
        var apiRequest = request(head, channel)
        apiRequest.body = body
        body = []
        let api = self.api
        task = answers.run { [apiRequest] in await Self.write(await api.handle(apiRequest), to: channel, isHead: isHead) }
    }

    private func request(_ head: Head, _ channel: any Channel) -> APIRequest {
        let target = head.target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        return APIRequest(method: head.method, path: target.first.map(String.init) ?? "/",
                          rawQuery: target.count > 1 ? String(target[1]) : nil, headers: APIRequest.foldHeaders(head.fields),
                          body: [], connection: channel.parent.flatMap { Authenticator.Connection($0) }, httpVersion: "HTTP/2")
    }

    func channelInactive(context: ChannelHandlerContext) {
        task?.cancel()
        task = nil
        context.fireChannelInactive()
    }

    /// A HEAD answer has the headers (content-length included) and no DATA, as RFC 9110 §9.3.2 requires.
    static func write(_ response: APIResponse, to channel: any Channel, isHead: Bool) async {
        var fields = HTTPHeaders([(":status", String(response.status))])
        for (name, value) in response.headers { fields.add(name: name, value: value) }
        if case .bytes(let bytes) = response.body { fields.replaceOrAdd(name: "content-length", value: String(bytes.count)) }
        // Lowercased names, connection-specific fields (Connection, Keep-Alive, Transfer-Encoding, …) dropped: HTTP/2
        // forbids them (RFC 9113 §8.2.2) and clients treat one as a protocol error.
        let headers = HPACKHeaders(httpHeaders: fields, normalizeHTTPHeaders: true)
        func data(_ bytes: [UInt8], end: Bool) -> HTTP2Frame.FramePayload {
            .data(.init(data: .byteBuffer(ByteBuffer(bytes: bytes)), endStream: end))
        }
        do {
            switch response.body {
            case .bytes(let bytes) where isHead || bytes.isEmpty:
                try await channel.writeAndFlush(HTTP2Frame.FramePayload.headers(.init(headers: headers, endStream: true))).get()
            case .bytes(let bytes):
                channel.write(HTTP2Frame.FramePayload.headers(.init(headers: headers)), promise: nil)
                try await channel.writeAndFlush(data(bytes, end: true)).get()
            case .stream(let chunks):
                // The head goes out at once: a watch's client learns it started before the first event.
                try await channel.writeAndFlush(HTTP2Frame.FramePayload.headers(.init(headers: headers, endStream: isHead))).get()
                if isHead { return }
                for await chunk in chunks { try await channel.writeAndFlush(data(chunk, end: false)).get() }
                try await channel.writeAndFlush(data([], end: true)).get()
            }
        } catch {
            // The stream is gone (reset by the client or the connection closed): nothing left to answer.
            channel.close(promise: nil)
        }
    }
}
