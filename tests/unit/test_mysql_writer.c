/* source/mysql/mysql_apply.c myw_convert: the target's text forms back to MySQL values. */
#include "testlib.h"

#include "core/util.h"
#include "source/mysql/mysql_writer_int.h"

#include <stdlib.h>
#include <string.h>

/* The converted text of v for kind k, or "ERR:<why>" / "INT:<n>". Caller frees. */
static char *conv(mcol_kind k, const char *v)
{
    strbuf out = STRBUF_INIT;
    bool is_int = false;
    uint64_t x = 0;
    const char *why = NULL;
    if (!myw_convert(k, v, strlen(v), &out, &is_int, &x, &why)) {
        strbuf_free(&out);
        return xasprintf("ERR:%s", why);
    }
    if (is_int) {
        strbuf_free(&out);
        return xasprintf("INT:%llu", (unsigned long long)x);
    }
    char *s = strbuf_detach(&out);
    return s ? s : xstrdup("");
}

#define CONV_EQ(k, in, want)                                                                       \
    do {                                                                                           \
        char *got_ = conv(k, in);                                                                  \
        CHECK_STR_EQ(got_, want);                                                                  \
        free(got_);                                                                                \
    } while (0)

TEST(mysql_writer_convert_timestamptz)
{
    CONV_EQ(MCOL_TIMESTAMP, "2024-01-02 03:04:05+00", "2024-01-02 03:04:05");
    CONV_EQ(MCOL_TIMESTAMP, "2024-01-02 03:04:05.678+05:30", "2024-01-01 21:34:05.678");
    CONV_EQ(MCOL_TIMESTAMP, "2024-03-31 01:30:00-09:30", "2024-03-31 11:00:00");
    CONV_EQ(MCOL_TIMESTAMP, "1999-12-31 23:59:59.999999-12", "2000-01-01 11:59:59.999999");
    CONV_EQ(MCOL_TIMESTAMP, "2024-02-29 23:00:00-01", "2024-03-01 00:00:00");
    CONV_EQ(MCOL_TIMESTAMP, "1970-01-01 05:30:01+05:30", "1970-01-01 00:00:01");
    CONV_EQ(MCOL_TIMESTAMP, "1900-01-01 00:00:00+00:19:32", "1899-12-31 23:40:28");
    /* without an offset (a DATETIME's text): as is */
    CONV_EQ(MCOL_TIMESTAMP, "2024-01-02 03:04:05.5", "2024-01-02 03:04:05.5");
    char *bad = conv(MCOL_TIMESTAMP, "Tue Jan 02 03:04:05 2024 PST");
    CHECK(str_starts_with(bad, "ERR:"));
    free(bad);
}

TEST(mysql_writer_convert_bytes)
{
    strbuf out = STRBUF_INIT;
    bool is_int;
    uint64_t x;
    const char *why = NULL;
    CHECK(myw_convert(MCOL_BYTES, "\\x00ff5c0a", 10, &out, &is_int, &x, &why));
    CHECK_INT_EQ(out.len, 4);
    CHECK(memcmp(out.data, "\x00\xff\x5c\x0a", 4) == 0);
    strbuf_reset(&out);
    CHECK(myw_convert(MCOL_BYTES, "\\x", 2, &out, &is_int, &x, &why));
    CHECK_INT_EQ(out.len, 0);
    /* bytea_output = escape */
    CHECK(myw_convert(MCOL_BYTES, "a\\\\b\\000c", 9, &out, &is_int, &x, &why));
    CHECK_INT_EQ(out.len, 5);
    CHECK(memcmp(out.data, "a\\b\0c", 5) == 0);
    strbuf_reset(&out);
    CHECK(!myw_convert(MCOL_BYTES, "\\x0", 3, &out, &is_int, &x, &why));
    CHECK(!myw_convert(MCOL_BYTES, "\\xzz", 4, &out, &is_int, &x, &why));
    strbuf_free(&out);
}

TEST(mysql_writer_convert_numbers)
{
    CONV_EQ(MCOL_BIT, "1", "INT:1");
    CONV_EQ(MCOL_BIT, "000000000101", "INT:5");
    CONV_EQ(MCOL_BIT, "1111111111111111111111111111111111111111111111111111111111111111",
            "INT:18446744073709551615");
    char *bad = conv(MCOL_BIT, "102");
    CHECK(str_starts_with(bad, "ERR:"));
    free(bad);
    /* YEAR 0 is the year 0000 as a number, the year 2000 as the string '0' */
    CONV_EQ(MCOL_YEAR, "0", "INT:0");
    CONV_EQ(MCOL_YEAR, "2155", "INT:2155");
    CONV_EQ(MCOL_INTEGER, "t", "1");
    CONV_EQ(MCOL_INTEGER, "f", "0");
    CONV_EQ(MCOL_INTEGER, "-128", "-128");
    CONV_EQ(MCOL_TEXT, "18446744073709551615", "18446744073709551615");
    /* real's shortest text past FLT_MAX: the single's exact value, which MySQL accepts */
    CONV_EQ(MCOL_FLOAT, "3.4028235e+38", "3.4028234663852886e+38");
    CONV_EQ(MCOL_FLOAT, "0.5", "0.5");
    bad = conv(MCOL_FLOAT, "NaN");
    CHECK(str_starts_with(bad, "ERR:"));
    free(bad);
    CONV_EQ(MCOL_TEXT, "{\"a\": [1, 2]}", "{\"a\": [1, 2]}");
}
