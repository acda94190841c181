import Foundation

extension LatencyReport {
    public init(date: Date, device: Device, tools: [String: String], results: [Entry]) {
        self.init(createdUTC: ISO8601DateFormatter().string(from: date), device: device, tools: tools, results: results)
    }

    /// Pretty, sorted JSON: the same bytes for the same figures, easy to diff between phones.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// Writes `latency-ios-app-<time>.json` into `directory` (a nonisolated async function: off the
    /// main actor) and returns its URL, for the share sheet.
    public func write(into directory: URL) async throws -> URL {
        let stamp = createdUTC.filter { $0.isNumber || $0 == "T" }
        let url = directory.appendingPathComponent("latency-\(harness)-\(stamp).json")
        try encoded().write(to: url, options: .atomic)
        return url
    }
}
