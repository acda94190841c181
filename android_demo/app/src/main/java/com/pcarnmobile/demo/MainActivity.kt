package com.pcarnmobile.demo

import android.os.Bundle
import androidx.activity.ComponentActivity
import androidx.activity.compose.setContent
import androidx.activity.enableEdgeToEdge
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.layout.statusBarsPadding
import androidx.compose.material3.PrimaryTabRow
import androidx.compose.material3.Scaffold
import androidx.compose.material3.Tab
import androidx.compose.material3.Text
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableIntStateOf
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.res.stringResource
import com.pcarnmobile.demo.ui.BenchmarkScreen
import com.pcarnmobile.demo.ui.PcarnTheme
import com.pcarnmobile.demo.ui.UpscaleScreen

/** Two screens behind tabs: upscale a photo, and benchmark the installed models. */
class MainActivity : ComponentActivity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        enableEdgeToEdge()
        setContent {
            PcarnTheme {
                var tab by rememberSaveable { mutableIntStateOf(0) }
                Scaffold(
                    topBar = {
                        PrimaryTabRow(selectedTabIndex = tab, modifier = Modifier.statusBarsPadding()) {
                            Tab(selected = tab == 0, onClick = { tab = 0 }, text = { Text(stringResource(R.string.tab_upscale)) })
                            Tab(selected = tab == 1, onClick = { tab = 1 }, text = { Text(stringResource(R.string.tab_benchmark)) })
                        }
                    }
                ) { padding ->
                    val modifier = Modifier.padding(padding)
                    if (tab == 0) UpscaleScreen(modifier) else BenchmarkScreen(modifier)
                }
            }
        }
    }
}
