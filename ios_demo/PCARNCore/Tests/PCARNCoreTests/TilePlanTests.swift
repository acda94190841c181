import XCTest
@testable import PCARNDemo

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
        Expected(height: 1, width: 300, sizing: .flexible(tile: 256, minimumSide: 16), overlap: 24, tile: [16, 256],
                 rows: [[0, 0, 16]],
                 columns: [[0, 0, 232], [44, 68, 300]]),
        Expected(height: 300, width: 1, sizing: .fixed(height: 128, width: 128), overlap: 24, tile: [128, 128],
                 rows: [[0, 0, 104], [80, 104, 184], [160, 184, 264], [172, 196, 300]],
                 columns: [[0, 0, 128]]),
        Expected(height: 1, width: 1, sizing: .flexible(tile: 256, minimumSide: 1), overlap: 24, tile: [1, 1],
                 rows: [[0, 0, 1]],
                 columns: [[0, 0, 1]]),
        Expected(height: 16, width: 16, sizing: .flexible(tile: 256, minimumSide: 16), overlap: 24, tile: [16, 16],
                 rows: [[0, 0, 16]],
                 columns: [[0, 0, 16]]),
        Expected(height: 256, width: 256, sizing: .flexible(tile: 256, minimumSide: 16), overlap: 24, tile: [256, 256],
                 rows: [[0, 0, 256]],
                 columns: [[0, 0, 256]]),
        Expected(height: 128, width: 128, sizing: .fixed(height: 128, width: 128), overlap: 24, tile: [128, 128],
                 rows: [[0, 0, 128]],
                 columns: [[0, 0, 128]]),
        Expected(height: 100, width: 60, sizing: .fixed(height: 128, width: 128), overlap: 24, tile: [128, 128],
                 rows: [[0, 0, 128]],
                 columns: [[0, 0, 128]]),
        Expected(height: 257, width: 256, sizing: .flexible(tile: 256, minimumSide: 16), overlap: 24, tile: [256, 256],
                 rows: [[0, 0, 232], [1, 25, 257]],
                 columns: [[0, 0, 256]]),
        Expected(height: 600, width: 800, sizing: .flexible(tile: 256, minimumSide: 16), overlap: 24, tile: [256, 256],
                 rows: [[0, 0, 232], [208, 232, 440], [344, 368, 600]],
                 columns: [[0, 0, 232], [208, 232, 440], [416, 440, 648], [544, 568, 800]]),
        Expected(height: 600, width: 600, sizing: .flexible(tile: 256, minimumSide: 16), overlap: 21, tile: [256, 256],
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
        Expected(height: 3024, width: 4032, sizing: .flexible(tile: 256, minimumSide: 16), overlap: 24, tile: [256, 256],
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

    func testKeptRegionsCoverThePaddedImageExactlyOnce() throws {
        for expected in Self.expected {
            let plan = try TilePlan(height: expected.height, width: expected.width, sizing: expected.sizing,
                                    overlap: expected.overlap)
            let axes = [(plan.rows, plan.paddedHeight, plan.tileHeight), (plan.columns, plan.paddedWidth, plan.tileWidth)]
            for (spans, length, tile) in axes {
                XCTAssertEqual(spans.first?.keptLower, 0)
                XCTAssertEqual(spans.last?.keptUpper, length)
                XCTAssertEqual(spans.last.map { $0.start + tile }, length, "the last tile is flush with the end")
                for (a, b) in zip(spans, spans.dropFirst()) {
                    XCTAssertEqual(a.keptUpper, b.keptLower)
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
        let plan = try TilePlan(height: 1, width: 300, sizing: .flexible(tile: 256, minimumSide: 16), overlap: 24)
        XCTAssertEqual([plan.paddedHeight, plan.paddedWidth], [16, 300])
        XCTAssertEqual([plan.tileHeight, plan.tileWidth], [16, 256])
        XCTAssertEqual(plan.count, 2)
    }

    func testExactlyTileSizedIsOneTileKeptWhole() throws {
        for sizing in [TileSizing.fixed(height: 128, width: 128), .flexible(tile: 128, minimumSide: 16)] {
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
        let plan = try TilePlan(height: 600, width: 800, sizing: .flexible(tile: 256, minimumSide: 16), overlap: 24)
        XCTAssertEqual(plan.tiles.count, plan.rows.count * plan.columns.count)
        XCTAssertEqual(plan.tiles[1], Tile(row: plan.rows[0], column: plan.columns[1]))
    }

    func testATileNoWiderThanBothOverlapsIsRefused() {
        XCTAssertThrowsError(try TilePlan(height: 100, width: 100, sizing: .fixed(height: 48, width: 48), overlap: 24)) {
            XCTAssertEqual($0 as? TilePlanError, .tileTooSmall(side: 48, overlap: 24))
        }
        XCTAssertNoThrow(try TilePlan(height: 40, width: 40, sizing: .fixed(height: 48, width: 48), overlap: 24),
                         "an image that fits one tile needs no overlap")
    }
}
