import Foundation

// The tile plan of pcarn_mobile/tiling.py (`_starts`, `_kept`, `_tiles`, `upscale_array`), step for
// step. Each tile is run with `overlap` LR pixels of real context on every side that touches another
// tile and only its centre is kept, so the stitched output equals a whole-image run: no blending, no
// seams. Plain Swift (no UIKit, no Core ML): the unit tests hold it to plans computed in Python.

/// One tile along one axis, in image pixels: where its input starts and which rows (or columns) of
/// it are kept. Kept ranges of consecutive tiles meet exactly.
struct TileSpan: Equatable {
    let start: Int
    let keptLower: Int
    let keptUpper: Int
}

/// One model call: its input window's top-left corner is (`row.start`, `column.start`).
struct Tile: Equatable {
    let row: TileSpan
    let column: TileSpan
}

/// The input sizes a model takes, as its sidecar states them.
enum TileSizing: Equatable {
    /// One input size (a fixed package, or the first of enumerated sizes). A smaller image is
    /// edge-padded bottom and right up to it, as `upscale_array` does.
    case fixed(height: Int, width: Int)
    /// Any size with each side at least `minimumSide`: the app feeds tiles of side `tile`, and pads a
    /// side shorter than `minimumSide` (a 1-px-wide photo for a 16..512 package) the same way.
    case flexible(tile: Int, minimumSide: Int)

    /// The input size of a tile when the image is large enough to need several.
    var tileSize: (height: Int, width: Int) {
        switch self {
        case let .fixed(height, width): return (height, width)
        case let .flexible(tile, _): return (tile, tile)
        }
    }
}

enum TilePlanError: LocalizedError, Equatable {
    case tileTooSmall(side: Int, overlap: Int)

    var errorDescription: String? {
        switch self {
        case let .tileTooSmall(side, overlap):
            return "A \(side)-px tile cannot keep anything with \(overlap) px of overlap per side; "
                + "convert the model with a larger input size."
        }
    }
}

struct TilePlan: Equatable {
    /// The photo's size.
    let height: Int
    let width: Int
    /// The size the plan covers: the photo, edge-padded where it is smaller than the model takes.
    let paddedHeight: Int
    let paddedWidth: Int
    /// The input size of every model call (all tiles of one plan have the same size).
    let tileHeight: Int
    let tileWidth: Int
    let rows: [TileSpan]
    let columns: [TileSpan]

    init(height: Int, width: Int, sizing: TileSizing, overlap: Int) throws {
        precondition(height > 0 && width > 0, "an image has at least one pixel")
        let tile = sizing.tileSize
        let minimum: (height: Int, width: Int)
        switch sizing {
        case let .fixed(h, w): minimum = (h, w)
        case let .flexible(_, side): minimum = (side, side)
        }
        self.height = height
        self.width = width
        paddedHeight = max(height, minimum.height)
        paddedWidth = max(width, minimum.width)
        // The same refusal as upscale_array: a tile no wider than both overlaps keeps nothing.
        for side in [tile.height, tile.width]
        where side <= 2 * overlap && (paddedHeight > side || paddedWidth > side) {
            throw TilePlanError.tileTooSmall(side: side, overlap: overlap)
        }
        tileHeight = min(tile.height, paddedHeight)
        tileWidth = min(tile.width, paddedWidth)
        rows = Self.spans(length: paddedHeight, tile: tile.height, overlap: overlap)
        columns = Self.spans(length: paddedWidth, tile: tile.width, overlap: overlap)
    }

    /// Row-major, as `_tiles` yields them.
    var tiles: [Tile] {
        rows.flatMap { row in columns.map { Tile(row: row, column: $0) } }
    }

    var count: Int { rows.count * columns.count }

    /// `_starts` and `_kept` along one axis: origins step by `tile - 2 * overlap`, the last tile flush
    /// with the end; keep all but `overlap` pixels on each side that touches another tile.
    static func spans(length: Int, tile: Int, overlap: Int) -> [TileSpan] {
        guard length > tile else { return [TileSpan(start: 0, keptLower: 0, keptUpper: length)] }
        let starts = Array(stride(from: 0, to: length - tile, by: tile - 2 * overlap)) + [length - tile]
        return starts.map { start in
            TileSpan(start: start,
                     keptLower: start > 0 ? start + overlap : 0,
                     keptUpper: start + tile < length ? start + tile - overlap : length)
        }
    }
}
