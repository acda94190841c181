import Foundation

/// Why a model cannot be fed, in one line.
public struct BenchError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

#if canImport(CoreML)
import CoreML
import CoreVideo

/// A mid-grey input of the size the model takes: its own size, or `size` (height, width) where
/// the size is flexible. Returns the input and its [height, width] for the result's `input`.
///
/// The contract names the input `lr` (docs/export-contract.md); any single input is accepted.
public func makeInput(for description: MLModelDescription, size: (Int, Int)?) throws -> (MLFeatureProvider, [Int]) {
    let inputs = description.inputDescriptionsByName
    guard let name = inputs["lr"] != nil ? "lr" : inputs.keys.sorted().first, let feature = inputs[name] else {
        throw BenchError("the model has no input")
    }
    let value: MLFeatureValue
    let hw: [Int]
    switch feature.type {
    case .image:
        guard let constraint = feature.imageConstraint else { throw BenchError("input \(name) has no image size") }
        let (height, width) = size ?? (constraint.pixelsHigh, constraint.pixelsWide)
        value = MLFeatureValue(pixelBuffer: try greyPixelBuffer(width: width, height: height,
                                                                format: constraint.pixelFormatType))
        hw = [height, width]
    case .multiArray:
        guard let constraint = feature.multiArrayConstraint, constraint.shape.count >= 2 else {
            throw BenchError("input \(name) has no array shape")
        }
        var shape = constraint.shape.map { $0.intValue }
        if let size = size {
            shape[shape.count - 2] = size.0
            shape[shape.count - 1] = size.1
        }
        let array = try MLMultiArray(shape: shape.map { NSNumber(value: $0) }, dataType: constraint.dataType)
        for index in 0..<array.count {
            array[index] = 0.5
        }
        value = MLFeatureValue(multiArray: array)
        hw = Array(shape.suffix(2))
    default:
        throw BenchError("input \(name) is neither an image nor a multi-array")
    }
    return (try MLDictionaryFeatureProvider(dictionary: [name: value]), hw)
}

/// An IOSurface-backed buffer (the Neural Engine and GPU read those without a copy), every byte 128.
func greyPixelBuffer(width: Int, height: Int, format: OSType) throws -> CVPixelBuffer {
    var buffer: CVPixelBuffer?
    let attributes = [kCVPixelBufferIOSurfacePropertiesKey as String: [String: Any]()] as CFDictionary
    guard CVPixelBufferCreate(kCFAllocatorDefault, width, height, format, attributes, &buffer) == kCVReturnSuccess,
          let pixels = buffer else {
        throw BenchError("could not create a \(width)x\(height) pixel buffer")
    }
    CVPixelBufferLockBaseAddress(pixels, [])
    if let base = CVPixelBufferGetBaseAddress(pixels) {
        memset(base, 128, CVPixelBufferGetBytesPerRow(pixels) * height)
    }
    CVPixelBufferUnlockBaseAddress(pixels, [])
    return pixels
}
#endif
