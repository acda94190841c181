import CoreGraphics
import CoreVideo
import Foundation

// Everything is 8-bit BGRA (alpha ignored): the layout Core ML uses for RGB image features. With one
// layout on both sides, a tile moves between the photo, a pixel buffer and the output with plain row
// copies: no per-tile CGImage, no colour conversion, no blending.

/// Rows of BGRA pixels in memory: a bitmap context's, or a locked pixel buffer's.
nonisolated struct PixelRows {
    static let bytesPerPixel = 4

    let base: UnsafeMutableRawPointer
    let bytesPerRow: Int

    /// Copies the `width`×`height` block at (`x`, `y`) of `source` to (`toX`, `toY`) here.
    func copy(from source: PixelRows, x: Int, y: Int, width: Int, height: Int, toX: Int, toY: Int) {
        let bpp = Self.bytesPerPixel
        for row in 0..<height {
            (base + (toY + row) * bytesPerRow + toX * bpp)
                .copyMemory(from: source.base + (y + row) * source.bytesPerRow + x * bpp, byteCount: width * bpp)
        }
    }
}

/// A BGRA bitmap in sRGB that the app owns: the (padded) photo and the output are one each.
nonisolated struct BGRABitmap {
    let context: CGContext
    let rows: PixelRows

    var width: Int { context.width }
    var height: Int { context.height }

    init(width: Int, height: Int) throws {
        guard let space = CGColorSpace(name: CGColorSpace.sRGB),
              let context = CGContext(data: nil, width: width, height: height, bitsPerComponent: 8, bytesPerRow: 0,
                                      space: space,
                                      bitmapInfo: CGImageAlphaInfo.noneSkipFirst.rawValue
                                          | CGBitmapInfo.byteOrder32Little.rawValue),
              let data = context.data
        else { throw InferenceError.bitmap(width: width, height: height) }
        self.context = context
        rows = PixelRows(base: data, bytesPerRow: context.bytesPerRow)
    }

    /// `image` at the top left, drawn to 8-bit sRGB (P3 and HDR photos are converted, transparent
    /// pixels land on white), then edge-padded bottom and right to `width`×`height` as tiling.py pads
    /// an image smaller than the model's input (`np.pad(..., mode="edge")`).
    static func padded(_ image: CGImage, width: Int, height: Int) throws -> BGRABitmap {
        let bitmap = try BGRABitmap(width: width, height: height)
        bitmap.context.setFillColor(CGColor(gray: 1, alpha: 1))
        bitmap.context.fill(CGRect(x: 0, y: 0, width: width, height: height))
        // Core Graphics puts y = 0 at the bottom; memory row 0 is the top.
        bitmap.context.draw(image, in: CGRect(x: 0, y: height - image.height, width: image.width, height: image.height))
        bitmap.extendEdges(imageWidth: image.width, imageHeight: image.height)
        return bitmap
    }

    /// Repeats the last column to the right and then the last row downwards.
    private func extendEdges(imageWidth: Int, imageHeight: Int) {
        let bpp = PixelRows.bytesPerPixel
        for y in 0..<imageHeight {
            let row = rows.base + y * rows.bytesPerRow
            for x in imageWidth..<width {
                (row + x * bpp).copyMemory(from: row + (imageWidth - 1) * bpp, byteCount: bpp)
            }
        }
        for y in imageHeight..<height {
            rows.copy(from: rows, x: 0, y: imageHeight - 1, width: width, height: 1, toX: 0, toY: y)
        }
    }

    func makeImage() throws -> CGImage {
        guard let image = context.makeImage() else { throw InferenceError.bitmap(width: width, height: height) }
        return image
    }
}

nonisolated enum PixelBuffers {
    /// An IOSurface-backed 32BGRA buffer, which the GPU and the Neural Engine read without a copy.
    static func makeBGRA(width: Int, height: Int) throws -> CVPixelBuffer {
        let attributes = [kCVPixelBufferIOSurfacePropertiesKey as String: [String: Any]()] as CFDictionary
        var buffer: CVPixelBuffer?
        let status = CVPixelBufferCreate(kCFAllocatorDefault, width, height, kCVPixelFormatType_32BGRA, attributes, &buffer)
        guard status == kCVReturnSuccess, let buffer else { throw InferenceError.pixelBuffer(status) }
        return buffer
    }

    /// Runs `body` on the pixel rows of a 32BGRA `buffer` while its memory is locked.
    static func withRows<T>(of buffer: CVPixelBuffer, readOnly: Bool, _ body: (PixelRows) throws -> T) throws -> T {
        let format = CVPixelBufferGetPixelFormatType(buffer)
        guard format == kCVPixelFormatType_32BGRA else {
            throw InferenceError.unexpectedOutput("pixel format \(fourCharacterCode(format))")
        }
        let flags: CVPixelBufferLockFlags = readOnly ? .readOnly : []
        let status = CVPixelBufferLockBaseAddress(buffer, flags)
        guard status == kCVReturnSuccess else { throw InferenceError.pixelBuffer(status) }
        defer { CVPixelBufferUnlockBaseAddress(buffer, flags) }
        guard let base = CVPixelBufferGetBaseAddress(buffer) else { throw InferenceError.pixelBuffer(kCVReturnError) }
        return try body(PixelRows(base: base, bytesPerRow: CVPixelBufferGetBytesPerRow(buffer)))
    }

    /// The benchmark's fixed input: colour ramps under a 4-px checker, the same on every run and phone.
    static func benchmarkInput(width: Int, height: Int) throws -> CVPixelBuffer {
        let buffer = try makeBGRA(width: width, height: height)
        try withRows(of: buffer, readOnly: false) { rows in
            for y in 0..<height {
                let pixels = (rows.base + y * rows.bytesPerRow).assumingMemoryBound(to: UInt8.self)
                for x in 0..<width {
                    let checker: UInt8 = (x / 4 + y / 4) % 2 == 0 ? 64 : 192
                    pixels[4 * x] = UInt8(255 * x / max(width - 1, 1))
                    pixels[4 * x + 1] = UInt8(255 * y / max(height - 1, 1))
                    pixels[4 * x + 2] = checker
                    pixels[4 * x + 3] = 255
                }
            }
        }
        return buffer
    }

    private static func fourCharacterCode(_ code: OSType) -> String {
        let bytes = [24, 16, 8, 0].map { UInt8((code >> $0) & 0xFF) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
