import CoreML
import PCARNCore

/// A package loaded for one compute-unit choice, the input shapes Core ML compiled it for, and what
/// loading it cost.
///
/// `nonisolated`: under Xcode 26's default main-actor isolation every type of the app is main-actor
/// isolated unless it says otherwise; this one is used from the concurrent executor.
nonisolated struct LoadedModel: @unchecked Sendable {  // MLModel predictions are thread-safe (Core ML docs)
    let entry: InstalledModel
    let unit: ComputeUnit
    let model: MLModel
    /// From the model description: what Core ML compiled, which the Neural Engine is limited to.
    let shapes: PackageShapes
    let loadTime: Duration

    /// Loads on the concurrent executor (`@concurrent`: in Swift 6.2 a plain nonisolated async
    /// function runs on its caller's actor, the main actor here). Loading for the Neural Engine
    /// compiles the model for it the first time, which can take seconds (iOS caches the result), so
    /// the app shows load time apart from inference time.
    @concurrent
    static func load(_ entry: InstalledModel, on unit: ComputeUnit) async throws -> LoadedModel {
        let start = ContinuousClock.Instant.start()
        let model = try await MLModel.load(contentsOf: entry.compiledURL, configuration: unit.configuration())
        let shapes = try packageShapes(of: model.modelDescription, input: entry.sidecar.input.name)
        if let declared = entry.sidecar.shapes, let mismatch = shapes.mismatch(with: declared) {
            throw InferenceError.shapes(mismatch)
        }
        return LoadedModel(entry: entry, unit: unit, model: model, shapes: shapes, loadTime: start.elapsed)
    }

    /// The image input's sizes as Core ML sees them: its default (`pixelsWide`/`pixelsHigh`), and
    /// its enumerated sizes or its range.
    private static func packageShapes(of description: MLModelDescription, input name: String) throws -> PackageShapes {
        guard let constraint = description.inputDescriptionsByName[name]?.imageConstraint else {
            throw InferenceError.missingOutput(name)
        }
        let defaultShape = TileShape(height: constraint.pixelsHigh, width: constraint.pixelsWide)
        let sizes = constraint.sizeConstraint
        switch sizes.type {
        case .enumerated:
            return PackageShapes(kind: .enumerated(sizes.enumeratedImageSizes.map {
                TileShape(height: $0.pixelsHigh, width: $0.pixelsWide)
            }), defaultShape: defaultShape)
        case .range:
            let (high, wide) = (sizes.pixelsHighRange, sizes.pixelsWideRange)
            // The exporter makes square ranges (`--dynamic LO..HI`); the common part is what both sides take.
            let low = max(high.location, wide.location)
            let top = min(high.location + high.length, wide.location + wide.length)
            return PackageShapes(kind: .range(low...max(low, top)), defaultShape: defaultShape)
        case .unspecified:
            return PackageShapes(kind: .fixed(defaultShape), defaultShape: defaultShape)
        @unknown default:
            return PackageShapes(kind: .fixed(defaultShape), defaultShape: defaultShape)
        }
    }

    /// The tiles for a `height`x`width` photo with this model on these compute units: Core ML's
    /// precompiled shapes where the Neural Engine may run it, the fewest computed pixels otherwise.
    func sizing(height: Int, width: Int) throws -> TileSizing {
        try shapes.sizing(height: height, width: width, overlap: entry.sidecar.tiling.overlap, unit: unit,
                          maxTileArea: entry.sidecar.maxTileArea)
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
