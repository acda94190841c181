import XCTest
@testable import PCARNCore

/// `TileShapes` is pcarn_mobile/tile_shape.py's arithmetic; tests/test_ios_core.py compares the two
/// on many cases. These tests pin the behaviour the app relies on.
final class TileShapeTests: XCTestCase {
    private func shape(_ height: Int, _ width: Int) -> TileShape { TileShape(height: height, width: width) }

    func testTilesAlongIsUpscaleArraysCount() {
        XCTAssertEqual(TileShapes.tilesAlong(100, tile: 128, overlap: 24), 1)
        XCTAssertEqual(TileShapes.tilesAlong(128, tile: 128, overlap: 24), 1)
        XCTAssertEqual(TileShapes.tilesAlong(129, tile: 128, overlap: 24), 2)
        XCTAssertEqual(TileShapes.tilesAlong(300, tile: 128, overlap: 24), 4)  // starts 0, 80, 160, 172
        XCTAssertNil(TileShapes.tilesAlong(100, tile: 48, overlap: 24), "a 48-px tile cannot step")
    }

    func testA720pFrameInFixed128TilesComputes2Point28TimesItsPixels() throws {
        let computed = try XCTUnwrap(TileShapes.computedPixels(height: 180, width: 320, shape: shape(128, 128), overlap: 24))
        XCTAssertEqual(computed, 2 * 4 * 128 * 128)
        XCTAssertEqual(Double(computed) / Double(180 * 320), 2.28, accuracy: 0.01)
    }

    func testTheFixedChoiceTakesTheFewestComputedPixels() throws {
        let candidates = [shape(128, 128), shape(180, 320), shape(256, 256)]
        XCTAssertEqual(try TileShapes.bestFixed(height: 180, width: 320, shapes: candidates, overlap: 24), shape(180, 320))
        XCTAssertEqual(try TileShapes.bestFixed(height: 60, width: 60, shapes: candidates, overlap: 24), shape(128, 128))
    }

    func testFixedTiesGoToFewerTilesThenToTheEarlierCandidate() throws {
        XCTAssertEqual(try TileShapes.bestFixed(height: 50, width: 50, shapes: [shape(64, 64), shape(64, 64)], overlap: 4),
                       shape(64, 64))
        // 100x100 in two 50x100 tiles or one 100x100 tile: the same pixels, the single tile wins.
        let one = shape(100, 100)
        XCTAssertEqual(try TileShapes.bestFixed(height: 100, width: 100, shapes: [shape(50, 100), one], overlap: 0), one)
    }

    func testFixedShapesThatCannotTileAreSkippedAndNoneLeftIsAnError() {
        XCTAssertEqual(try TileShapes.bestFixed(height: 300, width: 300, shapes: [shape(48, 48), shape(128, 128)], overlap: 24),
                       shape(128, 128))
        XCTAssertThrowsError(try TileShapes.bestFixed(height: 300, width: 300, shapes: [shape(48, 48)], overlap: 24)) {
            XCTAssertTrue($0.localizedDescription.contains("no input shape"), $0.localizedDescription)
        }
        XCTAssertNoThrow(try TileShapes.bestFixed(height: 40, width: 40, shapes: [shape(48, 48)], overlap: 24),
                         "an image that fits one tile needs no step")
    }

    func testAFreeShapeCutToTheFrameComputesEachPixelAboutOnce() throws {
        let free = try TileShapes.bestFree(height: 180, width: 320, overlap: 24, maxArea: 512 * 512)
        XCTAssertEqual(free, shape(180, 320), "the whole frame fits one tile")
        let photo = try TileShapes.bestFree(height: 3024, width: 4032, overlap: 24, maxArea: 512 * 512)
        XCTAssertLessThanOrEqual(photo.area, 512 * 512)
        let computed = try XCTUnwrap(TileShapes.computedPixels(height: 3024, width: 4032, shape: photo, overlap: 24))
        XCTAssertLessThan(Double(computed) / Double(3024 * 4032), 1.3)
    }

    func testTheFreeShapeRespectsTheArea() throws {
        for (height, width) in [(1, 1), (1, 5000), (5000, 1), (720, 1280), (1080, 1920), (333, 500)] {
            for area in [10_000, 65_536, 262_144] {
                let free = try TileShapes.bestFree(height: height, width: width, overlap: 24, maxArea: area)
                XCTAssertLessThanOrEqual(free.area, area, "\(height)x\(width) within \(area)")
            }
        }
    }

    func testNoFreeShapeIsAnError() {
        XCTAssertThrowsError(try TileShapes.bestFree(height: 0, width: 10, overlap: 24, maxArea: 100))
        XCTAssertThrowsError(try TileShapes.bestFree(height: 500, width: 500, overlap: 24, maxArea: 48 * 48))
    }

    func testSideCoversTheLengthInThatManyTiles() {
        XCTAssertEqual(TileShapes.side(300, count: 1, overlap: 24), 300)
        XCTAssertEqual(TileShapes.side(300, count: 2, overlap: 24), 174)  // ceil((300 + 48) / 2)
        XCTAssertEqual(TileShapes.side(301, count: 2, overlap: 24), 175)
    }
}
