import XCTest
@testable import PCARNCore

final class LatencyReportTests: XCTestCase {
    private static let failure = "The model could not be loaded."

    /// A report with one measured and one failed entry; its JSON must equal
    /// Fixtures/latency-ios-app-example.json, which tests/test_ios_demo.py validates against
    /// benchmarks/schema/latency-v1.schema.json.
    private static let example = LatencyReport(
        createdUTC: "2026-01-02T03:04:05Z",
        device: .init(description: "iPhone16,1, iOS 18.2.0", os: "iOS 18.2.0", cores: 6, memoryGiB: 7.5,
                      properties: ["model_identifier": "iPhone16,1"]),
        tools: ["PCARNDemo": "1.0", "iOS": "Version 18.2 (Build 22C152)"],
        results: [
            .init(model: "pcarn_m_g4_x4_dyn_fp16.mlpackage", precision: "fp16", variant: "fp16", scale: 4, groups: 4,
                  backend: .all, input: [256, 256], runs: 20, warmup: 3,
                  latencyMs: LatencyReport.Stats(min: 11.5, p50: 12.25, p90: 13.75, mean: 12.5, max: 15, std: 0.75),
                  loadMs: 4100.5, firstInferenceMs: 35.25, computePlan: ["neuralEngine": 104],
                  delegation: .init(unit: .all, computePlan: ["neuralEngine": 104]), error: nil),
            .init(model: "pcarn_m_g4_x4_dyn_fp16.mlpackage", precision: "fp16", variant: "fp16", scale: 4, groups: 4,
                  backend: .cpuAndNeuralEngine, input: [256, 256], runs: 0, warmup: 0, latencyMs: nil, loadMs: nil,
                  firstInferenceMs: nil, computePlan: nil, delegation: .failed(failure), error: failure),
        ])

    func testTheWrittenJSONIsTheSchemaCheckedExample() throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "latency-ios-app-example", withExtension: "json", subdirectory: "Fixtures"))
        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? NSDictionary
        let written = try JSONSerialization.jsonObject(with: Self.example.encoded()) as? NSDictionary
        XCTAssertNotNil(written)
        XCTAssertEqual(written, expected)
    }

    func testAFailedRunWritesLatencyAsNull() throws {
        let written = try JSONSerialization.jsonObject(with: Self.example.encoded()) as? [String: Any]
        let failed = try XCTUnwrap((written?["results"] as? [[String: Any]])?.last)
        XCTAssertTrue(failed["latency_ms"] is NSNull, "the schema requires the key")
        XCTAssertNil(failed["load_ms"])
    }

    func testStatisticsFollowNumPy() throws {
        let stats = try XCTUnwrap(LatencyReport.Stats(samples: [4, 1, 10, 3, 2]))
        XCTAssertEqual(stats, .init(min: 1, p50: 3, p90: 7.6, mean: 4, max: 10, std: 3.162))
        XCTAssertNil(LatencyReport.Stats(samples: []))
    }

    func testDelegationSaysWhereTheComputePlanPutTheWork() {
        func status(_ unit: ComputeUnit, _ plan: [String: Int]?) -> LatencyReport.DelegationStatus {
            LatencyReport.Delegation(unit: unit, computePlan: plan).status
        }
        XCTAssertEqual(status(.cpuOnly, ["cpu": 40]), .notApplicable)
        XCTAssertEqual(status(.all, ["neuralEngine": 38, "gpu": 2]), .full)
        XCTAssertEqual(status(.cpuAndNeuralEngine, ["neuralEngine": 38, "cpu": 2]), .partial)
        XCTAssertEqual(status(.cpuAndGPU, ["cpu": 40]), .cpuFallback)
        XCTAssertEqual(status(.cpuAndGPU, nil), .unknown)
    }
}
