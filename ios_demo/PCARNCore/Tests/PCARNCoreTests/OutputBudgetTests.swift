import XCTest
@testable import PCARNCore

final class OutputBudgetTests: XCTestCase {
    private let roomy = OutputBudget(availableBytes: nil)

    private func plan(_ width: Int, _ height: Int, tile: Int = 128) throws -> TilePlan {
        try TilePlan(height: height, width: width, sizing: .fixed(height: tile, width: tile), overlap: 24)
    }

    private func check(_ budget: OutputBudget, _ width: Int, _ height: Int, _ scale: Int) throws {
        try budget.check(plan: plan(width, height), scale: scale, previewSide: 4096)
    }

    func testAn8000x6000PhotoAtX4IsRefusedWithTheSizes() {
        XCTAssertThrowsError(try check(roomy, 8000, 6000, 4)) { error in
            let message = error.localizedDescription
            XCTAssertTrue(message.contains("32000×24000 (768.0 MP)"), message)
            XCTAssertTrue(message.contains("at most 8.0 MP"), message)
        }
    }

    func testA12MegapixelPhotoFitsAtX2AndX3ButNotX4() {
        XCTAssertNoThrow(try check(roomy, 4032, 3024, 2))
        XCTAssertNoThrow(try check(roomy, 4032, 3024, 3))
        XCTAssertThrowsError(try check(roomy, 4032, 3024, 4))
    }

    func testEveryCopyHeldAtOnceIsCounted() throws {
        // 4032x3024 at x2: photo 48.8 MB, padded input 48.8 MB (no padding), tiles 4 * 128^2 * 5,
        // output bitmap and the image made from it 195 MB each, preview 4096x3072 x4 bytes.
        let footprint = OutputBudget.Footprint(plan: try plan(4032, 3024), scale: 2, previewSide: 4096)
        let photo = 4 * 4032 * 3024
        XCTAssertEqual(footprint.photo, photo)
        XCTAssertEqual(footprint.paddedInput, photo)
        XCTAssertEqual(footprint.tiles, 4 * 128 * 128 * 5)
        XCTAssertEqual(footprint.outputBitmap, 4 * photo)
        XCTAssertEqual(footprint.outputImage, 4 * photo)
        XCTAssertEqual(footprint.preview, 4 * 4096 * 3072)
        XCTAssertEqual(footprint.total, 10 * photo + 4 * 128 * 128 * 5 + 4 * 4096 * 3072)
        // The old check counted input and output once each: 5 * photo, half of what is held.
        XCTAssertGreaterThan(footprint.total, 2 * 5 * photo)
    }

    func testAPhotoSmallerThanTheTileCountsItsPaddingAndNoPreviewCopy() throws {
        let footprint = OutputBudget.Footprint(plan: try plan(100, 60), scale: 4, previewSide: 4096)
        XCTAssertEqual(footprint.paddedInput, 4 * 128 * 128)
        XCTAssertEqual(footprint.preview, 0, "a 400x240 output is its own preview")
    }

    func testLittleFreeMemoryRefusesWhatTheCapAllows() {
        // 1024x768 at x4 holds about 120 MB at once: under half of 300 MiB; a 12 MP photo at x2 does not fit.
        let tight = OutputBudget(availableBytes: 300 << 20)
        XCTAssertThrowsError(try check(tight, 4032, 3024, 2)) { error in
            XCTAssertTrue(error.localizedDescription.contains("at once"), error.localizedDescription)
        }
        XCTAssertNoThrow(try check(tight, 1024, 768, 4))
    }

    func testASideLongerThanJPEGAllowsIsRefused() {
        XCTAssertThrowsError(try check(roomy, 20_000, 100, 4)) { error in
            XCTAssertTrue(error.localizedDescription.contains("JPEG"))
        }
    }
}
