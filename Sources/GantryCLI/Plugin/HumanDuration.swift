import Foundation
import KubeCore

/// Ages as kubectl prints them (apimachinery's `duration.HumanDuration`): precise while short, coarser as they
/// grow (`90s`, `4m10s`, `25m`, `5h3m`, `30h`, `3d4h`, `45d`, `2y10d`). Pure: `now` is given.
enum HumanDuration {
    static func since(_ timestamp: String?, now: Date) -> String {
        guard let timestamp, let date = Timestamp.parse(timestamp) else { return "-" }
        return format(seconds: Int(now.timeIntervalSince(date).rounded(.down)))
    }

    static func format(seconds total: Int) -> String {
        if total < -1 { return "<invalid>" }
        let s = max(total, 0), minutes = s / 60, hours = minutes / 60, days = hours / 24
        func pair(_ big: Int, _ bigUnit: String, _ small: Int, _ smallUnit: String) -> String {
            small == 0 ? "\(big)\(bigUnit)" : "\(big)\(bigUnit)\(small)\(smallUnit)"
        }
        switch s {
        case ..<120: return "\(s)s"
        case ..<600: return pair(minutes, "m", s % 60, "s")
        case ..<(3 * 3600): return "\(minutes)m"
        case ..<(8 * 3600): return pair(hours, "h", minutes % 60, "m")
        case ..<(48 * 3600): return "\(hours)h"
        case ..<(8 * 86400): return pair(days, "d", hours % 24, "h")
        case ..<(730 * 86400): return "\(days)d"
        case ..<(8 * 365 * 86400): return pair(days / 365, "y", days % 365, "d")
        default: return "\(days / 365)y"
        }
    }
}
