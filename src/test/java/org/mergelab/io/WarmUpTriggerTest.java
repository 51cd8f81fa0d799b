package org.mergelab.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

class WarmUpTriggerTest {
    @Test
    void startsOnceWhenTheScalarWorkReachesTheThreshold() throws Exception {
        WarmUpTrigger trigger = new WarmUpTrigger(100);
        AtomicInteger runs = new AtomicInteger();
        CountDownLatch ran = new CountDownLatch(1);
        Runnable warmUp = () -> {
            runs.incrementAndGet();
            ran.countDown();
        };
        trigger.count(60, warmUp);
        Thread.sleep(50);
        assertEquals(0, runs.get(), "below the threshold nothing starts");
        trigger.count(40, warmUp);
        assertTrue(ran.await(10, TimeUnit.SECONDS));
        trigger.count(1000, warmUp);
        trigger.start(warmUp);
        Thread.sleep(50);
        assertEquals(1, runs.get(), "a process warms a kernel up once");
    }
}
