import XCTest
@testable import PCARNCore

/// The app's tile plans must be the ones pcarn_mobile/tiling.py computes. `expected` was generated
/// with it, and tests/test_ios_demo.py recomputes every entry in Python (through `upscale_array`
/// itself where the size allows), so these literals cannot drift from the reference.
final class TilePlanTests: XCTestCase {
    struct Expected {
        let height: Int
        let width: Int
        let sizing: TileSizing
        let overlap: Int
        /// `[H, W]` of every model call.
        let tile: [Int]
        /// `[start, keptLower, keptUpper]` of each tile row and each tile column.
        let rows: [[Int]]
        let columns: [[Int]]
    }

    static let expected: [Expected] = [
        Expected(height: 1, width: 300, sizing: .flexible(height: 256, width: 256, minimumSide: 16), overlap: 24, tile: [16, 256],
                 rows: [[0, 0, 16]],
                 columns: [[0, 0, 232], [44, 68, 300]]),
        Expected(height: 300, width: 1, sizing: .fixed(height: 128, width: 128), overlap: 24, tile: [128, 128],
                 rows: [[0, 0, 104], [80, 104, 184], [160, 184, 264], [172, 196, 300]],
                 columns: [[0, 0, 128]]),
        Expected(height: 1, width: 1, sizing: .flexible(height: 256, width: 256, minimumSide: 1), overlap: 24, tile: [1, 1],
                 rows: [[0, 0, 1]],
                 columns: [[0, 0, 1]]),
        Expected(height: 16, width: 16, sizing: .flexible(height: 256, width: 256, minimumSide: 16), overlap: 24, tile: [16, 16],
                 rows: [[0, 0, 16]],
                 columns: [[0, 0, 16]]),
        Expected(height: 256, width: 256, sizing: .flexible(height: 256, width: 256, minimumSide: 16), overlap: 24, tile: [256, 256],
                 rows: [[0, 0, 256]],
                 columns: [[0, 0, 256]]),
        Expected(height: 128, width: 128, sizing: .fixed(height: 128, width: 128), overlap: 24, tile: [128, 128],
                 rows: [[0, 0, 128]],
                 columns: [[0, 0, 128]]),
        Expected(height: 100, width: 60, sizing: .fixed(height: 128, width: 128), overlap: 24, tile: [128, 128],
                 rows: [[0, 0, 128]],
                 columns: [[0, 0, 128]]),
        Expected(height: 257, width: 256, sizing: .flexible(height: 256, width: 256, minimumSide: 16), overlap: 24, tile: [256, 256],
                 rows: [[0, 0, 232], [1, 25, 257]],
                 columns: [[0, 0, 256]]),
        Expected(height: 600, width: 800, sizing: .flexible(height: 256, width: 256, minimumSide: 16), overlap: 24, tile: [256, 256],
                 rows: [[0, 0, 232], [208, 232, 440], [344, 368, 600]],
                 columns: [[0, 0, 232], [208, 232, 440], [416, 440, 648], [544, 568, 800]]),
        Expected(height: 600, width: 600, sizing: .flexible(height: 256, width: 256, minimumSide: 16), overlap: 21, tile: [256, 256],
                 rows: [[0, 0, 235], [214, 235, 449], [344, 365, 600]],
                 columns: [[0, 0, 235], [214, 235, 449], [344, 365, 600]]),
        Expected(height: 480, width: 640, sizing: .fixed(height: 180, width: 320), overlap: 24, tile: [180, 320],
                 rows: [[0, 0, 156], [132, 156, 288], [264, 288, 420], [300, 324, 480]],
                 columns: [[0, 0, 296], [272, 296, 568], [320, 344, 640]]),
        Expected(height: 1000, width: 750, sizing: .fixed(height: 128, width: 128), overlap: 24, tile: [128, 128],
                 rows: [[0, 0, 104], [80, 104, 184], [160, 184, 264], [240, 264, 344], [320, 344, 424],
                        [400, 424, 504], [480, 504, 584], [560, 584, 664], [640, 664, 744], [720, 744, 824],
                        [800, 824, 904], [872, 896, 1000]],
                 columns: [[0, 0, 104], [80, 104, 184], [160, 184, 264], [240, 264, 344], [320, 344, 424],
                           [400, 424, 504], [480, 504, 584], [560, 584, 664], [622, 646, 750]]),
        Expected(height: 3024, width: 4032, sizing: .flexible(height: 256, width: 256, minimumSide: 16), overlap: 24, tile: [256, 256],
                 rows: [[0, 0, 232], [208, 232, 440], [416, 440, 648], [624, 648, 856], [832, 856, 1064],
                        [1040, 1064, 1272], [1248, 1272, 1480], [1456, 1480, 1688], [1664, 1688, 1896],
                        [1872, 1896, 2104], [2080, 2104, 2312], [2288, 2312, 2520], [2496, 2520, 2728],
                        [2704, 2728, 2936], [2768, 2792, 3024]],
                 columns: [[0, 0, 232], [208, 232, 440], [416, 440, 648], [624, 648, 856], [832, 856, 1064],
                           [1040, 1064, 1272], [1248, 1272, 1480], [1456, 1480, 1688], [1664, 1688, 1896],
                           [1872, 1896, 2104], [2080, 2104, 2312], [2288, 2312, 2520], [2496, 2520, 2728],
                           [2704, 2728, 2936], [2912, 2936, 3144], [3120, 3144, 3352], [3328, 3352, 3560],
                           [3536, 3560, 3768], [3744, 3768, 3976], [3776, 3800, 4032]]),
    ]

    func testPlansMatchPython() throws {
        for expected in Self.expected {
            let plan = try TilePlan(height: expected.height, width: expected.width, sizing: expected.sizing,
                                    overlap: expected.overlap)
            let name = "\(expected.height)x\(expected.width) \(expected.sizing)"
            XCTAssertEqual([plan.tileHeight, plan.tileWidth], expected.tile, name)
            XCTAssertEqual(plan.rows.map { [$0.start, $0.keptLower, $0.keptUpper] }, expected.rows, name)
            XCTAssertEqual(plan.columns.map { [$0.start, $0.keptLower, $0.keptUpper] }, expected.columns, name)
        }
    }

    func testKeptRegionsCoverThePaddedImageWithoutGaps() throws {
        for expected in Self.expected {
            let plan = try TilePlan(height: expected.height, width: expected.width, sizing: expected.sizing,
                                    overlap: expected.overlap)
            let axes = [(plan.rows, plan.paddedHeight, plan.tileHeight), (plan.columns, plan.paddedWidth, plan.tileWidth)]
            for (spans, length, tile) in axes {
                XCTAssertEqual(spans.first?.keptLower, 0)
                XCTAssertEqual(spans.last?.keptUpper, length)
                XCTAssertEqual(spans.last.map { $0.start + tile }, length, "the last tile is flush with the end")
                // No gap; the flush last tile's kept range may start inside its neighbour's, where
                // both hold the same full-context pixels and the later one is written, as in Python.
                for (a, b) in zip(spans, spans.dropFirst()) {
                    XCTAssertLessThanOrEqual(b.keptLower, a.keptUpper)
                    XCTAssertLessThan(a.keptLower, b.keptLower)
                }
            }
        }
    }

    func testOnePixelWidePhotoIsEdgePaddedToTheFixedTile() throws {
        let plan = try TilePlan(height: 300, width: 1, sizing: .fixed(height: 128, width: 128), overlap: 24)
        XCTAssertEqual(plan.paddedWidth, 128)
        XCTAssertEqual(plan.paddedHeight, 300)
        XCTAssertEqual(plan.columns, [TileSpan(start: 0, keptLower: 0, keptUpper: 128)])
        XCTAssertEqual(plan.count, 4)
    }

    func testOnePixelTallPhotoIsPaddedToTheRangeMinimum() throws {
        let plan = try TilePlan(height: 1, width: 300, sizing: .flexible(height: 256, width: 256, minimumSide: 16), overlap: 24)
        XCTAssertEqual([plan.paddedHeight, plan.paddedWidth], [16, 300])
        XCTAssertEqual([plan.tileHeight, plan.tileWidth], [16, 256])
        XCTAssertEqual(plan.count, 2)
    }

    func testExactlyTileSizedIsOneTileKeptWhole() throws {
        for sizing in [TileSizing.fixed(height: 128, width: 128), .flexible(height: 128, width: 128, minimumSide: 16)] {
            let plan = try TilePlan(height: 128, width: 128, sizing: sizing, overlap: 24)
            XCTAssertEqual(plan.tiles, [Tile(row: TileSpan(start: 0, keptLower: 0, keptUpper: 128),
                                             column: TileSpan(start: 0, keptLower: 0, keptUpper: 128))])
        }
    }

    func testSmallerThanFixedTileIsPaddedThenCropped() throws {
        let plan = try TilePlan(height: 100, width: 60, sizing: .fixed(height: 128, width: 128), overlap: 24)
        XCTAssertEqual([plan.height, plan.width], [100, 60], "the output is cropped back to the photo")
        XCTAssertEqual([plan.paddedHeight, plan.paddedWidth], [128, 128])
        XCTAssertEqual(plan.count, 1)
    }

    func testTilesAreRowMajor() throws {
        let plan = try TilePlan(height: 600, width: 800, sizing: .flexible(height: 256, width: 256, minimumSide: 16), overlap: 24)
        XCTAssertEqual(plan.tiles.count, plan.rows.count * plan.columns.count)
        XCTAssertEqual(plan.tiles[1], Tile(row: plan.rows[0], column: plan.columns[1]))
    }

    func testATileNoWiderThanBothOverlapsIsRefused() {
        XCTAssertThrowsError(try TilePlan(height: 100, width: 100, sizing: .fixed(height: 48, width: 48), overlap: 24)) {
            XCTAssertEqual($0 as? TilePlanError, .tileTooSmall(side: 48, overlap: 24))
        }
        XCTAssertNoThrow(try TilePlan(height: 40, width: 40, sizing: .fixed(height: 48, width: 48), overlap: 24),
                         "an image that fits one tile needs no overlap")
        XCTAssertNoThrow(try TilePlan(height: 16, width: 300, sizing: .flexible(height: 16, width: 256, minimumSide: 16),
                                      overlap: 24), "a short side is fine along an axis one tile spans")
        XCTAssertThrowsError(try TilePlan(height: 100, width: 300, sizing: .flexible(height: 40, width: 256, minimumSide: 16),
                                          overlap: 24))
    }

    /// The Kotlin core's TilePlanTest: a stand-in network (3x3 box sum with zero padding, receptive
    /// radius 1, then nearest x2) run tile by tile and stitched equals the whole-image run.
    func testTiledEqualsUntiledWhenTheOverlapCoversTheReceptiveField() throws {
        let (height, width) = (37, 53)
        let image = (0..<height * width).map { ($0 * 7919) % 251 }
        let whole = Self.boxThenDouble(image, width: width, height: height)
        for sizing in [TileSizing.fixed(height: 16, width: 12), .flexible(height: 9, width: 20, minimumSide: 1)] {
            let plan = try TilePlan(height: height, width: width, sizing: sizing, overlap: 2)
            var stitched = [Int](repeating: -1, count: whole.count)
            for tile in plan.tiles {
                let (tileHeight, tileWidth) = (plan.tileHeight, plan.tileWidth)
                var input: [Int] = []
                for y in tile.row.start..<tile.row.start + tileHeight {
                    let rowStart: Int = y * width + tile.column.start
                    input += image[rowStart..<rowStart + tileWidth]
                }
                let output = Self.boxThenDouble(input, width: tileWidth, height: tileHeight)
                for y in 2 * tile.row.keptLower..<2 * tile.row.keptUpper {
                    let from: Int = (y - 2 * tile.row.start) * 2 * tileWidth - 2 * tile.column.start
                    for x in 2 * tile.column.keptLower..<2 * tile.column.keptUpper {
                        stitched[y * 2 * width + x] = output[from + x]
                    }
                }
            }
            XCTAssertEqual(stitched, whole, "\(sizing)")
        }
    }

    func testComputedPixelsAreTilesTimesTileArea() throws {
        let plan = try TilePlan(height: 180, width: 320, sizing: .fixed(height: 128, width: 128), overlap: 24)
        XCTAssertEqual(plan.count, 8)
        XCTAssertEqual(plan.computedPixels, 8 * 128 * 128)
        XCTAssertEqual(plan.computedPixels, TileShapes.computedPixels(height: 180, width: 320,
                                                                      shape: TileShape(height: 128, width: 128), overlap: 24))
    }

    private static func boxThenDouble(_ pixels: [Int], width: Int, height: Int) -> [Int] {
        var out = [Int](repeating: 0, count: 4 * width * height)
        for y in 0..<2 * height {
            for x in 0..<2 * width {
                var sum = 0
                for dy in -1...1 {
                    for dx in -1...1 {
                        let yy: Int = y / 2 + dy
                        let xx: Int = x / 2 + dx
                        if (0..<height).contains(yy) && (0..<width).contains(xx) {
                            sum += pixels[yy * width + xx]
                        }
                    }
                }
                out[y * 2 * width + x] = sum
            }
        }
        return out
    }
}
