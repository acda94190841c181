// swift-tools-version:6.0
// The iOS/macOS latency harness: Core ML models timed per compute unit, written as the latency
// result every harness writes (benchmarks/schema/latency-v1.schema.json). No dependencies.
// Swift 6 language mode. The Core ML code sits behind `#if canImport(CoreML)`, so the rest (arguments,
// statistics, result keys and documents, delegation) builds and is tested on Linux too
// (tests/test_ios_core.py, with benchmarks/appcores/swift.py).
import PackageDescription

let package = Package(
    name: "CoreMLBench",
    platforms: [.macOS(.v13), .iOS(.v16)],  // .cpuAndNeuralEngine and the async compile API
    products: [
        .executable(name: "coreml-bench", targets: ["coreml-bench"]),
        .library(name: "CoreMLBench", targets: ["CoreMLBench"]),
    ],
    targets: [
        .target(name: "CoreMLBench"),
        .executableTarget(name: "coreml-bench", dependencies: ["CoreMLBench"]),
        // Models/ is copied into the test bundle as it is: the way models reach an iPhone.
        .testTarget(name: "CoreMLBenchTests", dependencies: ["CoreMLBench"], resources: [.copy("Models")]),
    ],
    swiftLanguageModes: [.v6]
)
