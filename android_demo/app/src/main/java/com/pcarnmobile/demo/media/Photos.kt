package com.pcarnmobile.demo.media

import android.content.ContentResolver
import android.content.ContentValues
import android.content.Context
import android.graphics.Bitmap
import android.graphics.BitmapFactory
import android.graphics.ColorSpace
import android.graphics.ImageDecoder
import android.graphics.Matrix
import android.media.ExifInterface
import android.media.MediaScannerConnection
import android.net.Uri
import android.os.Build
import android.os.Environment
import android.provider.MediaStore
import com.pcarnmobile.demo.core.Size
import java.io.File
import java.io.IOException
import java.io.OutputStream

/**
 * Reading the picked photo and saving results, the same way on every Android version the app
 * supports: upright (EXIF orientation applied), sRGB, ARGB_8888 in ordinary memory (the tiler
 * reads pixels back, which hardware bitmaps forbid). Blocking: call from Dispatchers.IO.
 */
object Photos {
    private const val ALBUM = "PCARN"
    private const val JPEG_QUALITY = 95

    /** The upright size, from the header alone: a huge photo is judged before it is decoded. */
    fun size(resolver: ContentResolver, uri: Uri): Size {
        val bounds = BitmapFactory.Options().apply { inJustDecodeBounds = true }
        stream(resolver, uri).use { BitmapFactory.decodeStream(it, null, bounds) }
        if (bounds.outWidth <= 0 || bounds.outHeight <= 0) throw IOException("not an image Android can decode")
        return if (quarterTurns(resolver, uri) % 2 == 1) Size(bounds.outWidth, bounds.outHeight)
        else Size(bounds.outHeight, bounds.outWidth)
    }

    /** The photo, every [sampleSize]-th pixel each way (1: full size). */
    fun decode(resolver: ContentResolver, uri: Uri, sampleSize: Int = 1): Bitmap {
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.P) {
            // ImageDecoder applies the EXIF orientation itself.
            val decoded = ImageDecoder.decodeBitmap(ImageDecoder.createSource(resolver, uri)) { decoder, _, _ ->
                decoder.allocator = ImageDecoder.ALLOCATOR_SOFTWARE
                decoder.setTargetColorSpace(ColorSpace.get(ColorSpace.Named.SRGB))
                decoder.setTargetSampleSize(sampleSize)
            }
            if (decoded.config == Bitmap.Config.ARGB_8888) return decoded
            // 16-bit and HDR photos decode to RGBA_F16; the model takes 8-bit pixels.
            return decoded.copy(Bitmap.Config.ARGB_8888, false).also { decoded.recycle() }
        }
        val options = BitmapFactory.Options().apply {
            inPreferredConfig = Bitmap.Config.ARGB_8888
            inSampleSize = sampleSize
        }
        val bitmap = stream(resolver, uri).use { BitmapFactory.decodeStream(it, null, options) }
            ?: throw IOException("not an image Android can decode")
        val turns = quarterTurns(resolver, uri)
        if (turns == 0) return bitmap
        val rotated = Bitmap.createBitmap(bitmap, 0, 0, bitmap.width, bitmap.height, Matrix().apply { postRotate(90f * turns) }, false)
        bitmap.recycle()
        return rotated
    }

    /** Saves [bitmap] as a JPEG in Pictures/PCARN and returns where it went. */
    fun saveToGallery(context: Context, bitmap: Bitmap, name: String): Uri {
        val resolver = context.contentResolver
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.Q) {
            val values = ContentValues().apply {
                put(MediaStore.Images.Media.DISPLAY_NAME, "$name.jpg")
                put(MediaStore.Images.Media.MIME_TYPE, "image/jpeg")
                put(MediaStore.Images.Media.RELATIVE_PATH, "${Environment.DIRECTORY_PICTURES}/$ALBUM")
                put(MediaStore.Images.Media.IS_PENDING, 1)
            }
            val uri = resolver.insert(MediaStore.Images.Media.EXTERNAL_CONTENT_URI, values)
                ?: throw IOException("the gallery refused a new picture")
            try {
                resolver.openOutputStream(uri)?.use { compress(bitmap, it) } ?: throw IOException("cannot write $uri")
                resolver.update(uri, ContentValues().apply { put(MediaStore.Images.Media.IS_PENDING, 0) }, null, null)
            } catch (e: Exception) {
                resolver.delete(uri, null, null)
                throw e
            }
            return uri
        }
        // Android 7-9: a file in the shared Pictures folder (WRITE_EXTERNAL_STORAGE), then indexed.
        @Suppress("DEPRECATION")
        val album = File(Environment.getExternalStoragePublicDirectory(Environment.DIRECTORY_PICTURES), ALBUM)
        if (!album.isDirectory && !album.mkdirs()) throw IOException("cannot create $album")
        val file = File(album, "$name.jpg")
        try {
            file.outputStream().use { compress(bitmap, it) }
        } catch (e: Exception) {
            file.delete()
            throw e
        }
        MediaScannerConnection.scanFile(context, arrayOf(file.path), arrayOf("image/jpeg"), null)
        return Uri.fromFile(file)
    }

    private fun compress(bitmap: Bitmap, out: OutputStream) {
        if (!bitmap.compress(Bitmap.CompressFormat.JPEG, JPEG_QUALITY, out)) throw IOException("JPEG encoding failed")
    }

    private fun stream(resolver: ContentResolver, uri: Uri) =
        resolver.openInputStream(uri) ?: throw IOException("cannot open $uri")

    /**
     * Clockwise quarter turns the EXIF orientation asks for. Mirrored orientations (rare in camera
     * photos) count as their turn only: right size, unmirrored pixels, before Android 9.
     */
    private fun quarterTurns(resolver: ContentResolver, uri: Uri): Int {
        val orientation = try {
            stream(resolver, uri).use { ExifInterface(it).getAttributeInt(ExifInterface.TAG_ORIENTATION, ExifInterface.ORIENTATION_NORMAL) }
        } catch (e: IOException) {
            ExifInterface.ORIENTATION_NORMAL
        }
        return when (orientation) {
            ExifInterface.ORIENTATION_ROTATE_90, ExifInterface.ORIENTATION_TRANSPOSE -> 1
            ExifInterface.ORIENTATION_ROTATE_180, ExifInterface.ORIENTATION_FLIP_VERTICAL -> 2
            ExifInterface.ORIENTATION_ROTATE_270, ExifInterface.ORIENTATION_TRANSVERSE -> 3
            else -> 0
        }
    }
}
