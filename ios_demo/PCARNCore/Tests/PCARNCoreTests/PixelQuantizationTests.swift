import XCTest
@testable import PCARNCore

/// The Kotlin core's PixelCodecTest, for the iOS maths; tests/test_ios_core.py compares every byte
/// with Python on real package outputs.
final class PixelQuantizationTests: XCTestCase {
    func testFloatOutputIsClampedAndRoundedHalfUp() {
        XCTAssertEqual(PixelQuantization.pixel(unit: -0.3), 0)
        XCTAssertEqual(PixelQuantization.pixel(unit: 1.7), 255)
        XCTAssertEqual(PixelQuantization.pixel(unit: 0.5 / 255), 1, "half rounds up, not down")
        XCTAssertEqual(PixelQuantization.pixel(unit: 0.49 / 255), 0)
        XCTAssertEqual(PixelQuantization.pixel(unit: 254.6 / 255), 255, "a bare clamp and truncate would give 254")
        XCTAssertEqual(PixelQuantization.pixel(unit: .nan), 0)
    }

    func testImageValuesRoundToTheNearestByte() {
        XCTAssertEqual(PixelQuantization.pixel(imageValue: 254.6), 255)
        XCTAssertEqual(PixelQuantization.pixel(imageValue: 12.5), 13)
        XCTAssertEqual(PixelQuantization.pixel(imageValue: 12.49), 12)
        XCTAssertEqual(PixelQuantization.pixel(imageValue: -3), 0)
        XCTAssertEqual(PixelQuantization.pixel(imageValue: 300), 255)
    }

    func testEveryByteSurvivesTheRoundTrip() {
        for value in 0...255 {
            let channel = UInt8(value)
            XCTAssertEqual(PixelQuantization.pixel(unit: PixelQuantization.unit(channel)), channel)
            XCTAssertEqual(PixelQuantization.pixel(imageValue: Float(value)), channel, "a whole-number image value")
        }
    }

    func testInputIsOver255() {
        XCTAssertEqual(PixelQuantization.unit(0), 0)
        XCTAssertEqual(PixelQuantization.unit(255), 1)
        XCTAssertEqual(PixelQuantization.unit(51), Float(51) / 255)
    }
}
