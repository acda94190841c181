import XCTest
@testable import PCARNCore

/// Decodes real sidecars written by the exporter: the default package
/// (`python -m pcarn_mobile.convert --target coreml`: x4, any size from 16 to 512) and a fixed one
/// (`--scale 2 --input-size 128x128`). tests/test_ios_demo.py validates the same files against the
/// sidecar schema.
final class SidecarTests: XCTestCase {
    private static let flexible = "pcarn_m_g4_x4_dyn_fp16.mlpackage"
    private static let fixed = "pcarn_m_g4_x2_128x128_fp16.mlpackage"

    private func fixture(_ name: String) throws -> Data {
        let url = try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures"), name)
        return try Data(contentsOf: url)
    }

    private func sidecar(_ name: String) throws -> Sidecar {
        try Sidecar.decode(fixture(name))
    }

    /// The fixture with `edit` applied to its JSON object.
    private func sidecar(_ name: String, editing edit: (inout [String: Any]) -> Void) throws -> Sidecar {
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: fixture(name)) as? [String: Any])
        edit(&object)
        return try Sidecar.decode(JSONSerialization.data(withJSONObject: object))
    }

    func testTheDefaultPackageTakesARangeOfSizes() throws {
        let decoded = try sidecar(Self.flexible)
        XCTAssertEqual(decoded.file, Self.flexible)
        XCTAssertEqual(decoded.scale, 4)
        XCTAssertEqual([decoded.input.name, decoded.output.name], ["lr", "sr"])
        XCTAssertEqual(decoded.input.sizeRange, [16, 512])
        XCTAssertNil(decoded.tiling.tile)
        XCTAssertEqual(decoded.tiling.overlap, 24)
        XCTAssertEqual(decoded.parity.verdict, "OK")
        XCTAssertNil(decoded.unsupportedReason)
        XCTAssertEqual(decoded.shapes, .range(16...512))
        XCTAssertEqual(decoded.schemaVersion, 2)
        XCTAssertNil(decoded.tiling.maxTileArea, "written before tiling.max_tile_area")
        XCTAssertEqual(decoded.maxTileArea, TileShapes.defaultMaxTileArea)
    }

    func testAFixedPackageIsTiledAtItsOwnSize() throws {
        let decoded = try sidecar(Self.fixed)
        XCTAssertEqual(decoded.scale, 2)
        XCTAssertEqual(decoded.tiling.tile, [128, 128])
        XCTAssertNil(decoded.input.sizeRange)
        XCTAssertEqual(decoded.shapes, .fixed(TileShape(height: 128, width: 128)))
    }

    func testEnumeratedSizesAndTheMaxTileAreaOfVersion2AreRead() throws {
        let enumerated = try sidecar(Self.fixed) { object in
            var input = object["input"] as? [String: Any] ?? [:]
            input["sizes"] = [[128, 128], [180, 320]]
            object["input"] = input
            object["schema_version"] = 2
            var tiling = object["tiling"] as? [String: Any] ?? [:]
            tiling["max_tile_area"] = 90_000
            object["tiling"] = tiling
            object["npu"] = ["vendor": "qualcomm", "soc": "SM8650"]
        }
        XCTAssertNil(enumerated.unsupportedReason, "the app reads version 2")
        XCTAssertEqual(enumerated.shapes, .enumerated([TileShape(height: 128, width: 128), TileShape(height: 180, width: 320)]))
        XCTAssertEqual(enumerated.maxTileArea, 90_000)
    }

    func testAVersion1SidecarStillRuns() throws {
        let older = try sidecar(Self.flexible) { $0["schema_version"] = 1 }
        XCTAssertNil(older.unsupportedReason)
    }

    func testASidecarWithoutAnyInputSizeIsRefused() throws {
        let sizeless = try sidecar(Self.flexible) { object in
            var input = object["input"] as? [String: Any] ?? [:]
            input.removeValue(forKey: "size_range")
            object["input"] = input
        }
        XCTAssertEqual(sizeless.unsupportedReason?.contains("no input size"), true)
    }

    func testTheModelListSaysWhatEachPackageIs() throws {
        let model = try InstalledModel(compiledURL: URL(fileURLWithPath: "pcarn_m_g4_x4_dyn_fp16.mlmodelc"),
                                       sidecar: sidecar(Self.flexible))
        XCTAssertEqual(model.name, "pcarn_m_g4_x4_dyn_fp16")
        XCTAssertEqual(model.summary, "x4 · fp16 · range 16..512")
        XCTAssertNil(model.warning)
    }

    func testUntrainedWeightsAndFailedParityAreFlagged() throws {
        let untrained = try sidecar(Self.fixed) { object in
            object["weights"] = ["file": NSNull(), "sha256": NSNull(), "kind": "random-init"] as [String: Any]
        }
        XCTAssertEqual(InstalledModel(compiledURL: URL(fileURLWithPath: "m.mlmodelc"), sidecar: untrained).warning,
                       "Untrained weights (--random-init): the output is noise.")
        let mismatch = try sidecar(Self.fixed) { object in
            object["parity"] = ["verdict": "MISMATCH", "reasons": ["photos 20 dB"]] as [String: Any]
        }
        XCTAssertNotNil(InstalledModel(compiledURL: URL(fileURLWithPath: "m.mlmodelc"), sidecar: mismatch).warning)
    }

    func testTensorIOPackagesAreRefusedWithTheReason() throws {
        let tensors = try sidecar(Self.flexible) { object in
            var input = object["input"] as? [String: Any] ?? [:]
            input["layout"] = "NCHW"
            object["input"] = input
        }
        XCTAssertEqual(tensors.unsupportedReason?.contains("--tensor-io"), true)
    }

    func testANewerSchemaIsRefusedAndNewFieldsAreIgnored() throws {
        let newer = try sidecar(Self.flexible) { $0["schema_version"] = 3 }
        XCTAssertEqual(newer.unsupportedReason, "sidecar schema_version 3; this app reads versions 1 to 2")
        let extended = try sidecar(Self.flexible) { $0["added_within_v1"] = ["anything": 1] }
        XCTAssertEqual(extended, try sidecar(Self.flexible))
    }
}
