import PCARNCore
import PhotosUI
import SwiftUI

/// The upscale screen's state. Everything slow (loading a model, decoding, tiling, encoding) runs in
/// `@concurrent` functions, on the concurrent executor; this class only starts, cancels and
/// publishes, on the main actor.
@MainActor
final class UpscaleViewModel: ObservableObject {
    enum ModelState {
        case loading(ComputeUnit)
        case ready(LoadedModel)
        case failed
    }

    struct TileProgress {
        var done = 0
        let total: Int
        var lastTile: Duration?
    }

    struct Output {
        let image: CGImage
        let preview: CGImage
        /// Milliseconds per model call, in tile order.
        let tileMs: [Double]
        /// From the tap to the finished bitmap: decoding, copies and every tile.
        let total: Duration
        let unit: ComputeUnit
    }

    /// Each network once: the compute-unit choice decides which of its packages loads (`ModelChoice`).
    let models: [ModelChoice]

    @Published var selectedModelID: ModelChoice.ID {
        didSet { if selectedModelID != oldValue { reloadModel() } }
    }
    @Published var computeUnit: ComputeUnit = .coreMLDefault {
        didSet { if computeUnit != oldValue { reloadModel() } }
    }
    @Published var pickedItem: PhotosPickerItem? = nil {
        didSet { loadPhoto() }
    }
    @Published private(set) var modelState: ModelState
    @Published private(set) var photo: Photo? = nil
    @Published private(set) var isRunning = false
    /// Set once the photo is decoded and its plan known.
    @Published private(set) var progress: TileProgress? = nil
    @Published private(set) var result: Output? = nil
    @Published private(set) var isSaving = false
    @Published private(set) var status: StatusLine? = nil

    private var loadTask: Task<Void, Never>?
    private var photoTask: Task<Void, Never>?
    private var runTask: Task<Void, Never>?
    /// Why the running upscale was stopped, for the line that reports it (nil: the Cancel button).
    private var stopReason: String?
    /// Milliseconds per model call of the running upscale, in tile order.
    private var tileMs: [Double] = []

    /// `models` is not empty: the root view shows how to install models instead of this screen.
    init(models: [ModelChoice]) {
        self.models = models
        selectedModelID = models[0].id
        modelState = .loading(.coreMLDefault)
        reloadModel()
    }

    var selectedModel: ModelChoice? { models.first { $0.id == selectedModelID } }

    /// The tiles for the picked photo with the loaded model, decided from sizes alone.
    private func plan(for photo: Photo, with model: LoadedModel) throws -> TilePlan {
        try TilePlan(height: photo.height, width: photo.width, sizing: model.sizing(height: photo.height, width: photo.width),
                     overlap: model.entry.sidecar.tiling.overlap)
    }

    /// Why the photo cannot be upscaled with the loaded model, decided from sizes alone (an 8000x6000
    /// photo at x4 is refused here, before a byte is allocated); nil when it can.
    var refusal: String? {
        guard let photo, case let .ready(model) = modelState else { return nil }
        do {
            try DeviceFacts.outputBudget.check(plan: plan(for: photo, with: model), scale: model.entry.sidecar.scale,
                                               previewSide: PhotoIO.previewSide)
            return nil
        } catch {
            return error.localizedDescription
        }
    }

    var canUpscale: Bool {
        guard case .ready = modelState, photo != nil, refusal == nil else { return false }
        return !isRunning
    }

    /// A new model or compute-unit choice (or a retry): the loaded model no longer matches it, so a
    /// running upscale stops and the model is loaded again (Neural Engine loads can take seconds).
    func reloadModel() {
        stopRun(because: "the model or compute units changed")
        loadTask?.cancel()
        guard let choice = selectedModel else { return }
        let unit = computeUnit
        let entry = choice.package(for: unit)  // Neural Engine: enumerated shapes; CPU/GPU: the range package
        modelState = .loading(unit)
        loadTask = Task {
            do {
                let loaded = try await LoadedModel.load(entry, on: unit)
                try Task.checkCancellation()
                modelState = .ready(loaded)
            } catch is CancellationError {
                // A newer choice replaced this load.
            } catch {
                modelState = .failed
                status = .error("Could not load \(entry.name) for \(unit.title)", error)
            }
        }
    }

    private func loadPhoto() {
        guard let item = pickedItem else { return }
        stopRun(because: "another photo was picked")
        photoTask?.cancel()
        photoTask = Task {
            do {
                guard let data = try await item.loadTransferable(type: Data.self) else {
                    throw InferenceError.unreadablePhoto
                }
                let picked = try await PhotoIO.inspect(data)
                try Task.checkCancellation()
                photo = picked
                result = nil
                status = nil
            } catch is CancellationError {
                // Another photo was picked meanwhile.
            } catch {
                status = .error("Could not open the photo", error)
            }
        }
    }

    func upscale() {
        guard canUpscale, case let .ready(model) = modelState, let photo else { return }
        result = nil
        status = nil
        stopReason = nil
        isRunning = true
        runTask = Task {
            let started = ContinuousClock.Instant.start()
            tileMs = []
            defer {
                isRunning = false
                progress = nil
            }
            do {
                let image = try await PhotoIO.decode(photo)
                guard image.width == photo.width, image.height == photo.height else { throw InferenceError.unreadablePhoto }
                let plan = try plan(for: photo, with: model)
                progress = TileProgress(total: plan.count)
                let output = try await TiledUpscaler(model: model).upscale(image, plan: plan) { [weak self] tile in
                    self?.tileMs.append(tile.duration.milliseconds)
                    self?.progress?.done = tile.index + 1
                    self?.progress?.lastTile = tile.duration
                }
                let preview = try await PhotoIO.preview(of: output)
                result = Output(image: output, preview: preview, tileMs: tileMs, total: started.elapsed,
                                unit: model.unit)
            } catch is CancellationError {
                let done = progress.map { "after \($0.done) of \($0.total) tiles" } ?? "before the first tile"
                status = .info("Stopped \(done)" + (stopReason.map { ": \($0)" } ?? "") + "; nothing was kept.")
            } catch {
                status = .error("Upscaling failed", error)
            }
        }
    }

    func cancel() {
        runTask?.cancel()
    }

    private func stopRun(because reason: String) {
        guard isRunning else { return }
        stopReason = reason
        runTask?.cancel()
    }

    func save() {
        guard let result, !isSaving else { return }
        isSaving = true
        Task {
            defer { isSaving = false }
            do {
                try await PhotoIO.saveToPhotos(result.image)
                status = .info("Saved \(result.image.width)×\(result.image.height) to Photos.")
            } catch {
                status = .error("Could not save", error)
            }
        }
    }
}
