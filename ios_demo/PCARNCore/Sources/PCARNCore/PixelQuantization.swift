import Foundation

/// The 8-bit maths between pixels and the network, in float32 as the Python reference does it, so
/// the app's bytes are `upscale`'s bytes:
///
/// - in: `x = c / 255` (what the package's image input computes with its `scale = 1/255`);
/// - out: `floor(clip(x, 0, 1) * 255 + 0.5)` (`pcarn_mobile.tiling.upscale_image`,
///   `evaluation.to_uint8`): round half up, never a bare clamp-and-truncate.
///
/// An image-I/O package's output is already pixel-scaled (0..255): its program multiplies by 255,
/// clamps and rounds half up, so the float it hands Core ML is a whole number and Core ML's
/// conversion to the 8-bit output buffer cannot change it, whatever that conversion's own rounding
/// rule. `pixel(imageValue:)` is that value's byte, computed as Python computes it from the
/// converted package's float output (`coreml_runner` divides by 255, `upscale_image` rounds); the
/// suite checks both against Python on real package outputs (tests/test_ios_core.py).
public enum PixelQuantization {
    /// An 8-bit channel as the network's input value in [0, 1].
    public static func unit(_ channel: UInt8) -> Float {
        Float(channel) / 255
    }

    /// A network output in [0, 1] (values outside are clamped, NaN is 0) as an 8-bit channel, rounded half up.
    public static func pixel(unit x: Float) -> UInt8 {
        guard !x.isNaN else { return 0 }
        let clipped = min(max(x, 0), 1)
        return UInt8((clipped * 255 + 0.5).rounded(.down))
    }

    /// An image-I/O package's output value (0..255 scale) as the 8-bit channel the app writes.
    public static func pixel(imageValue v: Float) -> UInt8 {
        pixel(unit: v / 255)
    }
}
