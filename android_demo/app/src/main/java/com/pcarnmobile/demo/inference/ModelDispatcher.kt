package com.pcarnmobile.demo.inference

import java.util.concurrent.Executors
import kotlinx.coroutines.ExecutorCoroutineDispatcher
import kotlinx.coroutines.asCoroutineDispatcher

/** The name of the one thread every model lives on. */
const val MODEL_THREAD = "pcarn-model"

/**
 * The one dispatcher that creates, runs and closes every [SrEngine]: one model at a time, never on
 * the main thread, and always the same thread. A GPU accelerator's context (OpenCL/OpenGL) belongs
 * to the thread that created it; `Dispatchers.Default.limitedParallelism(1)` runs one task at a
 * time but may resume each on a different pool thread, so it is not enough. A daemon thread: the
 * app process owns it for its whole life (ModelDispatcherTest checks the one-thread promise).
 */
val ModelDispatcher: ExecutorCoroutineDispatcher =
    Executors.newSingleThreadExecutor { task -> Thread(task, MODEL_THREAD).apply { isDaemon = true } }.asCoroutineDispatcher()
