import CoreVideo
import PCARNCore

/// Times one installed model on one compute unit, as one entry of the latency result
/// (benchmarks/README.md).
///
/// The input is the package's default shape, the one Core ML prepares it for: the shape a range
/// package runs on the Neural Engine, and the one `MLComputePlan` describes. So the compute plan
/// (where each operation runs) is the plan of the shape actually timed; timing another shape of a
/// range package would put the plan of one shape beside the latency of another (issue 24: it timed
/// 256x256 while the plan was the 128x128 default's).
nonisolated enum Benchmarker {
    /// Untimed runs first (the first one is reported on its own), then timed runs.
    static let warmup = 3
    static let runs = 20

    /// `@concurrent`: on the concurrent executor, never the main actor. A failure is recorded in the
    /// entry (`latency_ms` null, the error); only cancellation is thrown.
    @concurrent
    static func measure(_ entry: InstalledModel, on unit: ComputeUnit) async throws -> LatencyReport.Entry {
        // Until the model says its default: the sidecar's tile, else [1, 1] ("not known", as the bench package writes).
        let declared = entry.sidecar.tiling.tile ?? [1, 1]
        var tile = (height: declared.first ?? 1, width: declared.last ?? 1)
        var loadMs: Double?
        var firstMs: Double?
        var plan: [String: Int]?
        do {
            let loaded = try await LoadedModel.load(entry, on: unit)
            loadMs = loaded.loadTime.milliseconds
            tile = (loaded.shapes.defaultShape.height, loaded.shapes.defaultShape.width)
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
