package com.pcarnmobile.demo.ui

import android.graphics.Bitmap
import androidx.compose.foundation.Image
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.Spacer
import androidx.compose.foundation.layout.aspectRatio
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Slider
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableFloatStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.draw.drawWithContent
import androidx.compose.ui.geometry.Offset
import androidx.compose.ui.graphics.Color
import androidx.compose.ui.graphics.FilterQuality
import androidx.compose.ui.graphics.asImageBitmap
import androidx.compose.ui.graphics.drawscope.clipRect
import androidx.compose.ui.layout.ContentScale
import androidx.compose.ui.res.stringResource
import com.pcarnmobile.demo.R

/**
 * The same region before (left of the split) and after (right), drawn pixel for pixel
 * (nearest filtering) so the screen's scaling does not smooth away the difference.
 */
@Composable
fun BeforeAfter(before: Bitmap, after: Bitmap, modifier: Modifier = Modifier) {
    var split by rememberSaveable { mutableFloatStateOf(0.5f) }
    val beforeImage = remember(before) { before.asImageBitmap() }
    val afterImage = remember(after) { after.asImageBitmap() }
    Column(modifier) {
        Box(Modifier.fillMaxWidth().aspectRatio(after.width.toFloat() / after.height)) {
            Image(
                afterImage, stringResource(R.string.after), Modifier.matchParentSize(),
                contentScale = ContentScale.Fit, filterQuality = FilterQuality.None
            )
            Image(
                beforeImage, stringResource(R.string.before),
                Modifier.matchParentSize().drawWithContent {
                    clipRect(right = size.width * split) { this@drawWithContent.drawContent() }
                    drawLine(Color.White, Offset(size.width * split, 0f), Offset(size.width * split, size.height))
                },
                contentScale = ContentScale.Fit, filterQuality = FilterQuality.None
            )
        }
        Slider(value = split, onValueChange = { split = it })
        Row {
            Text(stringResource(R.string.before), style = MaterialTheme.typography.labelMedium)
            Spacer(Modifier.weight(1f))
            Text(stringResource(R.string.after), style = MaterialTheme.typography.labelMedium)
        }
    }
}
