import CoreVideo

/// Times one installed model on one compute unit with a fixed input of its tile size, as one entry
/// of the latency result (benchmarks/README.md).
enum Benchmarker {
    /// Untimed runs first (the first one is reported on its own), then timed runs.
    static let warmup = 3
    static let runs = 20

    /// A nonisolated async function: it runs off the main actor. A failure is recorded in the entry
    /// (`latency_ms` null, the error); only cancellation is thrown.
    static func measure(_ entry: InstalledModel, on unit: ComputeUnit) async throws -> LatencyReport.Entry {
        let tile = entry.tileSizing.tileSize
        var loadMs: Double?
        var firstMs: Double?
        var plan: [String: Int]?
        do {
            let loaded = try await LoadedModel.load(entry, on: unit)
            loadMs = loaded.loadTime.milliseconds
            plan = try? await ComputePlanReport.deviceCounts(of: entry, on: unit)
            let input = try PixelBuffers.benchmarkInput(width: tile.width, height: tile.height)
            var timed: [Double] = []
            for run in 0..<(warmup + runs) {
                try Task.checkCancellation()
                let start = ContinuousClock.Instant.start()
                _ = try loaded.predict(input)
                let ms = start.elapsed.milliseconds
                if run == 0 { firstMs = ms }
                if run >= warmup { timed.append(ms) }
            }
            return makeEntry(entry, unit, tile, latency: LatencyReport.Stats(samples: timed), loadMs: loadMs,
                             firstMs: firstMs, plan: plan, delegation: .init(unit: unit, computePlan: plan), error: nil)
        } catch let cancelled as CancellationError {
            throw cancelled
        } catch {
            let reason = error.localizedDescription
            return makeEntry(entry, unit, tile, latency: nil, loadMs: loadMs, firstMs: firstMs, plan: plan,
                             delegation: .failed(reason), error: reason)
        }
    }

    private static func makeEntry(_ entry: InstalledModel, _ unit: ComputeUnit, _ tile: (height: Int, width: Int),
                                  latency: LatencyReport.Stats?, loadMs: Double?, firstMs: Double?,
                                  plan: [String: Int]?, delegation: LatencyReport.Delegation,
                                  error: String?) -> LatencyReport.Entry {
        let sidecar = entry.sidecar
        let finished = latency != nil  // a failed measurement timed nothing
        return LatencyReport.Entry(
            model: sidecar.file, precision: sidecar.precision, variant: sidecar.variant, scale: sidecar.scale,
            groups: sidecar.groups, backend: unit, input: [tile.height, tile.width],
            runs: finished ? runs : 0, warmup: finished ? warmup : 0,
            latencyMs: latency, loadMs: loadMs, firstInferenceMs: firstMs, computePlan: plan,
            delegation: delegation, error: error)
    }
}
