import CoreGraphics
import Foundation
import ImageIO
import Photos
import UniformTypeIdentifiers

/// A picked photo: its encoded bytes, upright size and an on-screen preview. The full-size decode
/// waits for a run, after the size has passed the output budget.
nonisolated struct Photo: @unchecked Sendable {  // Data and an immutable CGImage, never mutated
    let data: Data
    let width: Int
    let height: Int
    let preview: CGImage
}

/// Decoding, previews and saving, each `@concurrent`: they run on the concurrent executor, never on
/// the main actor that calls them (Xcode 26's default isolation would otherwise keep them there).
nonisolated enum PhotoIO {
    /// The longest side of what is shown on screen, before and after alike (64 MiB as BGRA). The
    /// saved photo keeps every pixel.
    static let previewSide = 4096

    @concurrent
    static func inspect(_ data: Data) async throws -> Photo {
        guard let source = CGImageSourceCreateWithData(data as CFData, nil),
              let properties = CGImageSourceCopyPropertiesAtIndex(source, 0, nil) as? [CFString: Any],
              let width = properties[kCGImagePropertyPixelWidth] as? Int,
              let height = properties[kCGImagePropertyPixelHeight] as? Int,
              let preview = upright(source, maxSide: min(max(width, height), previewSide))
        else { throw InferenceError.unreadablePhoto }
        // EXIF orientations 5 to 8 turn the picture a quarter: upright, its sides swap.
        let turned = (properties[kCGImagePropertyOrientation] as? UInt32 ?? 1) >= 5
        return Photo(data: data, width: turned ? height : width, height: turned ? width : height, preview: preview)
    }

    /// The photo at full size, upright.
    @concurrent
    static func decode(_ photo: Photo) async throws -> CGImage {
        guard let source = CGImageSourceCreateWithData(photo.data as CFData, nil),
              let image = upright(source, maxSide: max(photo.width, photo.height))
        else { throw InferenceError.unreadablePhoto }
        return image
    }

    /// `image` shrunk to at most `previewSide` per side (the image itself when it is that small).
    @concurrent
    static func preview(of image: CGImage) async throws -> CGImage {
        let longest = max(image.width, image.height)
        guard longest > previewSide else { return image }
        let factor = Double(previewSide) / Double(longest)
        let bitmap = try BGRABitmap(width: max(1, Int(Double(image.width) * factor)),
                                    height: max(1, Int(Double(image.height) * factor)))
        bitmap.context.interpolationQuality = .high
        bitmap.context.draw(image, in: CGRect(x: 0, y: 0, width: bitmap.width, height: bitmap.height))
        return try bitmap.makeImage()
    }

    /// Adds `image` to the photo library as a JPEG (quality 0.95), asking for add-only access first.
    @concurrent
    static func saveToPhotos(_ image: CGImage) async throws {
        guard await PHPhotoLibrary.requestAuthorization(for: .addOnly) == .authorized else {
            throw InferenceError.photoLibraryDenied
        }
        let data = NSMutableData()
        guard let destination = CGImageDestinationCreateWithData(data as CFMutableData, UTType.jpeg.identifier as CFString,
                                                                 1, nil)
        else { throw InferenceError.encoding }
        CGImageDestinationAddImage(destination, image, [kCGImageDestinationLossyCompressionQuality: 0.95] as CFDictionary)
        guard CGImageDestinationFinalize(destination) else { throw InferenceError.encoding }
        let jpeg = data as Data
        try await PHPhotoLibrary.shared().performChanges {
            PHAssetCreationRequest.forAsset().addResource(with: .photo, data: jpeg, options: nil)
        }
    }

    /// ImageIO's thumbnail call is the one that applies the EXIF orientation without UIKit; asked for
    /// the image's own longest side, it decodes the full image.
    private static func upright(_ source: CGImageSource, maxSide: Int) -> CGImage? {
        let options: [CFString: Any] = [
            kCGImageSourceCreateThumbnailFromImageAlways: true,
            kCGImageSourceCreateThumbnailWithTransform: true,
            kCGImageSourceShouldCacheImmediately: true,
            kCGImageSourceThumbnailMaxPixelSize: maxSide,
        ]
        return CGImageSourceCreateThumbnailAtIndex(source, 0, options as CFDictionary)
    }
}
