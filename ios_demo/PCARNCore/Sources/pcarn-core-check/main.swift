// The iOS core's answers for the suite's cross-checks against Python (benchmarks/appcores/swift.py):
//
//   pcarn-core-check json < REQUEST.json > ANSWER.json
//       {"tile_plans": [case...], "packages": [case...]} -> the same keys, one answer per case:
//       - tile_plans: {height, width, overlap} plus "shapes": [[h, w]...] or "max_area" (the
//         interface of benchmarks/appcores/__init__.py) -> {shape, tiles, computed, rows, columns}
//         or {error};
//       - packages: {height, width, overlap, unit, kind: fixed|enumerated|range, sizes, range,
//         default, max_area} -> the app's own choice for a Core ML package (PackageShapes.sizing):
//         {sizing: fixed|flexible, tile, padded, tiles, computed, rows, columns} or {error};
//       rows/columns: [start, keptLower, keptUpper] per tile row and column;
//       - catalog: [sidecar object...] (installed packages, in order) -> the picker's choices
//         (ModelChoice.pair): [{packages: [file...], load: {unit: file}}].
//   pcarn-core-check quantize unit|image FLOATS.f32 PIXELS.u8
//       little-endian float32 values -> one byte each (PixelQuantization.pixel).
import Foundation
import PCARNCore

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("pcarn-core-check: \(message)\n".utf8))
    exit(2)
}

func int(_ value: Any?, _ key: String) throws -> Int {
    guard let number = value as? Int else { throw CheckError("'\(key)' is missing or not an integer") }
    return number
}

func shapes(_ value: Any?, _ key: String) throws -> [TileShape] {
    guard let list = value as? [[Int]], list.allSatisfy({ $0.count == 2 }) else {
        throw CheckError("'\(key)' is not a list of [h, w]")
    }
    return list.map { TileShape(height: $0[0], width: $0[1]) }
}

struct CheckError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func spans(_ plan: TilePlan) -> [String: Any] {
    func triples(_ spans: [TileSpan]) -> [[Int]] { spans.map { [$0.start, $0.keptLower, $0.keptUpper] } }
    return ["tiles": plan.count, "computed": plan.computedPixels, "rows": triples(plan.rows),
            "columns": triples(plan.columns), "tile": [plan.tileHeight, plan.tileWidth],
            "padded": [plan.paddedHeight, plan.paddedWidth]]
}

/// One case of the shared interface: the shape TileShapes picks, and the plan TilePlan makes of it.
func tilePlan(_ request: [String: Any]) throws -> [String: Any] {
    let (height, width) = (try int(request["height"], "height"), try int(request["width"], "width"))
    let overlap = try int(request["overlap"], "overlap")
    let shape: TileShape
    let sizing: TileSizing
    if let candidates = request["shapes"] {
        shape = try TileShapes.bestFixed(height: height, width: width, shapes: try shapes(candidates, "shapes"),
                                         overlap: overlap)
        sizing = .fixed(height: shape.height, width: shape.width)
    } else {
        shape = try TileShapes.bestFree(height: height, width: width, overlap: overlap,
                                        maxArea: try int(request["max_area"], "max_area"))
        sizing = .flexible(height: shape.height, width: shape.width, minimumSide: 1)
    }
    var answer = spans(try TilePlan(height: height, width: width, sizing: sizing, overlap: overlap))
    answer["shape"] = [shape.height, shape.width]
    return answer
}

/// The app's choice for a Core ML package on one compute-unit setting.
func package(_ request: [String: Any]) throws -> [String: Any] {
    let (height, width) = (try int(request["height"], "height"), try int(request["width"], "width"))
    let overlap = try int(request["overlap"], "overlap")
    guard let unit = (request["unit"] as? String).flatMap(ComputeUnit.init(rawValue:)) else {
        throw CheckError("'unit' is not a compute unit")
    }
    let kind: PackageShapes.Kind
    switch request["kind"] as? String {
    case "fixed": kind = .fixed(try shapes(request["sizes"], "sizes")[0])
    case "enumerated": kind = .enumerated(try shapes(request["sizes"], "sizes"))
    case "range":
        guard let range = request["range"] as? [Int], range.count == 2 else { throw CheckError("'range' is not [lo, hi]") }
        kind = .range(range[0]...range[1])
    default: throw CheckError("'kind' is not fixed, enumerated or range")
    }
    let defaultShape = try shapes([request["default"] ?? []], "default")[0]
    let sizing = try PackageShapes(kind: kind, defaultShape: defaultShape)
        .sizing(height: height, width: width, overlap: overlap, unit: unit,
                maxTileArea: (request["max_area"] as? Int) ?? TileShapes.defaultMaxTileArea)
    var answer = spans(try TilePlan(height: height, width: width, sizing: sizing, overlap: overlap))
    if case .fixed = sizing { answer["sizing"] = "fixed" } else { answer["sizing"] = "flexible" }
    return answer
}

/// The model picker's entries for installed packages described by their sidecars.
func catalog(_ sidecars: Any?) throws -> [[String: Any]] {
    let models = try ((sidecars as? [[String: Any]]) ?? []).map { object in
        let sidecar = try Sidecar.decode(JSONSerialization.data(withJSONObject: object))
        return InstalledModel(compiledURL: URL(fileURLWithPath: sidecar.file), sidecar: sidecar)
    }
    return ModelChoice.pair(models).map { choice in
        ["packages": choice.packages.map(\.sidecar.file),
         "load": Dictionary(uniqueKeysWithValues: ComputeUnit.allCases.map { ($0.rawValue, choice.package(for: $0).sidecar.file) })]
    }
}

func answers(_ cases: Any?, _ body: ([String: Any]) throws -> [String: Any]) -> [[String: Any]] {
    ((cases as? [[String: Any]]) ?? []).map { request in
        do {
            return try body(request)
        } catch {
            return ["error": (error as? LocalizedError)?.errorDescription ?? "\(error)"]
        }
    }
}

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "json":
    let input = FileHandle.standardInput.readDataToEndOfFile()
    guard let request = (try? JSONSerialization.jsonObject(with: input)) as? [String: Any] else {
        fail("stdin is not a JSON object")
    }
    let choices: Any
    do {
        choices = try catalog(request["catalog"])
    } catch {
        choices = ["error": "\(error)"]
    }
    let answer: [String: Any] = [
        "catalog": choices,
        "tile_plans": answers(request["tile_plans"], tilePlan),
        "packages": answers(request["packages"], package),
        "default_max_tile_area": TileShapes.defaultMaxTileArea,
    ]
    do {
        FileHandle.standardOutput.write(try JSONSerialization.data(withJSONObject: answer, options: [.sortedKeys]))
    } catch {
        fail("could not write the answer: \(error)")
    }
case "quantize" where arguments.count == 4:
    let convert: (Float) -> UInt8
    switch arguments[1] {
    case "unit": convert = PixelQuantization.pixel(unit:)
    case "image": convert = PixelQuantization.pixel(imageValue:)
    default: fail("quantize takes unit or image, not \(arguments[1])")
    }
    guard let data = FileManager.default.contents(atPath: arguments[2]), data.count % 4 == 0 else {
        fail("\(arguments[2]): not a float32 file")
    }
    let pixels = data.withUnsafeBytes { raw in
        (0..<data.count / 4).map { convert(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))) }
    }
    guard FileManager.default.createFile(atPath: arguments[3], contents: Data(pixels)) else {
        fail("could not write \(arguments[3])")
    }
default:
    fail("usage: pcarn-core-check json < REQUEST | quantize unit|image FLOATS.f32 PIXELS.u8")
}
