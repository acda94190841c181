import CoreMLBench
import XCTest

final class StatisticsTests: XCTestCase {
    func testPercentilesInterpolateBetweenRanks() throws {
        let stats = try XCTUnwrap(LatencyStats(samples: [4, 1, 3, 2]))
        XCTAssertEqual(stats.min, 1)
        XCTAssertEqual(stats.max, 4)
        XCTAssertEqual(stats.p50, 2.5, accuracy: 1e-9)
        XCTAssertEqual(stats.p90, 3.7, accuracy: 1e-9)
        XCTAssertEqual(stats.mean, 2.5, accuracy: 1e-9)
        XCTAssertEqual(stats.std, 1.25.squareRoot(), accuracy: 1e-9)
        XCTAssertNil(LatencyStats(samples: []))
    }

    func testOneSampleIsEveryStatistic() throws {
        let stats = try XCTUnwrap(LatencyStats(samples: [9.8125]))
        XCTAssertEqual([stats.min, stats.p50, stats.p90, stats.max], [9.8125, 9.8125, 9.8125, 9.8125])
        XCTAssertEqual(stats.json[.p50] as? Double, 9.813)  // rounded to microseconds
    }

    func testArguments() throws {
        let model = FileManager.default.temporaryDirectory.appendingPathComponent("args-test.mlmodelc")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        let parsed = try Arguments([model.path, "--json", "out.json", "--runs", "5", "--units", "cpuOnly,all",
                                    "--input-size", "96x160"])
        XCTAssertEqual(parsed.options.runs, 5)
        XCTAssertEqual(parsed.options.units, [.cpuOnly, .all])
        XCTAssertEqual(parsed.options.inputSize?.0, 96)
        XCTAssertEqual(parsed.options.inputSize?.1, 160)
        XCTAssertThrowsError(try Arguments([model.path, "--json", "o.json", "--units", "npu"]))
        XCTAssertThrowsError(try Arguments([model.path]))
        XCTAssertThrowsError(try Arguments(["model.onnx", "--json", "o.json"]))
    }

    func testDelegationFromThePlan() {
        XCTAssertEqual(delegation(for: .cpuOnly, plan: ["cpu": 10])[.status] as? String, "not-applicable")
        XCTAssertEqual(delegation(for: .all, plan: nil)[.status] as? String, "unknown")
        XCTAssertEqual(delegation(for: .all, plan: ["neuralEngine": 190, "cpu": 10])[.status] as? String, "partial")
        XCTAssertEqual(delegation(for: .cpuAndGPU, plan: ["gpu": 200])[.status] as? String, "full")
        XCTAssertEqual(delegation(for: .cpuAndNeuralEngine, plan: ["cpu": 200])[.status] as? String, "none")
    }

    func testDocumentShape() throws {
        var result = JSONObject<ResultKey>()
        result[.model] = "m.mlpackage"
        let data = try jsonData(makeDocument(results: [result], now: Date(timeIntervalSince1970: 0)))
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(object["created_utc"] as? String, "1970-01-01T00:00:00Z")
        XCTAssertEqual(object["harness"] as? String, "ios")
        XCTAssertEqual(object["schema_version"] as? Int, 1)
    }
}
