import XCTest
@testable import PCARNCore

/// The tile the app feeds a Core ML package: on the Neural Engine only shapes Core ML compiled
/// ahead (issue 24: the app tiled at 256 while the package's default is 128).
final class PackageShapesTests: XCTestCase {
    private let square128 = TileShape(height: 128, width: 128)
    private var range: PackageShapes { PackageShapes(kind: .range(16...512), defaultShape: square128) }

    private func sizing(_ shapes: PackageShapes, _ height: Int, _ width: Int, _ unit: ComputeUnit,
                        area: Int = TileShapes.defaultMaxTileArea) throws -> TileSizing {
        try shapes.sizing(height: height, width: width, overlap: 24, unit: unit, maxTileArea: area)
    }

    func testARangePackageOnTheNeuralEngineIsTiledAtItsDefaultShape() throws {
        for unit in [ComputeUnit.all, .cpuAndNeuralEngine] {
            XCTAssertEqual(try sizing(range, 720, 1280, unit), .fixed(height: 128, width: 128), "\(unit)")
            XCTAssertEqual(try sizing(range, 50, 50, unit), .fixed(height: 128, width: 128), "padded, as upscale_array pads")
        }
    }

    func testARangePackageOnCPUOrGPUTakesTheFreeShape() throws {
        for unit in [ComputeUnit.cpuOnly, .cpuAndGPU] {
            XCTAssertEqual(try sizing(range, 180, 320, unit), .flexible(height: 180, width: 320, minimumSide: 16))
            let photo = try sizing(range, 3024, 4032, unit, area: 512 * 512)
            let plan = try TilePlan(height: 3024, width: 4032, sizing: photo, overlap: 24)
            XCTAssertLessThan(Double(plan.computedPixels) / Double(3024 * 4032), 1.3, "\(photo)")
        }
    }

    func testAFreeShapeStaysInsideTheRange() throws {
        // 100x5000 fits two 100x2524 tiles by area, but a side may not pass 512: ten 100x(512 or less).
        let sizing = try sizing(range, 100, 5000, .cpuOnly)
        guard case let .flexible(height, width, _) = sizing else { return XCTFail("\(sizing)") }
        XCTAssertEqual(height, 100)
        XCTAssertLessThanOrEqual(width, 512)
        let plan = try TilePlan(height: 100, width: 5000, sizing: sizing, overlap: 24)
        XCTAssertEqual(plan.columns.last?.keptUpper, 5000)
    }

    func testAPhotoThinnerThanBothOverlapsIsOneBandPaddedToTheMinimum() throws {
        // A 16-px tile side is fine where one tile spans that axis (upscale_array checks per axis).
        let sizing = try sizing(range, 1, 5000, .cpuOnly)
        guard case let .flexible(height, width, minimum) = sizing else { return XCTFail("\(sizing)") }
        XCTAssertEqual([height, minimum], [16, 16])
        XCTAssertLessThanOrEqual(width, 512)
        let plan = try TilePlan(height: 1, width: 5000, sizing: sizing, overlap: 24)
        XCTAssertEqual(plan.rows.count, 1)
        XCTAssertEqual(plan.columns.last?.keptUpper, 5000)
        XCTAssertEqual(try self.sizing(range, 40, 40, .cpuOnly), .flexible(height: 40, width: 40, minimumSide: 16))
    }

    func testTheSidecarsMaxTileAreaBoundsTheFreeShape() throws {
        let sizing = try sizing(range, 1080, 1920, .cpuOnly, area: 100_000)
        let tile = sizing.tileSize
        XCTAssertLessThanOrEqual(tile.height * tile.width, 100_000)
    }

    func testEnumeratedShapesArePickedPerPhotoOnEveryUnit() throws {
        let shapes = PackageShapes(kind: .enumerated([square128, TileShape(height: 180, width: 320)]), defaultShape: square128)
        for unit in ComputeUnit.allCases {
            XCTAssertEqual(try sizing(shapes, 180, 320, unit), .fixed(height: 180, width: 320))
            XCTAssertEqual(try sizing(shapes, 100, 100, unit), .fixed(height: 128, width: 128))
        }
        XCTAssertEqual(shapes.precompiled.count, 2)
    }

    func testAFixedPackageIsTiledAtItsOwnSize() throws {
        let fixed = PackageShapes(kind: .fixed(square128), defaultShape: square128)
        XCTAssertEqual(try sizing(fixed, 720, 1280, .cpuOnly), .fixed(height: 128, width: 128))
    }

    func testTheSidecarAndThePackageMustAgree() {
        XCTAssertNil(range.mismatch(with: .range(16...512)))
        let one = PackageShapes(kind: .enumerated([square128]), defaultShape: square128)
        XCTAssertNil(one.mismatch(with: .fixed(square128)), "one enumerated size is a fixed size")
        XCTAssertNotNil(one.mismatch(with: .fixed(TileShape(height: 256, width: 256))))
        XCTAssertEqual(range.mismatch(with: .range(16...256)),
                       "the package takes range 16..512 but its sidecar says range 16..256; reinstall it")
    }
}
