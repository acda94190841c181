import XCTest
@testable import PCARNDemo

final class OutputBudgetTests: XCTestCase {
    private let roomy = OutputBudget(availableBytes: nil)

    func testAn8000x6000PhotoAtX4IsRefusedWithTheSizes() {
        XCTAssertThrowsError(try roomy.check(width: 8000, height: 6000, scale: 4)) { error in
            let message = error.localizedDescription
            XCTAssertTrue(message.contains("32000×24000 (768.0 MP)"), message)
            XCTAssertTrue(message.contains("at most 8.0 MP"), message)
        }
    }

    func testA12MegapixelPhotoFitsAtX2AndX3ButNotX4() {
        XCTAssertNoThrow(try roomy.check(width: 4032, height: 3024, scale: 2))
        XCTAssertNoThrow(try roomy.check(width: 4032, height: 3024, scale: 3))
        XCTAssertThrowsError(try roomy.check(width: 4032, height: 3024, scale: 4))
    }

    func testLittleFreeMemoryRefusesWhatTheCapAllows() {
        let tight = OutputBudget(availableBytes: 300 << 20)
        // 4 bytes x 12.2 MP x (1 + 4) = 244 MB, over half of 300 MiB.
        XCTAssertThrowsError(try tight.check(width: 4032, height: 3024, scale: 2))
        XCTAssertNoThrow(try tight.check(width: 1024, height: 768, scale: 4))
    }

    func testASideLongerThanJPEGAllowsIsRefused() {
        XCTAssertThrowsError(try roomy.check(width: 20_000, height: 100, scale: 4)) { error in
            XCTAssertTrue(error.localizedDescription.contains("JPEG"))
        }
    }
}
