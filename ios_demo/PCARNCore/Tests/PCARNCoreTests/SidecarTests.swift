import XCTest
@testable import PCARNDemo

/// Decodes real sidecars written by the exporter: the default package
/// (`python -m pcarn_mobile.convert --target coreml`: x4, any size from 16 to 512) and a fixed one
/// (`--scale 2 --input-size 128x128`). tests/test_ios_demo.py validates the same files against the
/// sidecar schema.
final class SidecarTests: XCTestCase {
    private static let flexible = "pcarn_m_g4_x4_dyn_fp16.mlpackage"
    private static let fixed = "pcarn_m_g4_x2_128x128_fp16.mlpackage"

    private func fixture(_ name: String) throws -> Data {
        let url = try XCTUnwrap(Bundle(for: Self.self).url(forResource: name, withExtension: "json"), name)
        return try Data(contentsOf: url)
    }

    private func sidecar(_ name: String) throws -> Sidecar {
        try JSONDecoder().decode(Sidecar.self, from: fixture(name))
    }

    /// The fixture with `edit` applied to its JSON object.
    private func sidecar(_ name: String, editing edit: (inout [String: Any]) -> Void) throws -> Sidecar {
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: fixture(name)) as? [String: Any])
        edit(&object)
        return try JSONDecoder().decode(Sidecar.self, from: JSONSerialization.data(withJSONObject: object))
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
        XCTAssertEqual(decoded.tileSizing(preferredTile: 256), .flexible(tile: 256, minimumSide: 16))
        XCTAssertEqual(decoded.tileSizing(preferredTile: 1024), .flexible(tile: 512, minimumSide: 16))
        XCTAssertEqual(decoded.tileSizing(preferredTile: 8), .flexible(tile: 16, minimumSide: 16))
    }

    func testAFixedPackageIsTiledAtItsOwnSize() throws {
        let decoded = try sidecar(Self.fixed)
        XCTAssertEqual(decoded.scale, 2)
        XCTAssertEqual(decoded.tiling.tile, [128, 128])
        XCTAssertNil(decoded.input.sizeRange)
        XCTAssertEqual(decoded.tileSizing(preferredTile: 256), .fixed(height: 128, width: 128))
    }

    func testTheModelListSaysWhatEachPackageIs() throws {
        let model = try InstalledModel(compiledURL: URL(fileURLWithPath: "/app/pcarn_m_g4_x4_dyn_fp16.mlmodelc"),
                                       sidecar: sidecar(Self.flexible))
        XCTAssertEqual(model.name, "pcarn_m_g4_x4_dyn_fp16")
        XCTAssertEqual(model.summary, "x4 · fp16 · 256-px tiles")
        XCTAssertNil(model.warning)
    }

    func testUntrainedWeightsAndFailedParityAreFlagged() throws {
        let untrained = try sidecar(Self.fixed) { object in
            object["weights"] = ["file": NSNull(), "sha256": NSNull(), "kind": "random-init"] as [String: Any]
        }
        XCTAssertEqual(InstalledModel(compiledURL: URL(fileURLWithPath: "/m.mlmodelc"), sidecar: untrained).warning,
                       "Untrained weights (--random-init): the output is noise.")
        let mismatch = try sidecar(Self.fixed) { object in
            object["parity"] = ["verdict": "MISMATCH", "reasons": ["photos 20 dB"]] as [String: Any]
        }
        XCTAssertNotNil(InstalledModel(compiledURL: URL(fileURLWithPath: "/m.mlmodelc"), sidecar: mismatch).warning)
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
        let newer = try sidecar(Self.flexible) { $0["schema_version"] = 2 }
        XCTAssertNotNil(newer.unsupportedReason)
        let extended = try sidecar(Self.flexible) { $0["added_within_v1"] = ["anything": 1] }
        XCTAssertEqual(extended, try sidecar(Self.flexible))
    }
}
