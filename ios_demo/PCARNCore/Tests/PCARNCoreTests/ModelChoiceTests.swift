import XCTest
@testable import PCARNCore

/// `convert --ios-demo` installs an enumerated and a range package of one network; the picker lists
/// it once and the compute units decide which package loads (Neural Engine: the enumerated shapes;
/// CPU/GPU: the range, at the frame's free shape). tests/test_ios_core.py checks the same pairing on
/// the sidecars the exporter's own code describes.
final class ModelChoiceTests: XCTestCase {
    private let neuralEngine: [ComputeUnit] = [.all, .cpuAndNeuralEngine]
    private let cpuGPU: [ComputeUnit] = [.cpuOnly, .cpuAndGPU]

    /// A package of the x4 fixture's network, named `file`, with `edit` applied to its sidecar.
    private func package(_ file: String, _ edit: (inout [String: Any]) -> Void = { _ in }) throws -> InstalledModel {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "pcarn_m_g4_x4_dyn_fp16.mlpackage", withExtension: "json",
                                                  subdirectory: "Fixtures"))
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        object["file"] = file
        edit(&object)
        let sidecar = try Sidecar.decode(JSONSerialization.data(withJSONObject: object))
        return InstalledModel(compiledURL: URL(fileURLWithPath: "/bundle/\(file.replacingOccurrences(of: ".mlpackage", with: ".mlmodelc"))"),
                              sidecar: sidecar)
    }

    private func enumerated(_ file: String = "pcarn_m_g4_x4_128x128-184x184-304x304_fp16.mlpackage",
                            _ edit: (inout [String: Any]) -> Void = { _ in }) throws -> InstalledModel {
        try package(file) { object in
            var input = object["input"] as? [String: Any] ?? [:]
            input["size_range"] = NSNull()
            input["sizes"] = [[128, 128], [184, 184], [304, 304]]
            object["input"] = input
            var tiling = object["tiling"] as? [String: Any] ?? [:]
            tiling["tile"] = [128, 128]
            object["tiling"] = tiling
            edit(&object)
        }
    }

    private func range(_ file: String = "pcarn_m_g4_x4_dyn_fp16.mlpackage",
                       _ edit: (inout [String: Any]) -> Void = { _ in }) throws -> InstalledModel {
        try package(file) { object in
            var input = object["input"] as? [String: Any] ?? [:]
            input["size_range"] = [16, 2162]
            object["input"] = input
            var tiling = object["tiling"] as? [String: Any] ?? [:]
            tiling["max_tile_area"] = 105_961
            object["tiling"] = tiling
            edit(&object)
        }
    }

    func testTheTwoPackagesOfOneNetworkAreOneChoiceThatPicksByComputeUnit() throws {
        let (fixed, flexible) = (try enumerated(), try range())
        let choices = ModelChoice.pair([flexible, fixed])
        XCTAssertEqual(choices.count, 1)
        let choice = try XCTUnwrap(choices.first)
        for unit in neuralEngine {
            XCTAssertEqual(choice.package(for: unit).id, fixed.id, "\(unit)")
        }
        for unit in cpuGPU {
            XCTAssertEqual(choice.package(for: unit).id, flexible.id, "\(unit)")
        }
        XCTAssertEqual(choice.name, fixed.name)
        XCTAssertTrue(choice.summary.contains("range 16..2162 (CPU, GPU)"), choice.summary)
    }

    func testEachPackageIsTiledTheWayItsUnitAllows() throws {
        // A 1080p-x2-sized frame: the Neural Engine gets the best shipped shape, CPU/GPU the free shape.
        let choice = try XCTUnwrap(ModelChoice.pair([try enumerated(), try range()]).first)
        func computed(_ unit: ComputeUnit) throws -> Double {
            let entry = choice.package(for: unit)
            let kind = try XCTUnwrap(entry.sidecar.shapes)
            let shapes = PackageShapes(kind: kind, defaultShape: TileShape(height: 128, width: 128))
            let sizing = try shapes.sizing(height: 540, width: 960, overlap: 24, unit: unit,
                                           maxTileArea: entry.sidecar.maxTileArea)
            let plan = try TilePlan(height: 540, width: 960, sizing: sizing, overlap: 24)
            return Double(plan.computedPixels) / Double(540 * 960)
        }
        XCTAssertLessThanOrEqual(try computed(.cpuAndGPU), 1.3)
        XCTAssertGreaterThan(try computed(.all), 1.3, "the shipped shapes alone compute more")
    }

    func testADifferentNetworkOrPrecisionIsNotPaired() throws {
        let fixed = try enumerated()
        let fp32 = try range("pcarn_m_g4_x4_dyn_fp32.mlpackage") { $0["precision"] = "fp32"; $0["variant"] = "fp32" }
        let other = try range("pcarn_m_g4_x4_dyn_fp16_b.mlpackage") { object in
            var weights = object["weights"] as? [String: Any] ?? [:]
            weights["sha256"] = String(repeating: "0", count: 64)
            object["weights"] = weights
        }
        let choices = ModelChoice.pair([fixed, fp32, other])
        XCTAssertEqual(choices.map(\.packages.count), [1, 1, 1])
        // Alone, a package serves every unit: the range one runs on the Neural Engine at its default.
        for unit in ComputeUnit.allCases {
            XCTAssertEqual(choices[0].package(for: unit).id, fixed.id)
            XCTAssertEqual(choices[1].package(for: unit).id, fp32.id)
        }
    }

    func testTwoRangePackagesOfOneNetworkStayApart() throws {
        // Which range would CPU/GPU get? Not guessed: each is listed on its own, in install order.
        let choices = ModelChoice.pair([try enumerated(), try range(), try range("pcarn_m_g4_x4_dyn_ios17_fp16.mlpackage")])
        XCTAssertEqual(choices.count, 3)
        XCTAssertEqual(Set(choices.map(\.id)).count, 3)
    }
}
