import Foundation
import GantryAPI
import KubeClient
import KubeCore
import KubeRuntime
import Logging

/// Posts notifications to the platform's webhook (PlatformConfig `spec.notifications`) in the background: a
/// bounded queue, retries with backoff, and nothing a reconcile waits for. Only the leader reconciles, so only
/// the leader notifies; a plan marks an event `notify` once per transition, so nothing is sent twice.
public actor Notifier {
    public struct Message: Sendable, Hashable {
        public var text: String
        public init(text: String) { self.text = text }
    }

    let client: KubeClient
    let platform: @Sendable () async -> PlatformConfigSpec
    let poster: WebhookPoster?
    let stream: AsyncStream<Message>
    let continuation: AsyncStream<Message>.Continuation
    let retryDelays: [Duration]
    let logger = Logger(label: "gantry.notifications")

    public init(client: KubeClient, platform: @escaping @Sendable () async -> PlatformConfigSpec,
                retryDelays: [Duration] = [.seconds(1), .seconds(2), .seconds(4), .seconds(8)]) {
        self.client = client
        self.platform = platform
        self.retryDelays = retryDelays
        poster = try? WebhookPoster()
        // A webhook down for hours must not grow memory: the newest 256 wait, older ones are dropped.
        (stream, continuation) = AsyncStream.makeStream(of: Message.self, bufferingPolicy: .bufferingNewest(256))
    }

    /// Queues a message; returns at once.
    public nonisolated func send(_ message: Message) { continuation.yield(message) }

    /// Queues the notification of `event` on `object` (what, where, GPUs, the owner when annotated).
    public nonisolated func send(_ object: JSONValue, _ event: PlannedEvent) { send(Self.message(object, event)) }

    public static let ownerAnnotation = "gantry.dev/owner"

    static func message(_ object: JSONValue, _ event: PlannedEvent) -> Message {
        var text = "[gantry] \(object.kind ?? "object") \(object.namespace ?? "")/\(object.name ?? ""): \(event.reason): \(event.note)"
        if let gpus = object[path: "status", "gpus"]?.intValue, gpus > 0 { text += " (GPUs: \(gpus))" }
        if let owner = object.annotations[ownerAnnotation] { text += " (owner: \(owner))" }
        return Message(text: text)
    }

    /// Delivers queued messages one at a time until cancelled.
    public func run() async {
        for await message in stream {
            if Task.isCancelled { return }
            await deliver(message)
        }
    }

    func deliver(_ message: Message) async {
        guard let ref = await platform().notifications?.webhookSecretRef else { return }
        guard let poster else { return logger.error("notifications cannot be sent: libcurl could not start") }
        let url: String
        do {
            let secret = Secret(json: try await client.get(.secrets, namespace: ref.namespace, name: ref.name))
            guard let bytes = secret.value(ref.effectiveKey), !bytes.isEmpty else {
                return logger.warning("notification dropped: the Secret has no webhook URL", metadata: ["secret": "\(ref.namespace)/\(ref.name)", "key": "\(ref.effectiveKey)"])
            }
            url = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            return logger.warning("notification dropped: the webhook Secret cannot be read", metadata: ["secret": "\(ref.namespace)/\(ref.name)", "error": "\(error)"])
        }
        let body = JSONValue.object(["text": .string(message.text), "username": "gantry"]).serializedBytes()
        for attempt in 0...retryDelays.count {
            do {
                let response = try await poster.post(url: url, json: body)
                if (200..<300).contains(response.status) { return }
                // A refusal other than throttling will not change by retrying.
                if (400..<500).contains(response.status) && response.status != 429 {
                    return logger.warning("notification refused by the webhook", metadata: ["status": "\(response.status)"])
                }
            } catch {
                if Task.isCancelled { return }
            }
            guard attempt < retryDelays.count else { break }
            try? await Task.sleep(for: retryDelays[attempt])
        }
        logger.warning("notification dropped after retries", metadata: ["attempts": "\(retryDelays.count + 1)"])
    }
}
