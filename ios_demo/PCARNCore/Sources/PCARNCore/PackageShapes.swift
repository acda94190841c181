import Foundation

/// The input sizes a Core ML package takes, and the tile shape the app feeds it per photo and per
/// compute-unit choice: the one that computes the fewest pixels the package allows
/// (`TileShapes`, pcarn_mobile/tile_shape.py).
///
/// A flexible-shape package runs on the Neural Engine only at its default shape or at one of its
/// enumerated shapes; any other shape silently runs on the GPU or CPU. So with compute units that
/// allow the Neural Engine the tile is always one of those; CPU and GPU take any shape of a range.
public struct PackageShapes: Equatable, Sendable {
    public enum Kind: Equatable, Sendable, CustomStringConvertible {
        /// One input size.
        case fixed(TileShape)
        /// Enumerated sizes, each compiled ahead (the first is the default).
        case enumerated([TileShape])
        /// Any size with each side in the range.
        case range(ClosedRange<Int>)

        public var description: String {
            switch self {
            case let .fixed(shape): return "\(shape)"
            case let .enumerated(shapes): return "enumerated " + shapes.map(\.description).joined(separator: ",")
            case let .range(range): return "range \(range.lowerBound)..\(range.upperBound)"
            }
        }
    }

    public let kind: Kind
    /// The shape Core ML prepares the package for (the model description's image size): the one a
    /// range package runs on the Neural Engine, and the one its compute plan describes.
    public let defaultShape: TileShape

    public init(kind: Kind, defaultShape: TileShape) {
        self.kind = kind
        self.defaultShape = defaultShape
    }

    /// The shapes Core ML compiles ahead: what may run on the Neural Engine.
    public var precompiled: [TileShape] {
        switch kind {
        case let .fixed(shape): return [shape]
        case let .enumerated(shapes): return shapes
        case .range: return [defaultShape]
        }
    }

    /// Why the sidecar and the package disagree about the sizes, or nil when they agree.
    public func mismatch(with sidecar: PackageShapes.Kind) -> String? {
        // One enumerated size is one fixed size, whichever way a converter writes it.
        func normal(_ kind: Kind) -> Kind {
            if case let .enumerated(shapes) = kind, shapes.count == 1 { return .fixed(shapes[0]) }
            return kind
        }
        return normal(sidecar) == normal(kind) ? nil : "the package takes \(kind) but its sidecar says \(sidecar); reinstall it"
    }

    /// The tiles for an `height`x`width` photo on `unit`. `maxTileArea` bounds a free shape (the
    /// sidecar's `tiling.max_tile_area`).
    public func sizing(height: Int, width: Int, overlap: Int, unit: ComputeUnit, maxTileArea: Int) throws -> TileSizing {
        guard case let .range(range) = kind, !unit.mayUseNeuralEngine else {
            let shape = try TileShapes.bestFixed(height: height, width: width, shapes: precompiled, overlap: overlap)
            return .fixed(height: shape.height, width: shape.width)
        }
        // A side below the range's minimum is edge-padded up to it; no side passes its maximum.
        let (paddedHeight, paddedWidth) = (max(height, range.lowerBound), max(width, range.lowerBound))
        let shape = try TileShapes.bestFree(height: paddedHeight, width: paddedWidth, overlap: overlap,
                                            maxArea: maxTileArea, maxSide: range.upperBound)
        return .flexible(height: shape.height, width: shape.width, minimumSide: range.lowerBound)
    }
}
