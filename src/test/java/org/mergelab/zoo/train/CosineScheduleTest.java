package org.mergelab.zoo.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CosineScheduleTest {
    @Test
    void warmsUpLinearlyThenFollowsTheCosineDownToTheFloor() {
        CosineSchedule s = new CosineSchedule(1e-3, 1e-4, 10, 110);
        assertEquals(1e-4, s.at(0), 1e-15, "step 0 already learns (1/10 of the peak)");
        assertEquals(5e-4, s.at(4), 1e-15);
        assertEquals(1e-3, s.at(10), 1e-15, "peak right after warm-up");
        assertEquals(5.5e-4, s.at(60), 1e-15, "half way down the cosine: the mean of peak and floor");
        assertEquals(1e-4, s.at(110), 1e-15);
        assertEquals(1e-4, s.at(500), 1e-15, "held at the floor after the end");
        for (int i = 11; i < 110; i++) {
            assertTrue(s.at(i) < s.at(i - 1), "decreasing at " + i);
        }
        assertThrows(IllegalArgumentException.class, () -> new CosineSchedule(1e-3, 0, 10, 10));
    }
}
