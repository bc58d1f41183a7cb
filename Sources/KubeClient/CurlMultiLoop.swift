import CCurl
import Foundation
import Synchronization

/// Drives every transfer of one `KubeClient` on a single dedicated thread with a libcurl multi handle.
///
/// Why this design: libcurl handles are not thread-safe, and `curl_easy_perform` blocks its thread for the
/// whole transfer (a watch can last minutes). One thread running `curl_multi_poll` owns all handles, so
/// no Swift concurrency thread ever blocks on the network; other threads talk to it through a command inbox
/// and `curl_multi_wakeup`, which libcurl documents as callable from any thread. The multi handle keeps one
/// connection cache for all transfers (HTTP/1.1 keep-alive, HTTP/2 multiplexing), cancelling is
/// `curl_multi_remove_handle` (immediate, no polling of a progress callback), and a paused stream simply
/// stops being read, which gives TCP backpressure to the server.
///
/// `@unchecked Sendable`: `multi` and `running` are touched only on the loop thread; the inbox is a Mutex.
final class CurlMultiLoop: @unchecked Sendable {
    private enum Command {
        case add(CurlTransfer)
        case cancel(CurlTransfer, any Error)
        case resume(CurlTransfer)
        case stop
    }

    private let multi: UnsafeMutableRawPointer
    private let inbox = Mutex<(commands: [Command], stopped: Bool)>(([], false))
    private var running: [UnsafeMutableRawPointer: CurlTransfer] = [:]

    init() throws(KubeClientError) {
        curlGlobalInit
        guard let multi = curl_multi_init() else { throw .transport(code: 2, message: "curl_multi_init failed") }
        self.multi = multi
        _ = ccurl_multi_setopt_long(multi, CURLMOPT_PIPELINING, Int(CURLPIPE_MULTIPLEX))
        // Keep more idle connections than the default (4 per started transfer) so bursts reuse them.
        _ = ccurl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, 32)
        let thread = Thread { [self] in run() }
        thread.name = "gantry-curl"
        thread.start()
    }

    /// Starts a transfer; its sink hears everything that happens to it.
    func submit(_ transfer: CurlTransfer) {
        if !post(.add(transfer)) { transfer.sink.complete(KubeClientError.shutdown) }
    }

    /// Aborts a transfer; its sink completes with `error` (unless it already completed).
    func cancel(_ transfer: CurlTransfer, error: any Error = CancellationError()) {
        _ = post(.cancel(transfer, error))
    }

    /// Un-pauses a transfer whose sink made room again.
    func resume(_ transfer: CurlTransfer) {
        _ = post(.resume(transfer))
    }

    /// Aborts every transfer and ends the thread. Idempotent.
    func stop() {
        _ = post(.stop)
    }

    private func post(_ command: Command) -> Bool {
        inbox.withLock { state -> Bool in
            if state.stopped { return false }
            state.commands.append(command)
            if case .stop = command { state.stopped = true }
            // Under the lock: the loop thread frees `multi` under it once it has read `.stop`. Woken after the
            // lock, a client's deinit (`stop`) raced the loop's cleanup and wrote into a freed handle ("double
            // free or corruption" as a CLI command exited). curl_multi_wakeup only writes to a socket pair.
            curl_multi_wakeup(multi)
            return true
        }
    }

    // MARK: loop thread

    private func run() {
        var stopping = false
        while !stopping {
            let commands = inbox.withLock { state -> [Command] in
                defer { state.commands = [] }
                return state.commands
            }
            for command in commands {
                switch command {
                case .add(let transfer): start(transfer)
                case .cancel(let transfer, let error): abort(transfer, error)
                case .resume(let transfer):
                    if let easy = transfer.easy, running[easy] != nil, transfer.paused {
                        transfer.paused = false
                        // May call the write callback right away with the bytes it held back.
                        _ = curl_easy_pause(easy, ccurl_pause_cont())
                    }
                case .stop: stopping = true
                }
            }
            if stopping { break }

            var stillRunning: Int32 = 0
            _ = curl_multi_perform(multi, &stillRunning)
            collectFinished()
            // Drop transfers whose consumer went away while they were paused or idle.
            for (easy, transfer) in running where transfer.sink.isFinished {
                remove(easy, transfer)
            }
            var fds: Int32 = 0
            _ = curl_multi_poll(multi, nil, 0, 1000, &fds)
        }
        for (easy, transfer) in running {
            remove(easy, transfer)
            transfer.sink.complete(KubeClientError.shutdown)
        }
        inbox.withLock { _ in _ = curl_multi_cleanup(multi) }
    }

    private func start(_ transfer: CurlTransfer) {
        if transfer.sink.isFinished { return }  // cancelled before it began
        if let error = transfer.makeHandle() {
            transfer.releaseHandle()
            transfer.sink.complete(error)
            return
        }
        guard let easy = transfer.easy else { return }
        running[easy] = transfer
        let rc = curl_multi_add_handle(multi, easy)
        if rc != CURLM_OK {
            running[easy] = nil
            transfer.releaseHandle()
            transfer.sink.complete(KubeClientError.transport(code: Int(rc.rawValue), message: "curl_multi_add_handle failed"))
        }
    }

    private func abort(_ transfer: CurlTransfer, _ error: any Error) {
        if let easy = transfer.easy, running[easy] != nil { remove(easy, transfer) }
        transfer.sink.complete(error)
    }

    private func remove(_ easy: UnsafeMutableRawPointer, _ transfer: CurlTransfer) {
        _ = curl_multi_remove_handle(multi, easy)
        running[easy] = nil
        transfer.releaseHandle()
    }

    private func collectFinished() {
        var left: Int32 = 0
        while let message = curl_multi_info_read(multi, &left) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
                let transfer = running[easy]
            else { continue }
            let result = message.pointee.data.result
            _ = curl_multi_remove_handle(multi, easy)
            running[easy] = nil
            transfer.finish(result)
            transfer.releaseHandle()
        }
    }
}
