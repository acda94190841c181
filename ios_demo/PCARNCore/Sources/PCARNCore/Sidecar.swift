import Foundation

/// The sidecar `<file>.mlpackage.json` the exporter writes next to every package
/// (docs/export-contract.md, schema v1). The app reads the scale, the feature names and the tile
/// contract from it instead of hard-coding them. Only what the app uses is decoded, and fields added
/// within version 1 are ignored, as the contract asks.
///
/// Every sidecar key the app reads is spelled in this file: tests/test_ios_demo.py checks each one
/// against pcarn_mobile/export/schema/sidecar-v1.schema.json.
struct Sidecar: Decodable, Equatable {
    let schemaVersion: Int
    let file: String
    let format: String
    let precision: String
    let variant: String
    let compress: String?
    let scale: Int
    let groups: Int
    let weights: Weights
    let input: Tensor
    let output: Tensor
    let tiling: Tiling
    let parity: Parity

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version"
        case file, format, precision, variant, compress, scale, groups, weights, input, output, tiling, parity
    }

    struct Weights: Decodable, Equatable {
        /// `project`, `upstream` or `random-init` (an untrained network: its output is noise).
        let kind: String

        enum CodingKeys: String, CodingKey {
            case kind
        }
    }

    struct Tensor: Decodable, Equatable {
        /// The Core ML feature name: `lr` in, `sr` out.
        let name: String
        /// `image` (an RGB pixel buffer) or `NCHW` (a `--tensor-io` package).
        let layout: String
        /// `[lo, hi]` per side for a range-flexible package.
        let sizeRange: [Int]?

        enum CodingKeys: String, CodingKey {
            case name, layout
            case sizeRange = "size_range"
        }
    }

    struct Tiling: Decodable, Equatable {
        /// `[H, W]` of a fixed-size package (enumerated sizes: the first); nil when it takes any size.
        let tile: [Int]?
        let overlap: Int

        enum CodingKeys: String, CodingKey {
            case tile, overlap
        }
    }

    struct Parity: Decodable, Equatable {
        /// `OK` or `MISMATCH` against PyTorch.
        let verdict: String

        enum CodingKeys: String, CodingKey {
            case verdict
        }
    }
}

extension Sidecar {
    static let supportedSchemaVersion = 1

    /// Why this app cannot run the package, or nil when it can.
    var unsupportedReason: String? {
        if schemaVersion != Self.supportedSchemaVersion {
            return "sidecar schema_version \(schemaVersion); this app reads version \(Self.supportedSchemaVersion)"
        }
        if format != "coreml" {
            return "a \(format) file, not a Core ML package"
        }
        if input.layout != "image" || output.layout != "image" {
            return "takes tensors (--tensor-io); the demo feeds images: install the default image-I/O package"
        }
        return nil
    }

    /// The tiles to feed: the package's own size when fixed; otherwise `preferredTile` clamped into its
    /// size range (one tile size for the whole photo, so Core ML prepares the model for one shape).
    func tileSizing(preferredTile: Int) -> TileSizing {
        if let tile = tiling.tile, tile.count == 2 {
            return .fixed(height: tile[0], width: tile[1])
        }
        guard let range = input.sizeRange, range.count == 2 else {
            return .flexible(tile: preferredTile, minimumSide: 1)
        }
        return .flexible(tile: min(max(preferredTile, range[0]), range[1]), minimumSide: range[0])
    }
}
