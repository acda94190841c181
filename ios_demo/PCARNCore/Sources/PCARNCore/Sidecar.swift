import Foundation

/// The sidecar `<file>.mlpackage.json` the exporter writes next to every package
/// (docs/export-contract.md). The app reads the scale, the feature names, the input shapes and the
/// tile contract from it instead of hard-coding them. Only what the app uses is decoded, and fields
/// added within a version are ignored, as the contract asks.
///
/// Every sidecar key the app reads is spelled in this file: tests/test_ios_demo.py checks each one
/// against the sidecar schema in pcarn_mobile/export/schema/.
public struct Sidecar: Decodable, Equatable, Sendable {
    public let schemaVersion: Int
    public let file: String
    public let format: String
    public let precision: String
    public let variant: String
    public let compress: String?
    public let scale: Int
    public let groups: Int
    public let weights: Weights
    public let input: Tensor
    public let output: Tensor
    public let tiling: Tiling
    public let parity: Parity

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version"
        case file, format, precision, variant, compress, scale, groups, weights, input, output, tiling, parity
    }

    public struct Weights: Decodable, Equatable, Sendable {
        /// `project`, `upstream` or `random-init` (an untrained network: its output is noise).
        public let kind: String
        /// The checkpoint's SHA-256 (nil for `random-init`): which packages hold the same network.
        public let sha256: String?

        enum CodingKeys: String, CodingKey {
            case kind, sha256
        }
    }

    public struct Tensor: Decodable, Equatable, Sendable {
        /// The Core ML feature name: `lr` in, `sr` out.
        public let name: String
        /// `image` (an RGB pixel buffer) or `NCHW` (a `--tensor-io` package).
        public let layout: String
        /// `[[H, W], ...]` of a package with enumerated sizes (the first is its default).
        public let sizes: [[Int]]?
        /// `[lo, hi]` per side for a range-flexible package.
        public let sizeRange: [Int]?

        enum CodingKeys: String, CodingKey {
            case name, layout, sizes
            case sizeRange = "size_range"
        }
    }

    public struct Tiling: Decodable, Equatable, Sendable {
        /// `[H, W]` of a fixed-size package (enumerated sizes: the first); nil when it takes a range.
        public let tile: [Int]?
        public let overlap: Int
        /// The most LR pixels one tile may have within the memory budget (schema 2, resizable files;
        /// nil for older files: the reader uses `TileShapes.defaultMaxTileArea`).
        public let maxTileArea: Int?

        enum CodingKeys: String, CodingKey {
            case tile, overlap
            case maxTileArea = "max_tile_area"
        }
    }

    public struct Parity: Decodable, Equatable, Sendable {
        /// `OK` or `MISMATCH` against PyTorch.
        public let verdict: String

        enum CodingKeys: String, CodingKey {
            case verdict
        }
    }
}

extension Sidecar {
    /// The schema versions this app reads: 2 adds optional sections (`npu`, `tiling.max_tile_area`)
    /// and changes nothing the app reads, so version 1 files still run.
    public static let supportedSchemaVersions = 1...2

    /// Decodes a sidecar file's bytes.
    public static func decode(_ data: Data) throws -> Sidecar {
        try JSONDecoder().decode(Sidecar.self, from: data)
    }

    /// Why this app cannot run the package, or nil when it can.
    public var unsupportedReason: String? {
        if !Self.supportedSchemaVersions.contains(schemaVersion) {
            let versions = Self.supportedSchemaVersions
            return "sidecar schema_version \(schemaVersion); this app reads versions \(versions.lowerBound) to \(versions.upperBound)"
        }
        if format != "coreml" {
            return "a \(format) file, not a Core ML package"
        }
        if input.layout != "image" || output.layout != "image" {
            return "takes tensors (--tensor-io); the demo feeds images: install the default image-I/O package"
        }
        if shapes == nil {
            return "the sidecar gives no input size (tiling.tile, input.sizes or input.size_range)"
        }
        return nil
    }

    /// The input sizes the sidecar says the package takes; nil when it says none.
    public var shapes: PackageShapes.Kind? {
        if let sizes = input.sizes, !sizes.isEmpty, sizes.allSatisfy({ $0.count == 2 }) {
            return .enumerated(sizes.map { TileShape(height: $0[0], width: $0[1]) })
        }
        if let tile = tiling.tile, tile.count == 2 {
            return .fixed(TileShape(height: tile[0], width: tile[1]))
        }
        if let range = input.sizeRange, range.count == 2, range[0] <= range[1] {
            return .range(range[0]...range[1])
        }
        return nil
    }

    /// `tiling.max_tile_area`, or the default where the sidecar predates it.
    public var maxTileArea: Int { tiling.maxTileArea ?? TileShapes.defaultMaxTileArea }
}
