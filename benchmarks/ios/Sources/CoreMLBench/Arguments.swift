import Foundation

/// What to measure.
public struct BenchmarkOptions {
    public var runs = 50
    public var warmup = 3
    public var units: [ComputeUnitName] = ComputeUnitName.allCases
    /// (height, width) for models whose input size is flexible; nil: the model's default size.
    public var inputSize: (Int, Int)?

    public init() {}
}

/// `coreml-bench MODEL... --json OUT [--runs N] [--warmup N] [--units LIST] [--input-size HxW]`
public struct Arguments {
    public let models: [URL]
    public let options: BenchmarkOptions
    public let json: URL

    public static let usage = """
        usage: coreml-bench MODEL.mlpackage|MODEL.mlmodelc... --json OUT [--runs N] [--warmup N]
                            [--units cpuOnly,cpuAndGPU,cpuAndNeuralEngine,all] [--input-size HxW]
        """

    /// Parses the command line (without the program name); a `BenchError` says what is wrong.
    public init(_ argv: [String]) throws {
        var rest = argv[...]
        var models: [URL] = []
        var options = BenchmarkOptions()
        var json: URL?
        func value(_ flag: String) throws -> String {
            guard let next = rest.popFirst() else { throw BenchError("\(flag) needs a value") }
            return next
        }
        func number(_ flag: String, minimum: Int) throws -> Int {
            let text = try value(flag)
            guard let number = Int(text), number >= minimum else {
                throw BenchError("\(flag) \(text): expected a whole number >= \(minimum)")
            }
            return number
        }
        while let word = rest.popFirst() {
            switch word {
            case "--runs": options.runs = try number(word, minimum: 1)
            case "--warmup": options.warmup = try number(word, minimum: 0)
            case "--json": json = URL(fileURLWithPath: try value(word))
            case "--units": options.units = try Arguments.units(try value(word))
            case "--input-size": options.inputSize = try Arguments.size(try value(word))
            case let flag where flag.hasPrefix("-"): throw BenchError("unknown option \(flag)")
            default: models.append(URL(fileURLWithPath: word))
            }
        }
        guard !models.isEmpty else { throw BenchError("no model given") }
        guard let out = json else { throw BenchError("--json OUT is required") }
        for model in models where !["mlpackage", "mlmodelc"].contains(model.pathExtension) {
            throw BenchError("\(model.path): expected an .mlpackage or .mlmodelc")
        }
        for model in models where !FileManager.default.fileExists(atPath: model.path) {
            throw BenchError("\(model.path): no such file")
        }
        self.models = models
        self.options = options
        self.json = out
    }

    static func units(_ text: String) throws -> [ComputeUnitName] {
        let names = text.split(separator: ",").map { String($0) }
        let units = names.compactMap(ComputeUnitName.init(rawValue:))
        guard !units.isEmpty, units.count == names.count else {
            let valid = ComputeUnitName.allCases.map { $0.rawValue }.joined(separator: ",")
            throw BenchError("--units \(text): choose from \(valid)")
        }
        return units
    }

    static func size(_ text: String) throws -> (Int, Int) {
        let sides = text.lowercased().split(separator: "x").compactMap { Int($0) }
        guard sides.count == 2, sides.allSatisfy({ $0 > 0 }) else {
            throw BenchError("--input-size \(text): expected HEIGHTxWIDTH such as 128x128")
        }
        return (sides[0], sides[1])
    }
}
