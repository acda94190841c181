#if canImport(CoreML)
import CoreMLBench
import XCTest

/// The benchmark itself, as a test, so it runs wherever Xcode can run tests: on a Mac, and on an
/// iPhone (`xcodebuild test -destination 'platform=iOS,id=<UDID>'`, benchmarks/README.md).
///
/// Models come from Models/, copied into the test bundle: put .mlpackage or .mlmodelc files there
/// with their sidecars (`<file>.json`). Settings come from the environment (xcodebuild passes
/// TEST_RUNNER_PCARN_RUNS as PCARN_RUNS to the test process): PCARN_RUNS, PCARN_WARMUP, PCARN_UNITS,
/// PCARN_INPUT_SIZE, as the command line's --runs, --warmup, --units, --input-size.
final class DeviceBenchmarkTests: XCTestCase {
    func testBenchmarkBundledModels() async throws {
        let folder = try XCTUnwrap(Bundle.module.url(forResource: "Models", withExtension: nil))
        let models = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { ["mlpackage", "mlmodelc"].contains($0.pathExtension) }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        try XCTSkipIf(models.isEmpty, "no .mlpackage or .mlmodelc in Tests/CoreMLBenchTests/Models: nothing to time")

        let environment = ProcessInfo.processInfo.environment
        var argv = models.map { $0.path } + ["--json", "result.json"]
        for (variable, flag) in [("PCARN_RUNS", "--runs"), ("PCARN_WARMUP", "--warmup"), ("PCARN_UNITS", "--units"),
                                 ("PCARN_INPUT_SIZE", "--input-size")] {
            if let value = environment[variable] {
                argv += [flag, value]
            }
        }
        let options = try Arguments(argv).options

        var results: [JSONObject<ResultKey>] = []
        for model in models {
            for result in await benchmark(modelAt: model, options: options) {
                print(summary(result))
                results.append(result)
            }
        }
        let data = try jsonData(makeDocument(results: results))
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("coreml-bench.json")
        try data.write(to: out, options: .atomic)
        let attachment = XCTAttachment(contentsOfFile: out)
        attachment.name = "coreml-bench.json"
        attachment.lifetime = .keepAlways
        add(attachment)
        // The same JSON in the log, between markers, for when the attachment is out of reach.
        print("PCARN-RESULT-BEGIN")
        print(String(decoding: data, as: UTF8.self))
        print("PCARN-RESULT-END")
        XCTAssertEqual(results.count, models.count * options.units.count)
    }
}
#endif
