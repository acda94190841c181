import CoreML

/// A package loaded for one compute-unit choice, and what loading it cost.
struct LoadedModel {
    let entry: InstalledModel
    let unit: ComputeUnit
    let model: MLModel
    let loadTime: Duration

    /// Loads off the main actor (a nonisolated async function). Loading for the Neural Engine compiles
    /// the model for it the first time, which can take seconds (iOS caches the result), so the app
    /// shows load time apart from inference time.
    static func load(_ entry: InstalledModel, on unit: ComputeUnit) async throws -> LoadedModel {
        let start = ContinuousClock.Instant.start()
        let model = try await MLModel.load(contentsOf: entry.compiledURL, configuration: unit.configuration())
        return LoadedModel(entry: entry, unit: unit, model: model, loadTime: start.elapsed)
    }

    /// One inference: a BGRA tile in, the upscaled BGRA tile out. The feature names are the sidecar's.
    func predict(_ tile: CVPixelBuffer) throws -> CVPixelBuffer {
        let sidecar = entry.sidecar
        let input = try MLDictionaryFeatureProvider(dictionary: [sidecar.input.name: MLFeatureValue(pixelBuffer: tile)])
        let output = try model.prediction(from: input)
        guard let image = output.featureValue(for: sidecar.output.name)?.imageBufferValue else {
            throw InferenceError.missingOutput(sidecar.output.name)
        }
        return image
    }
}
