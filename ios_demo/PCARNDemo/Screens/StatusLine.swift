import SwiftUI

/// The one line under a screen's controls: what just happened, or what went wrong.
struct StatusLine: Equatable {
    enum Kind {
        case info
        case error
    }

    let kind: Kind
    let text: String

    static func info(_ text: String) -> StatusLine { StatusLine(kind: .info, text: text) }

    /// `error`'s description on one line: Core ML's can run to several, the first says what happened.
    static func error(_ context: String, _ error: Error) -> StatusLine {
        let reason = error.localizedDescription.split(separator: "\n").first.map(String.init) ?? ""
        return StatusLine(kind: .error, text: "\(context): \(reason)")
    }

    static func error(_ text: String) -> StatusLine { StatusLine(kind: .error, text: text) }
}

struct StatusLineView: View {
    let line: StatusLine

    var body: some View {
        Label(line.text, systemImage: line.kind == .error ? "exclamationmark.triangle.fill" : "info.circle")
            .font(.footnote)
            .foregroundStyle(line.kind == .error ? Color.red : Color.secondary)
            .fixedSize(horizontal: false, vertical: true)
    }
}
