import Foundation

/// The largest upscale the app attempts, decided from the photo's size and its tile plan before
/// anything is allocated.
///
/// The output is one 8-bit BGRA bitmap (4 bytes a pixel) that must exist whole to be shown and
/// saved. An 8000x6000 photo at x4 would be 32000x24000 = 768 MP, 2.9 GiB: more than iOS lets an app
/// keep. So:
/// - the output is at most `maxOutputPixels` (128 MP, 512 MiB: x2 and x3 of a 12 MP photo fit, x4
///   takes photos up to 8 MP);
/// - no side is longer than `maxOutputSide`, JPEG's limit (the result is saved as JPEG);
/// - every copy held at once (`Footprint`) must fit in half of what iOS says the app may still
///   allocate (`os_proc_available_memory`), leaving the rest to Core ML, SwiftUI and the JPEG encoder.
public struct OutputBudget: Sendable {
    public static let maxOutputPixels = 128_000_000
    public static let maxOutputSide = 65_535

    /// What the app may still allocate; nil where iOS gives no figure (the Simulator).
    public let availableBytes: Int?

    public init(availableBytes: Int?) {
        self.availableBytes = availableBytes
    }

    public struct Refusal: LocalizedError, Equatable {
        public let errorDescription: String?
    }

    /// The bitmaps alive at the peak of one run (just after the output image is made, before the
    /// output bitmap is released), in bytes, 4 a pixel:
    /// - the decoded photo (a `CGImage`, held until the run ends);
    /// - its edge-padded BGRA copy the tiles are read from;
    /// - one input tile buffer and the model's output tile buffer;
    /// - the output bitmap;
    /// - the output `CGImage` made from it (counted as a copy: Core Graphics may copy on write);
    /// - the on-screen preview of the output (at most `previewSide` a side; none when it is that small).
    public struct Footprint: Equatable, Sendable {
        public let photo: Int
        public let paddedInput: Int
        public let tiles: Int
        public let outputBitmap: Int
        public let outputImage: Int
        public let preview: Int

        public var total: Int { photo + paddedInput + tiles + outputBitmap + outputImage + preview }

        public init(plan: TilePlan, scale: Int, previewSide: Int) {
            let bytes = 4
            let (outWidth, outHeight) = (plan.width * scale, plan.height * scale)
            let longest = max(outWidth, outHeight)
            let shrink = Double(previewSide) / Double(longest)
            photo = bytes * plan.width * plan.height
            paddedInput = bytes * plan.paddedWidth * plan.paddedHeight
            tiles = bytes * plan.tileWidth * plan.tileHeight * (1 + scale * scale)
            outputBitmap = bytes * outWidth * outHeight
            outputImage = outputBitmap
            // A small output is its own preview: no copy.
            preview = longest <= previewSide ? 0
                : bytes * max(1, Int(Double(outWidth) * shrink)) * max(1, Int(Double(outHeight) * shrink))
        }
    }

    /// Throws a `Refusal` (one line: the sizes, and what would fit) when the run does not fit.
    public func check(plan: TilePlan, scale: Int, previewSide: Int) throws {
        let (width, height) = (plan.width, plan.height)
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
        let needed = Footprint(plan: plan, scale: scale, previewSide: previewSide).total
        if let availableBytes, needed > availableBytes / 2 {
            throw Refusal(errorDescription: "\(makes): its bitmaps take \(Self.bytes(needed)) at once and this phone "
                + "leaves the app \(Self.bytes(availableBytes)) now; pick a smaller photo.")
        }
    }

    private static func megapixels(_ pixels: Int) -> String {
        String(format: "%.1f MP", Double(pixels) / 1_000_000)
    }

    private static func bytes(_ count: Int) -> String {
        ByteCountFormatter.string(fromByteCount: Int64(count), countStyle: .memory)
    }
}
