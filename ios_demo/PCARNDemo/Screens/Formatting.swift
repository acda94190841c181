import Foundation
import PCARNCore

extension Double {
    /// Milliseconds as "8.4 ms" or "85 ms".
    var msText: String { String(format: self < 10 ? "%.1f ms" : "%.0f ms", self) }
}

extension Duration {
    /// "85 ms" below a second, "4.21 s" from there.
    var shortText: String {
        milliseconds < 1_000 ? milliseconds.msText : String(format: "%.2f s", milliseconds / 1_000)
    }
}
