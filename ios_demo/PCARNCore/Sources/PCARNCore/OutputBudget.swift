import Foundation

/// The largest upscale the app attempts, decided from the photo's size before anything is allocated.
///
/// The tiles are written into one 8-bit BGRA output bitmap (4 bytes a pixel) held beside the decoded
/// photo, and that bitmap is what gets shown and saved. An 8000x6000 photo at x4 would be
/// 32000x24000 = 768 MP, 2.9 GiB: more than iOS lets an app keep. So:
/// - the output is at most `maxOutputPixels` (128 MP, 512 MiB: x2 and x3 of a 12 MP photo fit, x4
///   takes photos up to 8 MP);
/// - no side is longer than `maxOutputSide`, JPEG's limit (the result is saved as JPEG);
/// - photo + output must fit in half of what iOS says the app may still allocate
///   (`os_proc_available_memory`), leaving the rest to Core ML, SwiftUI and the JPEG encoder.
struct OutputBudget {
    static let maxOutputPixels = 128_000_000
    static let maxOutputSide = 65_535

    /// What the app may still allocate; nil where iOS gives no figure (the Simulator).
    let availableBytes: Int?

    struct Refusal: LocalizedError, Equatable {
        let errorDescription: String?
    }

    /// Bytes the input and output bitmaps of a run take.
    private static func bytesNeeded(width: Int, height: Int, scale: Int) -> Int {
        4 * width * height * (1 + scale * scale)
    }

    func check(width: Int, height: Int, scale: Int) throws {
        let (outWidth, outHeight) = (width * scale, height * scale)
        let outPixels = outWidth * outHeight
        let makes = "\(width)×\(height) at x\(scale) makes \(outWidth)×\(outHeight) (\(Self.megapixels(outPixels)))"
        if outPixels > Self.maxOutputPixels {
            let limit = Self.megapixels(Self.maxOutputPixels / (scale * scale))
            throw Refusal(errorDescription: "\(makes): over this app's \(Self.megapixels(Self.maxOutputPixels)) "
                + "output limit. At x\(scale) pick a photo of at most \(limit), or crop this one.")
        }
        if max(outWidth, outHeight) > Self.maxOutputSide {
            throw Refusal(errorDescription: "\(makes): a side over \(Self.maxOutputSide) px cannot be saved as JPEG; "
                + "crop the photo.")
        }
        let needed = Self.bytesNeeded(width: width, height: height, scale: scale)
        if let availableBytes, needed > availableBytes / 2 {
            throw Refusal(errorDescription: "\(makes): it needs \(Self.bytes(needed)) and this phone leaves the app "
                + "\(Self.bytes(availableBytes)) now; pick a smaller photo.")
        }
    }

    private static func megapixels(_ pixels: Int) -> String {
        String(format: "%.1f MP", Double(pixels) / 1_000_000)
    }

    private static func bytes(_ count: Int) -> String {
        ByteCountFormatter.string(fromByteCount: Int64(count), countStyle: .memory)
    }
}
