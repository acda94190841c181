import CoreVideo
import Foundation

/// What can go wrong between a photo and its upscaled bitmap, each said in one line.
nonisolated enum InferenceError: LocalizedError {
    case bitmap(width: Int, height: Int)
    case pixelBuffer(CVReturn)
    case missingOutput(String)
    case shapes(String)
    case unexpectedOutput(String)
    case unreadablePhoto
    case encoding
    case photoLibraryDenied

    var errorDescription: String? {
        switch self {
        case let .bitmap(width, height):
            return "Could not allocate a \(width)×\(height) bitmap."
        case let .pixelBuffer(status):
            return "Could not create a tile pixel buffer (CVReturn \(status))."
        case let .missingOutput(name):
            return "The model returned no image named \"\(name)\"; its sidecar does not match the package."
        case let .shapes(mismatch):
            return "The package's input sizes do not match its sidecar: \(mismatch)."
        case let .unexpectedOutput(what):
            return "The model returned \(what); the demo expects the image-I/O package's 32BGRA tiles."
        case .unreadablePhoto:
            return "This photo could not be read."
        case .encoding:
            return "Could not encode the result as JPEG."
        case .photoLibraryDenied:
            return "Saving needs permission to add to Photos (Settings > Privacy > Photos)."
        }
    }
}
