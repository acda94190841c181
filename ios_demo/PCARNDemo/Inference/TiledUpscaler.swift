import CoreGraphics
import CoreVideo
import PCARNCore

/// One finished tile, for the progress line and the per-tile statistics.
nonisolated struct TileTiming: Sendable {
    let index: Int
    let count: Int
    /// The model call alone (copies excluded).
    let duration: Duration
}

/// Runs a tile plan with an image-I/O package: each tile's input window is copied into a pixel
/// buffer, upscaled, and only its kept region is copied into the output bitmap. The bytes are the
/// package's: its program rounds to whole pixel values (`PixelQuantization`), so Core ML's
/// conversion into the 8-bit output buffer keeps them.
nonisolated struct TiledUpscaler {
    let model: LoadedModel

    /// Upscales `image` (which has the plan's size) on the concurrent executor, never the main actor:
    /// `@concurrent`, since under Xcode 26's defaults a plain nonisolated async function would run on
    /// its caller's actor (the view model's main actor). It checks for cancellation before every tile
    /// and reports each one to `onTile` on the main actor.
    @concurrent
    func upscale(_ image: CGImage, plan: TilePlan,
                 onTile: @escaping @MainActor @Sendable (TileTiming) -> Void) async throws -> CGImage {
        let scale = model.entry.sidecar.scale
        let input = try BGRABitmap.padded(image, width: plan.paddedWidth, height: plan.paddedHeight)
        let output = try BGRABitmap(width: plan.width * scale, height: plan.height * scale)
        // One buffer serves every tile: all tiles of a plan have one size, and predict() has finished
        // reading it when it returns.
        let tileBuffer = try PixelBuffers.makeBGRA(width: plan.tileWidth, height: plan.tileHeight)
        let tiles = plan.tiles
        for (index, tile) in tiles.enumerated() {
            try Task.checkCancellation()
            try PixelBuffers.withRows(of: tileBuffer, readOnly: false) { rows in
                rows.copy(from: input.rows, x: tile.column.start, y: tile.row.start,
                          width: plan.tileWidth, height: plan.tileHeight, toX: 0, toY: 0)
            }
            let start = ContinuousClock.Instant.start()
            let upscaled = try model.predict(tileBuffer)
            let duration = start.elapsed
            try keep(upscaled, of: tile, plan: plan, scale: scale, in: output)
            await onTile(TileTiming(index: index, count: tiles.count, duration: duration))
        }
        return try output.makeImage()
    }

    /// Copies the tile's kept region into place. Only a padded photo's last row or column of tiles
    /// reaches past the photo; what lies beyond it is dropped, as `upscale_array` crops.
    private func keep(_ upscaled: CVPixelBuffer, of tile: Tile, plan: TilePlan, scale: Int, in output: BGRABitmap) throws {
        let (width, height) = (CVPixelBufferGetWidth(upscaled), CVPixelBufferGetHeight(upscaled))
        guard width == plan.tileWidth * scale, height == plan.tileHeight * scale else {
            throw InferenceError.unexpectedOutput(
                "a \(width)×\(height) tile for a \(plan.tileWidth)×\(plan.tileHeight) input at x\(scale)")
        }
        let rows = tile.row.keptLower..<min(tile.row.keptUpper, plan.height)
        let columns = tile.column.keptLower..<min(tile.column.keptUpper, plan.width)
        try PixelBuffers.withRows(of: upscaled, readOnly: true) { source in
            output.rows.copy(from: source,
                             x: scale * (columns.lowerBound - tile.column.start),
                             y: scale * (rows.lowerBound - tile.row.start),
                             width: scale * columns.count, height: scale * rows.count,
                             toX: scale * columns.lowerBound, toY: scale * rows.lowerBound)
        }
    }
}
