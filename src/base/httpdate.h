/* HTTP-date (RFC 9110 5.6.7): the one IMF-fixdate writer, the reader of its three forms, and
 * the calendar arithmetic under the writer. The writer and the calendar use no locale, no
 * allocation and no gmtime, so that a signal handler may call them (modguard.c's 500 and its
 * log line); the reader is not for signal handlers (sscanf, timegm). */
#ifndef PT_HTTPDATE_H
#define PT_HTTPDATE_H

#include <stddef.h>
#include <time.h>

/* IMF-fixdate's length: "Sun, 06 Nov 1994 08:49:37 GMT". */
#define PT_HTTP_DATE_LEN 29

/* A moment as a calendar date and time of day (proleptic Gregorian, no time zone). */
typedef struct {
    long long year;
    int mon, mday, wday, hour, min, sec; /* mon 0-11, mday 1-31, wday 0 = Sunday */
} pt_civil_t;

/* Seconds since the epoch (any long long an int64 time_t holds) to the calendar.
 * Async-signal-safe. */
pt_civil_t pt_civil_from_time(long long t);

/* The English three-letter names that HTTP and the error log write: wday 0-6 (Sunday
 * first), mon 0-11. Not NUL-terminated: three bytes each. */
const char *pt_wday_abbr(int wday);
const char *pt_month_abbr(int mon);

/* v in decimal, exactly width digits (leading zeros; higher digits dropped) at p; returns
 * p + width. Async-signal-safe. */
char *pt_put_digits(char *p, unsigned long long v, int width);

/* IMF-fixdate of t into buf (NUL-terminated): returns PT_HTTP_DATE_LEN; or 0 and "" when
 * len <= PT_HTTP_DATE_LEN or the year is outside 0-9999 (the form has four digits).
 * Async-signal-safe. */
size_t pt_http_date_format(char *buf, size_t len, time_t t);

/* HTTP-date: IMF-fixdate, RFC 850 and asctime forms are read; 0 on success, else
 * PT_EINVAL. Not async-signal-safe. */
int pt_http_date_parse(const char *s, time_t *out);

#endif
