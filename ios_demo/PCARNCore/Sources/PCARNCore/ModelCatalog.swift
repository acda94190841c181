import Foundation

/// A compiled model in the app bundle, with the sidecar of the package it was compiled from. The
/// tile shape is chosen per photo and compute-unit setting (`PackageShapes.sizing`) once the model
/// is loaded and its description has given the shapes Core ML compiled.
public struct InstalledModel: Identifiable, Sendable {
    public let compiledURL: URL
    public let sidecar: Sidecar

    public init(compiledURL: URL, sidecar: Sidecar) {
        self.compiledURL = compiledURL
        self.sidecar = sidecar
    }

    public var id: String { sidecar.file }

    /// The package's name without `.mlpackage`.
    public var name: String { compiledURL.deletingPathExtension().lastPathComponent }

    /// "x4 · fp16 · range 16..512".
    public var summary: String {
        var parts = ["x\(sidecar.scale)", sidecar.precision]
        if let compress = sidecar.compress, compress != "none" {
            parts.append("\(compress) weights")
        }
        if let shapes = sidecar.shapes {
            parts.append("\(shapes)")
        }
        return parts.joined(separator: " · ")
    }

    /// What the sidecar says a user must know before trusting the output.
    public var warning: String? {
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
public struct ModelCatalog: Sendable {
    /// What puts the models into `PCARNDemo/Models`; the app shows it when there are none.
    public static let installCommand = "python -m pcarn_mobile.convert --target coreml --ios-demo"

    public let models: [InstalledModel]
    /// What the model picker lists: each network once, its enumerated and range packages paired
    /// (`ModelChoice`), so the compute-unit choice picks the package.
    public var choices: [ModelChoice] { ModelChoice.pair(models) }
    /// One line per compiled model the app cannot run (no sidecar, tensor I/O, a newer schema).
    public let problems: [String]

    public static func load(from bundle: Bundle = .main) -> ModelCatalog {
        var models: [InstalledModel] = []
        var problems: [String] = []
        // A directory listing, not `urls(forResourcesWithExtension:)`, which gives NSURLs on Linux.
        let folder = bundle.resourceURL ?? bundle.bundleURL
        let compiled = ((try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? [])
            .filter { $0.pathExtension == "mlmodelc" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        for url in compiled {
            let name = url.deletingPathExtension().lastPathComponent
            guard let sidecarURL = bundle.url(forResource: "\(name).mlpackage", withExtension: "json") else {
                problems.append("\(name): no sidecar \(name).mlpackage.json; reinstall with \(installCommand)")
                continue
            }
            do {
                let sidecar = try Sidecar.decode(Data(contentsOf: sidecarURL))
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
