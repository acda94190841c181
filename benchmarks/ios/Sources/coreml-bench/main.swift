// coreml-bench: Core ML models timed per compute unit on this Mac (for an iPhone, run the test
// target on the device: benchmarks/README.md). Exit status as the Android harness: 0 all measured,
// 1 a measurement failed (recorded in the JSON, still written), 2 bad input (one error line).
import CoreMLBench
import Foundation

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    exit(2)
}

let argv = Array(CommandLine.arguments.dropFirst())
if argv.contains("--help") || argv.contains("-h") {
    print(Arguments.usage)
    exit(0)
}
let arguments: Arguments
do {
    arguments = try Arguments(argv)
} catch {
    fail("\(error) (see --help)")
}

#if canImport(CoreML)
var results: [JSONObject<ResultKey>] = []
for model in arguments.models {
    for result in await benchmark(modelAt: model, options: arguments.options) {
        print(summary(result))
        results.append(result)
    }
}
do {
    try jsonData(makeDocument(results: results)).write(to: arguments.json, options: .atomic)
    print("wrote \(arguments.json.path)")
} catch {
    fail("could not write \(arguments.json.path): \(error)")
}
exit(results.contains { $0[.latencyMs] is NSNull } ? 1 : 0)
#else
fail("timing needs Core ML (macOS or iOS); on Linux the package builds and its tests run, nothing is timed")
#endif
