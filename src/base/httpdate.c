/* HTTP-date: the IMF-fixdate writer (by hand: snprintf was 3% of a static 1 KiB response,
 * and a signal handler may call neither it nor gmtime), its calendar arithmetic, and the
 * reader of the three forms RFC 9110 5.6.7 asks a recipient to accept. */
#include "httpdate.h"

#include "common.h"

#include <stdio.h>
#include <string.h>

static const char wdays[] = "SunMonTueWedThuFriSat";
static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

const char *pt_wday_abbr(int wday)
{
    return wdays + 3 * wday;
}

const char *pt_month_abbr(int mon)
{
    return months + 3 * mon;
}

/* Days since the epoch to the calendar: H. Hinnant's civil_from_days ("chrono-Compatible
 * Low-Level Date Algorithms"), in eras of 400 years (146097 days) counted from 0000-03-01,
 * so that the leap day is the last day of a year. */
pt_civil_t pt_civil_from_time(long long t)
{
    long long days = t / 86400, secs = t % 86400;
    if (secs < 0) { /* floor, without t - 86399 (which overflows at LLONG_MIN) */
        days--;
        secs += 86400;
    }
    pt_civil_t c = {.hour = (int)(secs / 3600), .min = (int)(secs / 60 % 60),
                    .sec = (int)(secs % 60)};
    c.wday = (int)((days % 7 + 11) % 7); /* 1970-01-01 was a Thursday */
    long long z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    c.mday = (int)(doy - (153 * mp + 2) / 5 + 1);
    c.mon = (int)(mp < 10 ? mp + 2 : mp - 10);
    c.year = yoe + era * 400 + (c.mon <= 1);
    return c;
}

char *pt_put_digits(char *p, unsigned long long v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + width;
}

size_t pt_http_date_format(char *buf, size_t len, time_t t)
{
    pt_civil_t c = pt_civil_from_time((long long)t);
    if (len <= PT_HTTP_DATE_LEN || c.year < 0 || c.year > 9999) {
        if (len)
            buf[0] = '\0';
        return 0;
    }
    char *p = buf;
    memcpy(p, pt_wday_abbr(c.wday), 3);
    p = memcpy(p + 3, ", ", 2);
    p = pt_put_digits(p + 2, (unsigned)c.mday, 2);
    *p++ = ' ';
    memcpy(p, pt_month_abbr(c.mon), 3);
    p[3] = ' ';
    p = pt_put_digits(p + 4, (unsigned long long)c.year, 4);
    *p++ = ' ';
    p = pt_put_digits(p, (unsigned)c.hour, 2);
    *p++ = ':';
    p = pt_put_digits(p, (unsigned)c.min, 2);
    *p++ = ':';
    p = pt_put_digits(p, (unsigned)c.sec, 2);
    memcpy(p, " GMT", 5);
    return PT_HTTP_DATE_LEN;
}

static int month_index(const char *m)
{
    for (int i = 0; i < 12; i++) {
        if (strlen(m) == 3 && memcmp(m, pt_month_abbr(i), 3) == 0) {
            return i;
        }
    }
    return -1;
}

/* Field ranges; the day-of-week is read but, as in most servers, not checked. */
static int finish_date(struct tm *tm, const char *mon, int year, time_t *out)
{
    int m = month_index(mon);
    if (m < 0 || tm->tm_mday < 1 || tm->tm_mday > 31 || tm->tm_hour > 23 ||
        tm->tm_min > 59 || tm->tm_sec > 60 || year < 1900) {
        return PT_EINVAL;
    }
    tm->tm_mon = m;
    tm->tm_year = year - 1900;
    *out = timegm(tm);
    return 0;
}

int pt_http_date_parse(const char *s, time_t *out)
{
    if (s == NULL) {
        return PT_EINVAL;
    }
    struct tm tm = {0};
    char wd[16], mon[4];
    int year, n = -1;
    size_t len = strlen(s);
    const char *comma = strchr(s, ',');
    if (comma != NULL && comma - s == 3) { /* IMF-fixdate */
        if (sscanf(s, "%3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d GMT%n", wd, &tm.tm_mday, mon,
                   &year, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 7 ||
            (size_t)n != len || len != PT_HTTP_DATE_LEN) {
            return PT_EINVAL;
        }
    } else if (comma != NULL) { /* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
        if (sscanf(s, "%15[A-Za-z], %2d-%3[A-Za-z]-%2d %2d:%2d:%2d GMT%n", wd, &tm.tm_mday, mon,
                   &year, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 7 ||
            (size_t)n != len) {
            return PT_EINVAL;
        }
        year += year < 70 ? 2000 : 1900;
    } else { /* asctime: "Sun Nov  6 08:49:37 1994" */
        if (sscanf(s, "%3[A-Za-z] %3[A-Za-z] %2d %2d:%2d:%2d %4d%n", wd, mon, &tm.tm_mday,
                   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &year, &n) != 7 ||
            (size_t)n != len || len != 24) {
            return PT_EINVAL;
        }
    }
    return finish_date(&tm, mon, year, out);
}
