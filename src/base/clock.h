/* The clocks, in one place: a monotonic clock for deadlines and durations, and the wall
 * clock for what people read (log times, Date, %t). Each call reads the kernel's clock
 * (vDSO: no system call). */
#ifndef PT_CLOCK_H
#define PT_CLOCK_H

#include <stdint.h>

/* Monotonic milliseconds: deadlines, timeouts. */
int64_t pt_now_ms(void);
/* Monotonic microseconds: durations (%D, scoreboard request times). */
int64_t pt_mono_us(void);
/* Monotonic nanoseconds: an order between events that may be a microsecond apart (walk.h). */
int64_t pt_mono_ns(void);
/* Wall-clock microseconds since the epoch. */
int64_t pt_wall_us(void);

#endif
