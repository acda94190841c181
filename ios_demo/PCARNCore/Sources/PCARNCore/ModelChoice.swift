import Foundation

/// One network the user picks, with the packages installed for it: `convert --ios-demo` writes an
/// enumerated package (the shipped shapes, compiled ahead: what the Neural Engine runs) and a
/// range-flexible one (any shape: what CPU and GPU run at the frame's own tile) side by side. The
/// app loads the one that suits the compute units, so a CPU or GPU run computes the photo at its
/// free shape (`TileShapes.bestFree`) and a Neural Engine run at the best precompiled shape
/// (`TileShapes.bestFixed`), from one entry of the model picker.
public struct ModelChoice: Identifiable, Sendable {
    /// The package of fixed or enumerated shapes, if installed.
    public let precompiled: InstalledModel?
    /// The range-flexible package, if installed.
    public let range: InstalledModel?

    /// At least one of the two must be given.
    public init(precompiled: InstalledModel?, range: InstalledModel?) {
        precondition(precompiled != nil || range != nil, "a model choice holds at least one package")
        self.precompiled = precompiled
        self.range = range
    }

    public var id: String { packages.map(\.id).joined(separator: "+") }

    /// The installed packages, precompiled first.
    public var packages: [InstalledModel] { [precompiled, range].compactMap { $0 } }

    /// The package to load for `unit`: where Core ML may use the Neural Engine, the precompiled shapes
    /// (a range package runs there only at its default shape); on CPU or GPU, the range (any shape).
    /// Either falls back to the other where only one is installed.
    public func package(for unit: ComputeUnit) -> InstalledModel {
        let preferred = unit.mayUseNeuralEngine ? (precompiled ?? range) : (range ?? precompiled)
        return preferred!  // init guarantees one
    }

    /// The upscale factor (the same in both packages: it is part of `Key`).
    public var scale: Int { packages[0].sidecar.scale }

    /// The picker's name: the precompiled package's, the one a Neural Engine run loads.
    public var name: String { packages[0].name }

    /// "x4 · fp16 · enumerated 128x128,184x184,304x304 (Neural Engine) + range 16..2162 (CPU, GPU)".
    public var summary: String {
        guard let precompiled, let range else { return packages[0].summary }
        let shapes = range.sidecar.shapes.map { "\($0)" } ?? "range"
        return "\(precompiled.summary) (Neural Engine) + \(shapes) (CPU, GPU)"
    }

    /// The first package's warning (untrained weights, failed parity); every package is checked.
    public var warning: String? { packages.lazy.compactMap(\.warning).first }

    /// What makes two packages the same network in the same numerics: everything but the shapes.
    struct Key: Hashable {
        let scale: Int, groups: Int, precision: String, variant: String, compress: String?
        let weights: String, overlap: Int

        init(_ sidecar: Sidecar) {
            (scale, groups, precision, variant, compress) = (sidecar.scale, sidecar.groups, sidecar.precision,
                                                             sidecar.variant, sidecar.compress)
            weights = sidecar.weights.sha256 ?? sidecar.weights.kind
            overlap = sidecar.tiling.overlap
        }
    }

    /// Pairs each range package with the precompiled package of the same network (`Key`), where each
    /// has exactly one; every other package is a choice on its own. In the order of `models`.
    public static func pair(_ models: [InstalledModel]) -> [ModelChoice] {
        func isRange(_ model: InstalledModel) -> Bool {
            if case .range = model.sidecar.shapes { return true }
            return false
        }
        let groups = Dictionary(grouping: models) { Key($0.sidecar) }
        var choices: [ModelChoice] = []
        var placed: Set<String> = []
        for model in models where !placed.contains(model.id) {
            let group = groups[Key(model.sidecar)] ?? [model]
            let ranges = group.filter(isRange), fixed = group.filter { !isRange($0) }
            if ranges.count == 1, fixed.count == 1 {
                choices.append(ModelChoice(precompiled: fixed[0], range: ranges[0]))
                placed.formUnion([fixed[0].id, ranges[0].id])
            } else {
                choices.append(isRange(model) ? ModelChoice(precompiled: nil, range: model)
                                              : ModelChoice(precompiled: model, range: nil))
                placed.insert(model.id)
            }
        }
        return choices
    }
}
