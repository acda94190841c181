import PCARNCore
import SwiftUI

/// Model and compute-unit choice, and how the load went. Changing either reloads the model.
struct ModelControls: View {
    @ObservedObject var viewModel: UpscaleViewModel

    var body: some View {
        VStack(alignment: .leading, spacing: 8) {
            Picker("Model", selection: $viewModel.selectedModelID) {
                ForEach(viewModel.models) { model in
                    Text(model.name).tag(model.id)
                }
            }
            .pickerStyle(.menu)
            if let model = viewModel.selectedModel {
                Text(model.summary)
                    .font(.footnote)
                    .foregroundStyle(.secondary)
                if let warning = model.warning {
                    StatusLineView(line: .error(warning))
                }
            }
            Picker("Compute units", selection: $viewModel.computeUnit) {
                ForEach(ComputeUnit.allCases) { unit in
                    Text(unit.shortTitle).tag(unit)
                }
            }
            .pickerStyle(.segmented)
            loadLine
                .font(.footnote)
        }
    }

    @ViewBuilder private var loadLine: some View {
        switch viewModel.modelState {
        case let .loading(unit):
            HStack {
                ProgressView()
                Text(unit.accelerators.contains(.neuralEngine)
                     ? "Loading for \(unit.title): a first Neural Engine load compiles the model and can take seconds."
                     : "Loading for \(unit.title)…")
            }
        case let .ready(model):
            Text("Loaded \(model.entry.name) for \(model.unit.title) in \(model.loadTime.shortText) (load time, apart from inference)")
                .foregroundStyle(.secondary)
        case .failed:
            Button("Load again") { viewModel.reloadModel() }
        }
    }
}
