package com.pcarnmobile.demo.inference

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import kotlinx.coroutines.yield
import org.junit.Assert.assertEquals
import org.junit.Test

class ModelDispatcherTest {
    /** Many concurrent jobs, each suspending and resuming several times, all run on the one model thread. */
    @Test
    fun everyResumptionIsOnTheOneModelThread() {
        val threads = runBlocking(Dispatchers.Default) {
            (1..16).map { job ->
                async {
                    withContext(ModelDispatcher) {
                        (1..8).map { step ->
                            if (step % 2 == 0) yield() else delay(job % 3L)
                            Thread.currentThread()
                        }
                    }
                }
            }.awaitAll().flatten().toSet()
        }
        assertEquals(1, threads.size)
        assertEquals(MODEL_THREAD, threads.single().name)
    }
}
