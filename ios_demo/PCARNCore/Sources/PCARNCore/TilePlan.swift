import Foundation

// The tile plan of pcarn_mobile/tiling.py (`_starts`, `_kept`, `_tiles`, `upscale_array`), step for
// step. Each tile is run with `overlap` LR pixels of real context on every side that touches another
// tile and only its centre is kept, so the stitched output equals a whole-image run: no blending, no
// seams. Plain Swift (no UIKit, no Core ML): the unit tests hold it to plans computed in Python.

/// One tile along one axis, in image pixels: where its input starts and which rows (or columns) of
/// it are kept. Kept ranges of consecutive tiles leave no gap; the last (flush) tile's may start
/// inside its neighbour's, where both hold the same pixels, and the later tile is written, as in Python.
public struct TileSpan: Equatable, Sendable {
    public let start: Int
    public let keptLower: Int
    public let keptUpper: Int

    public init(start: Int, keptLower: Int, keptUpper: Int) {
        self.start = start
        self.keptLower = keptLower
        self.keptUpper = keptUpper
    }
}

/// One model call: its input window's top-left corner is (`row.start`, `column.start`).
public struct Tile: Equatable, Sendable {
    public let row: TileSpan
    public let column: TileSpan

    public init(row: TileSpan, column: TileSpan) {
        self.row = row
        self.column = column
    }
}

/// The tile size chosen for one photo (`PackageShapes.sizing`).
public enum TileSizing: Equatable, Sendable {
    /// One input size the package was compiled for (fixed, enumerated, or a range package's default
    /// on the Neural Engine). A smaller image is edge-padded bottom and right up to it, as
    /// `upscale_array` does.
    case fixed(height: Int, width: Int)
    /// Any size with each side at least `minimumSide` (a range package on the CPU or GPU): tiles of
    /// `height`x`width`, an image that fits in one tile is fed whole, and a side shorter than
    /// `minimumSide` (a 1-px-wide photo for a 16..512 package) is edge-padded up to it.
    case flexible(height: Int, width: Int, minimumSide: Int)

    /// The input size of a tile when the image is large enough to need several.
    public var tileSize: (height: Int, width: Int) {
        switch self {
        case let .fixed(height, width): return (height, width)
        case let .flexible(height, width, _): return (height, width)
        }
    }
}

public enum TilePlanError: LocalizedError, Equatable, Sendable {
    case tileTooSmall(side: Int, overlap: Int)

    public var errorDescription: String? {
        switch self {
        case let .tileTooSmall(side, overlap):
            return "A \(side)-px tile cannot keep anything with \(overlap) px of overlap per side; "
                + "convert the model with a larger input size."
        }
    }
}

public struct TilePlan: Equatable, Sendable {
    /// The photo's size.
    public let height: Int
    public let width: Int
    /// The size the plan covers: the photo, edge-padded where it is smaller than the model takes.
    public let paddedHeight: Int
    public let paddedWidth: Int
    /// The input size of every model call (all tiles of one plan have the same size).
    public let tileHeight: Int
    public let tileWidth: Int
    public let rows: [TileSpan]
    public let columns: [TileSpan]

    public init(height: Int, width: Int, sizing: TileSizing, overlap: Int) throws {
        precondition(height > 0 && width > 0, "an image has at least one pixel")
        let tile = sizing.tileSize
        let minimum: (height: Int, width: Int)
        switch sizing {
        case let .fixed(h, w): minimum = (h, w)
        case let .flexible(_, _, side): minimum = (side, side)
        }
        self.height = height
        self.width = width
        paddedHeight = max(height, minimum.height)
        paddedWidth = max(width, minimum.width)
        // The same refusal as upscale_array, per axis: a tile no longer than both overlaps keeps
        // nothing where the image needs several tiles along that axis (one tile spanning it is fine).
        for (side, length) in [(tile.height, paddedHeight), (tile.width, paddedWidth)]
        where side <= 2 * overlap && length > side {
            throw TilePlanError.tileTooSmall(side: side, overlap: overlap)
        }
        tileHeight = min(tile.height, paddedHeight)
        tileWidth = min(tile.width, paddedWidth)
        rows = Self.spans(length: paddedHeight, tile: tile.height, overlap: overlap)
        columns = Self.spans(length: paddedWidth, tile: tile.width, overlap: overlap)
    }

    /// Row-major, as `_tiles` yields them.
    public var tiles: [Tile] {
        rows.flatMap { row in columns.map { Tile(row: row, column: $0) } }
    }

    public var count: Int { rows.count * columns.count }

    /// LR pixels the network computes: tiles times tile area (`tile_shape.computed_pixels`).
    public var computedPixels: Int { count * tileHeight * tileWidth }

    /// `_starts` and `_kept` along one axis: origins step by `tile - 2 * overlap`, the last tile flush
    /// with the end; keep all but `overlap` pixels on each side that touches another tile.
    public static func spans(length: Int, tile: Int, overlap: Int) -> [TileSpan] {
        guard length > tile else { return [TileSpan(start: 0, keptLower: 0, keptUpper: length)] }
        let starts = Array(stride(from: 0, to: length - tile, by: tile - 2 * overlap)) + [length - tile]
        return starts.map { start in
            TileSpan(start: start,
                     keptLower: start > 0 ? start + overlap : 0,
                     keptUpper: start + tile < length ? start + tile - overlap : length)
        }
    }
}
