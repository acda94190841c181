import Foundation

/// A sysctl string ("hw.model" on a Mac: "Mac14,2"; "hw.machine" on an iPhone: "iPhone15,2").
func sysctlString(_ name: String) -> String? {
    #if canImport(Darwin)
    var size = 0
    guard sysctlbyname(name, nil, &size, nil, 0) == 0, size > 0 else { return nil }
    var bytes = [CChar](repeating: 0, count: size)
    guard sysctlbyname(name, &bytes, &size, nil, 0) == 0 else { return nil }
    return String(decoding: bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    #else
    return nil  // Linux has no sysctlbyname: the facts are "unknown" there
    #endif
}

/// The OS as "iOS 17.5" / "macOS 14.4.1".
func osName() -> String {
    let v = ProcessInfo.processInfo.operatingSystemVersion
    #if os(macOS)
    let platform = "macOS"
    #else
    let platform = "iOS"
    #endif
    return "\(platform) \(v.majorVersion).\(v.minorVersion)" + (v.patchVersion > 0 ? ".\(v.patchVersion)" : "")
}

/// The schema's `device`: the model identifier and OS in one line, and the raw facts.
public func deviceObject() -> JSONObject<DeviceKey> {
    #if os(macOS)
    let identifierKey = "hw.model"
    #else
    let identifierKey = "hw.machine"
    #endif
    let identifier = sysctlString(identifierKey) ?? "unknown"
    let info = ProcessInfo.processInfo
    var device = JSONObject<DeviceKey>()
    device[.description] = "\(identifier) (\(osName()))"
    device[.os] = "\(osName()) (\(info.operatingSystemVersionString))"
    device[.cpu] = sysctlString("machdep.cpu.brand_string")  // Macs only
    device[.cores] = info.activeProcessorCount
    device[.memoryGiB] = (Double(info.physicalMemory) / 1_073_741_824 * 10).rounded() / 10
    device[.properties] = [identifierKey: identifier]
    return device
}

/// The whole result document around `results`.
public func makeDocument(results: [JSONObject<ResultKey>], now: Date = Date()) -> JSONObject<DocumentKey> {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    formatter.timeZone = TimeZone(identifier: "UTC")
    var document = JSONObject<DocumentKey>()
    document[.schemaVersion] = 1
    document[.harness] = Harness.ios.rawValue
    document[.createdUTC] = formatter.string(from: now)
    document[.device] = deviceObject().storage
    document[.tools] = [ToolName.coremlBench.rawValue: toolVersion,
                        ToolName.os.rawValue: ProcessInfo.processInfo.operatingSystemVersionString]
    document[.results] = results.map { $0.storage }
    return document
}

/// This package's version, recorded with every result.
public let toolVersion = "1.0.0"

/// One progress line per result.
public func summary(_ result: JSONObject<ResultKey>) -> String {
    let latency = (result[.latencyMs] as? [String: Any])?[StatsKey.p50.rawValue] as? Double
    let load = (result[.loadMs] as? Double).map { String(format: "load %.0f ms, ", $0) } ?? ""
    let timing = latency.map { String(format: "p50 %.2f ms", $0) } ?? "FAILED: \(result[.error] ?? "?")"
    let status = (result[.delegation] as? [String: Any])?[DelegationKey.status.rawValue] as? String ?? "?"
    return "  \(result[.model] ?? "?")  \(result[.backend] ?? "?")  \(load)\(timing)  delegation: \(status)"
}
