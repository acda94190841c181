import Foundation
import PCARNCore
import os

/// What the benchmark records about the phone, and how much memory the app may still take.
nonisolated enum DeviceFacts {
    /// The hardware model identifier (`iPhone16,1`), which UIDevice does not give. The Simulator
    /// reports the Mac's architecture, so there the simulated model is named instead.
    static var modelIdentifier: String {
        if let simulated = ProcessInfo.processInfo.environment["SIMULATOR_MODEL_IDENTIFIER"] {
            return "Simulator \(simulated)"
        }
        var system = utsname()
        uname(&system)
        return withUnsafeBytes(of: &system.machine) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    static var latencyDevice: LatencyReport.Device {
        let process = ProcessInfo.processInfo
        let version = process.operatingSystemVersion
        let os = "iOS \(version.majorVersion).\(version.minorVersion).\(version.patchVersion)"
        return LatencyReport.Device(
            description: "\(modelIdentifier), \(os)",
            os: os,
            cores: process.activeProcessorCount,
            memoryGiB: (Double(process.physicalMemory) / Double(1 << 30) * 10).rounded() / 10,
            properties: ["model_identifier": modelIdentifier])
    }

    /// The run's tools: the app and the OS build (Core ML has no version of its own).
    static var latencyTools: [String: String] {
        let app = Bundle.main.object(forInfoDictionaryKey: "CFBundleShortVersionString") as? String ?? "unknown"
        return ["PCARNDemo": app, "iOS": ProcessInfo.processInfo.operatingSystemVersionString]
    }

    /// The output limit for this phone now: the fixed caps, and half of what iOS lets the app still
    /// allocate (`os_proc_available_memory` is 0 where it gives no figure, as in the Simulator).
    static var outputBudget: OutputBudget {
        let available = os_proc_available_memory()
        return OutputBudget(availableBytes: available > 0 ? available : nil)
    }
}
