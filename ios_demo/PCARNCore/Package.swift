// swift-tools-version:6.0
// The iOS demo's Foundation-only logic: tile shape and plan, sidecar reading and checks, latency
// report and statistics, output budget, 8-bit pixel maths. The app (PCARNDemo.xcodeproj) links the
// PCARNCore library; the suite builds and tests it with Swift 6 on Linux
// (benchmarks/appcores/swift.py), where no Xcode exists. Swift 6 language mode: complete strict
// concurrency checking, every warning reported.
import PackageDescription

let package = Package(
    name: "PCARNCore",
    platforms: [.iOS(.v16), .macOS(.v13)],
    products: [
        .library(name: "PCARNCore", targets: ["PCARNCore"]),
        // The cross-check entry point: one JSON request on stdin, the core's answers on stdout.
        .executable(name: "pcarn-core-check", targets: ["pcarn-core-check"]),
    ],
    targets: [
        .target(name: "PCARNCore"),
        .executableTarget(name: "pcarn-core-check", dependencies: ["PCARNCore"]),
        .testTarget(name: "PCARNCoreTests", dependencies: ["PCARNCore"], resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v6]
)
