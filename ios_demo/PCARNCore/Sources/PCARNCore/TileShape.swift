import Foundation

// Which tile shape a photo runs at: the integer arithmetic of pcarn_mobile/tile_shape.py, step for
// step (the one specification; docs/tile-plan.md says it in words). tests/test_ios_core.py runs this
// code and the Python on the same cases and compares every answer, so the two cannot drift.
//
// Why a choice at all: a 128x128 tile with the 24-px overlap that makes tiling exact computes 2.28x
// the pixels of a 320x180 frame; a tile cut to the photo computes each pixel about once.

/// A tile's input size in LR pixels.
public struct TileShape: Equatable, Hashable, Sendable, CustomStringConvertible {
    public let height: Int
    public let width: Int

    public init(height: Int, width: Int) {
        self.height = height
        self.width = width
    }

    public var area: Int { height * width }
    public var description: String { "\(height)x\(width)" }
}

public enum TileShapeError: LocalizedError, Equatable {
    case noFixedShape(height: Int, width: Int, shapes: [TileShape], overlap: Int)
    case noFreeShape(height: Int, width: Int, maxArea: Int, overlap: Int)

    public var errorDescription: String? {
        switch self {
        case let .noFixedShape(height, width, shapes, overlap):
            return "no input shape of \(shapes.map(\.description)) can tile a \(height)x\(width) image with overlap \(overlap)"
        case let .noFreeShape(height, width, maxArea, overlap):
            return "no tile of at most \(maxArea) pixels can tile a \(height)x\(width) image with overlap \(overlap)"
        }
    }
}

public enum TileShapes {
    /// The most LR pixels one tile may have where a sidecar gives no `tiling.max_tile_area` (files
    /// written before it): `pcarn_mobile.tile_shape.DEFAULT_MAX_TILE_AREA`, the smallest area of any
    /// scale and precision; the suite compares the two.
    public static let defaultMaxTileArea = 105_961

    /// Tiles of side `tile` along an axis of `length`: `upscale_array`'s count (1 if it fits,
    /// edge-padded). Nil where the tile cannot step (side not above twice the overlap).
    public static func tilesAlong(_ length: Int, tile: Int, overlap: Int) -> Int? {
        if length <= tile { return 1 }
        let step = tile - 2 * overlap
        guard step > 0 else { return nil }
        return ceilDiv(length - tile, step) + 1
    }

    /// LR pixels the network computes for an image in tiles of `shape`: tiles times tile area.
    public static func computedPixels(height: Int, width: Int, shape: TileShape, overlap: Int) -> Int? {
        guard let rows = tilesAlong(height, tile: shape.height, overlap: overlap),
              let columns = tilesAlong(width, tile: shape.width, overlap: overlap) else { return nil }
        return rows * columns * shape.area
    }

    /// The candidate whose plan computes the fewest pixels; ties go to fewer tiles, then to the
    /// earlier candidate. A candidate that cannot tile this image is skipped.
    public static func bestFixed(height: Int, width: Int, shapes: [TileShape], overlap: Int) throws -> TileShape {
        var best: (computed: Int, tiles: Int, index: Int)?
        for (index, shape) in shapes.enumerated() {
            if (height > shape.height && shape.height <= 2 * overlap) || (width > shape.width && shape.width <= 2 * overlap) {
                continue
            }
            guard let rows = tilesAlong(height, tile: shape.height, overlap: overlap),
                  let columns = tilesAlong(width, tile: shape.width, overlap: overlap) else { continue }
            let key = (computed: rows * columns * shape.area, tiles: rows * columns, index: index)
            if best.map({ key < $0 }) ?? true {
                best = key
            }
        }
        guard let best else {
            throw TileShapeError.noFixedShape(height: height, width: width, shapes: shapes, overlap: overlap)
        }
        return shapes[best.index]
    }

    /// The smallest tile side that covers `length` in `count` tiles overlapping by `2 * overlap`.
    public static func side(_ length: Int, count: Int, overlap: Int) -> Int {
        count == 1 ? length : ceilDiv(length + 2 * overlap * (count - 1), count)
    }

    /// The fewest tiles along `length` whose side is at most `cap`; nil if no side that small can tile.
    static func fewestTiles(_ length: Int, cap: Int, overlap: Int) -> Int? {
        if length <= cap { return 1 }
        if cap <= 2 * overlap { return nil }
        return ceilDiv(length - 2 * overlap, cap - 2 * overlap)
    }

    /// The tile shape of at most `maxArea` LR pixels that computes the fewest pixels for this image
    /// (a resizable model): over every count of tile rows, the fewest columns that fit, in closed form.
    ///
    /// `maxSide` (nil: none, exactly `best_free_shape`) also bounds each side, for a Core ML package
    /// whose range ends there (16..512): rows whose side passes it are skipped and the column side
    /// is capped by it, the same search within the tighter box.
    public static func bestFree(height: Int, width: Int, overlap: Int, maxArea: Int, maxSide: Int? = nil) throws -> TileShape {
        guard height > 0, width > 0, maxArea > 0 else {
            throw TileShapeError.noFreeShape(height: height, width: width, maxArea: maxArea, overlap: overlap)
        }
        // (computed, tiles, rows, tile height, tile width), compared in that order.
        var best: (Int, Int, Int, Int, Int)?
        for rows in 1...height {
            let tileHeight = side(height, count: rows, overlap: overlap)
            if rows > 1 && (tileHeight <= 2 * overlap || tileHeight >= height) { continue }
            if tileHeight > maxArea || tileHeight > (maxSide ?? tileHeight) { continue }
            let cap = min(maxArea / tileHeight, maxSide ?? Int.max)
            guard let columns = fewestTiles(width, cap: cap, overlap: overlap) else { continue }
            let tileWidth = side(width, count: columns, overlap: overlap)
            let key = (rows * tileHeight * columns * tileWidth, rows * columns, rows, tileHeight, tileWidth)
            if best.map({ key < $0 }) ?? true {
                best = key
            }
            if let best, (height + 2 * overlap * (rows - 1)) * width > best.0 {
                break  // every later row count computes more rows than the best plan's whole area
            }
        }
        guard let best else {
            throw TileShapeError.noFreeShape(height: height, width: width, maxArea: maxArea, overlap: overlap)
        }
        return TileShape(height: best.3, width: best.4)
    }

    private static func ceilDiv(_ a: Int, _ b: Int) -> Int {
        // Python's -(-a // b): floor division rounds toward minus infinity, Swift's toward zero.
        let quotient = a / b
        return (a % b != 0 && (a > 0) == (b > 0)) ? quotient + 1 : quotient
    }
}
