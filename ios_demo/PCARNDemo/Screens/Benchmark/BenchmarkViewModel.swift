import Combine
import Foundation
import PCARNCore

/// Runs every installed model on every compute unit, one after another (never two at once: they
/// would time each other), and writes the latency result for the share sheet.
@MainActor
final class BenchmarkViewModel: ObservableObject {
    let models: [InstalledModel]

    @Published private(set) var entries: [LatencyReport.Entry] = []
    @Published private(set) var isRunning = false
    /// "model · compute units (3 of 8)" while running.
    @Published private(set) var current: String? = nil
    @Published private(set) var reportURL: URL? = nil
    @Published private(set) var status: StatusLine? = nil

    private var task: Task<Void, Never>?

    init(models: [InstalledModel]) {
        self.models = models
    }

    func run() {
        guard !isRunning else { return }
        entries = []
        reportURL = nil
        status = nil
        isRunning = true
        let jobs = models.flatMap { model in ComputeUnit.allCases.map { (model, $0) } }
        task = Task {
            defer {
                isRunning = false
                current = nil
            }
            do {
                for (index, (model, unit)) in jobs.enumerated() {
                    current = "\(model.name) · \(unit.title) (\(index + 1) of \(jobs.count))"
                    let entry = try await Benchmarker.measure(model, on: unit)
                    entries.append(entry)
                }
                let report = LatencyReport(date: Date(), device: DeviceFacts.latencyDevice,
                                           tools: DeviceFacts.latencyTools, results: entries)
                let url = try await report.write(into: FileManager.default.temporaryDirectory)
                reportURL = url
                status = .info("Wrote \(url.lastPathComponent).")
            } catch is CancellationError {
                status = .info("Cancelled: no result file was written.")
            } catch {
                status = .error("Could not write the result", error)
            }
        }
    }

    func cancel() {
        task?.cancel()
    }
}
