import PCARNCore
import PhotosUI
import SwiftUI

struct UpscaleView: View {
    @StateObject private var viewModel: UpscaleViewModel
    private let problems: [String]

    init(catalog: ModelCatalog) {
        _viewModel = StateObject(wrappedValue: UpscaleViewModel(models: catalog.choices))
        problems = catalog.problems
    }

    var body: some View {
        NavigationStack {
            ScrollView {
                VStack(alignment: .leading, spacing: 16) {
                    ModelControls(viewModel: viewModel)
                    Divider()
                    photoSection
                    runSection
                    if let status = viewModel.status {
                        StatusLineView(line: status)
                    }
                    ForEach(problems, id: \.self) { StatusLineView(line: .error($0)) }
                }
                .padding()
            }
            .navigationTitle("Upscale")
        }
    }

    @ViewBuilder private var photoSection: some View {
        PhotosPicker(selection: $viewModel.pickedItem, matching: .images, preferredItemEncoding: .current) {
            Label(viewModel.photo == nil ? "Choose a photo" : "Choose another photo", systemImage: "photo.on.rectangle")
        }
        if let photo = viewModel.photo, let model = viewModel.selectedModel {
            let scale = model.scale
            Text("\(photo.width)×\(photo.height) → \(photo.width * scale)×\(photo.height * scale) at x\(scale)")
                .font(.footnote)
                .foregroundStyle(.secondary)
            if let refusal = viewModel.refusal {
                StatusLineView(line: .error(refusal))
            }
            if let result = viewModel.result {
                BeforeAfterView(before: photo.preview, after: result.preview)
            } else {
                Image(decorative: photo.preview, scale: 1)
                    .resizable()
                    .scaledToFit()
                    .clipShape(RoundedRectangle(cornerRadius: 8))
            }
        }
    }

    @ViewBuilder private var runSection: some View {
        if viewModel.isRunning {
            if let progress = viewModel.progress {
                ProgressView(value: Double(progress.done), total: Double(progress.total))
                let last = progress.lastTile.map { ", last \($0.shortText)" } ?? ""
                Text("Tile \(progress.done) of \(progress.total)\(last)")
                    .font(.footnote)
                    .monospacedDigit()
            } else {
                ProgressView("Decoding the photo…")
            }
            Button("Cancel", role: .cancel) { viewModel.cancel() }
                .buttonStyle(.bordered)
        } else {
            Button {
                viewModel.upscale()
            } label: {
                Label("Upscale", systemImage: "wand.and.stars")
            }
            .buttonStyle(.borderedProminent)
            .disabled(!viewModel.canUpscale)
        }
        if let result = viewModel.result {
            ResultSummary(result: result)
            Button {
                viewModel.save()
            } label: {
                Label(viewModel.isSaving ? "Saving…" : "Save to Photos", systemImage: "square.and.arrow.down")
            }
            .disabled(viewModel.isSaving)
        }
    }
}

/// Latency of the finished run: every tile's model call, and the whole run.
private struct ResultSummary: View {
    let result: UpscaleViewModel.Output

    var body: some View {
        VStack(alignment: .leading, spacing: 4) {
            Text("\(result.image.width)×\(result.image.height) in \(result.total.shortText) on \(result.unit.title)")
                .font(.subheadline)
            if let stats = LatencyReport.Stats(samples: result.tileMs) {
                Text("\(result.tileMs.count) tiles: min \(stats.min.msText), median \(stats.p50.msText), "
                    + "max \(stats.max.msText) per tile (the first one includes Core ML's warm-up)")
                    .font(.footnote)
                    .foregroundStyle(.secondary)
            }
        }
        .monospacedDigit()
    }
}
