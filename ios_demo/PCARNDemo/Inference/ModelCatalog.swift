import Foundation

/// A compiled model in the app bundle, with the sidecar of the package it was compiled from.
struct InstalledModel: Identifiable {
    /// The tile side fed to packages that take a range of sizes (the default 16..512): large enough
    /// that the 24-px overlaps cost about half again the work ((256 / 208)^2), small enough for
    /// quick progress and cancellation between tiles.
    static let preferredTile = 256

    let compiledURL: URL
    let sidecar: Sidecar

    var id: String { sidecar.file }

    /// The package's name without `.mlpackage`.
    var name: String { compiledURL.deletingPathExtension().lastPathComponent }

    var tileSizing: TileSizing { sidecar.tileSizing(preferredTile: Self.preferredTile) }

    /// "x4 · fp16 · 256-px tiles".
    var summary: String {
        var parts = ["x\(sidecar.scale)", sidecar.precision]
        if let compress = sidecar.compress, compress != "none" {
            parts.append("\(compress) weights")
        }
        let tile = tileSizing.tileSize
        parts.append(tile.height == tile.width ? "\(tile.width)-px tiles" : "\(tile.height)×\(tile.width) tiles")
        return parts.joined(separator: " · ")
    }

    /// What the sidecar says a user must know before trusting the output.
    var warning: String? {
        if sidecar.weights.kind == "random-init" {
            return "Untrained weights (--random-init): the output is noise."
        }
        if sidecar.parity.verdict != "OK" {
            return "This package failed its parity check against PyTorch (\(sidecar.parity.verdict))."
        }
        return nil
    }
}

/// The models Xcode built into the app. `PCARNDemo/Models` is a buildable folder: every `X.mlpackage`
/// installed there is compiled to `X.mlmodelc` and its sidecar `X.mlpackage.json` copied, both to
/// the top level of the bundle. Nothing is hard-coded, so the app runs whatever was installed.
struct ModelCatalog {
    /// What puts the models into `PCARNDemo/Models`; the app shows it when there are none.
    static let installCommand = "python -m pcarn_mobile.convert --target coreml --ios-demo"

    let models: [InstalledModel]
    /// One line per compiled model the app cannot run (no sidecar, tensor I/O, a newer schema).
    let problems: [String]

    static func load(from bundle: Bundle = .main) -> ModelCatalog {
        var models: [InstalledModel] = []
        var problems: [String] = []
        let compiled = (bundle.urls(forResourcesWithExtension: "mlmodelc", subdirectory: nil) ?? [])
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        for url in compiled {
            let name = url.deletingPathExtension().lastPathComponent
            guard let sidecarURL = bundle.url(forResource: "\(name).mlpackage", withExtension: "json") else {
                problems.append("\(name): no sidecar \(name).mlpackage.json; reinstall with \(installCommand)")
                continue
            }
            do {
                let sidecar = try JSONDecoder().decode(Sidecar.self, from: Data(contentsOf: sidecarURL))
                if let reason = sidecar.unsupportedReason {
                    problems.append("\(name): \(reason)")
                } else {
                    models.append(InstalledModel(compiledURL: url, sidecar: sidecar))
                }
            } catch {
                problems.append("\(name): unreadable sidecar (\(error.localizedDescription))")
            }
        }
        return ModelCatalog(models: models, problems: problems)
    }
}
