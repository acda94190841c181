import PCARNCore
import SwiftUI

struct BenchmarkView: View {
    @StateObject private var viewModel: BenchmarkViewModel

    init(models: [InstalledModel]) {
        _viewModel = StateObject(wrappedValue: BenchmarkViewModel(models: models))
    }

    var body: some View {
        NavigationStack {
            List {
                Section {
                    Text("Each installed model on each compute unit: a fixed input of the model's tile size, "
                        + "\(Benchmarker.warmup) untimed runs, then \(Benchmarker.runs) timed. "
                        + "Load time is measured apart; it includes the Neural Engine's first compile.")
                        .font(.footnote)
                    controls
                    if let status = viewModel.status {
                        StatusLineView(line: status)
                    }
                }
                ForEach(viewModel.models) { model in
                    let rows = viewModel.entries.filter { $0.model == model.sidecar.file }
                    if !rows.isEmpty {
                        Section(model.name) {
                            ForEach(rows, id: \.backend) { LatencyRow(entry: $0) }
                        }
                    }
                }
            }
            .navigationTitle("Benchmark")
        }
    }

    @ViewBuilder private var controls: some View {
        if viewModel.isRunning {
            HStack {
                ProgressView()
                Text(viewModel.current ?? "")
                    .font(.footnote)
            }
            Button("Cancel", role: .cancel) { viewModel.cancel() }
        } else {
            Button {
                viewModel.run()
            } label: {
                Label("Run benchmark", systemImage: "stopwatch")
            }
        }
        if let url = viewModel.reportURL {
            ShareLink(item: url) {
                Label("Share latency JSON", systemImage: "square.and.arrow.up")
            }
        }
    }
}

/// One model on one compute unit: the median first, then what else was measured.
private struct LatencyRow: View {
    let entry: LatencyReport.Entry

    var body: some View {
        VStack(alignment: .leading, spacing: 2) {
            HStack {
                Text(entry.backend.title)
                Spacer()
                Text(entry.latencyMs.map { "\($0.p50.msText) median" } ?? "failed")
                    .bold()
            }
            Text(details)
                .font(.caption)
                .foregroundStyle(.secondary)
        }
        .monospacedDigit()
    }

    private var details: String {
        var parts: [String] = []
        if let stats = entry.latencyMs {
            parts.append("min \(stats.min.msText), p90 \(stats.p90.msText)")
        }
        if let load = entry.loadMs {
            parts.append("load \(load.msText)")
        }
        if let first = entry.firstInferenceMs {
            parts.append("first run \(first.msText)")
        }
        parts.append("\(entry.input[0])×\(entry.input[1]) input")
        parts.append("delegation \(entry.delegation.status.rawValue)")
        parts += entry.error.map { [$0] } ?? entry.delegation.messages ?? []
        return parts.joined(separator: " · ")
    }
}
