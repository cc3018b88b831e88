/* csv_test.c: the bar CSV format: header, every rejection reason, numbers. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "csv.h"
#include "timefmt.h"

static bb__csv_hdr hdr;
static bb__csv_row row;
static char reason[BB__CSV_REASON_MAX];

static void std_header(void)
{
	const char *h = "symbol,timestamp,open,high,low,close,volume,trades,vwap";

	memset(reason, 0, sizeof(reason));
	cr_assert(eq(int, bb__csv_parse_header(&hdr, h, strlen(h), reason,
	                                       sizeof(reason)), 0));
}

TestSuite(csv, .init = std_header, .timeout = 5);

static int parse(const char *line)
{
	return bb__csv_parse_row(&hdr, line, strlen(line), &row, reason,
	                         sizeof(reason));
}

/* line must be rejected with exactly this reason. */
static void rejects(const char *line, const char *why)
{
	cr_assert(eq(int, parse(line), BB_EINVAL), "accepted: %s", line);
	cr_assert(eq(str, reason, (char *)why));
}

Test(csv, good_row_is_parsed)
{
	cr_assert(eq(int, parse("AAPL,2024-01-02T14:30:00Z,10.5,11,9.25,10,1200,7,10.1"), 0));
	cr_assert(eq(str, row.symbol, "AAPL"));
	cr_assert(eq(i64, row.bar.time, 1704205800));
	cr_assert(eq(dbl, row.bar.open, 10.5));
	cr_assert(eq(dbl, row.bar.high, 11));
	cr_assert(eq(dbl, row.bar.low, 9.25));
	cr_assert(eq(dbl, row.bar.close, 10));
	cr_assert(eq(dbl, row.bar.volume, 1200));
	cr_assert(eq(i64, row.trades, 7));
	cr_assert(eq(dbl, row.vwap, 10.1));
	cr_assert(eq(u32, row.bar.flags, 0));
}

Test(csv, offsets_epoch_seconds_blanks_quotes_and_crlf)
{
	cr_assert(eq(int, parse("\"MSFT\", 2024-01-02T09:30:00-05:00 ,1,1,1,1,0,0,1\r"), 0));
	cr_assert(eq(str, row.symbol, "MSFT"));
	cr_assert(eq(i64, row.bar.time, 1704205800));
	cr_assert(eq(int, parse("MSFT,1704205800,1,1,1,1,0,0,1"), 0));
	cr_assert(eq(i64, row.bar.time, 1704205800));
}

Test(csv, columns_in_any_order_and_optional_extras)
{
	const char *h = "Close,VOLUME,symbol,low,high,open,timestamp";

	cr_assert(eq(int, bb__csv_parse_header(&hdr, h, strlen(h), reason,
	                                       sizeof(reason)), 0));
	cr_assert(eq(int, parse("10,5,X,9,11,10.5,2024-01-02T14:31:00Z"), 0));
	cr_assert(eq(dbl, row.bar.close, 10));
	cr_assert(eq(dbl, row.bar.open, 10.5));
	cr_assert(eq(i64, row.trades, -1));
	cr_assert(isnan(row.vwap));
}

static void bad_header(const char *h, const char *why)
{
	cr_assert(eq(int, bb__csv_parse_header(&hdr, h, strlen(h), reason,
	                                       sizeof(reason)), BB_EINVAL));
	cr_assert(eq(str, reason, (char *)why));
}

Test(csv, header_errors)
{
	bad_header("", "missing header row");
	bad_header("symbol,timestamp,open,high,low,close,volume,foo",
	           "unknown column \"foo\"");
	bad_header("symbol,timestamp,open,high,low,close,volume,open",
	           "duplicate column \"open\"");
	bad_header("symbol,timestamp,open,high,low,volume",
	           "missing column \"close\"");
	bad_header("AAPL,2024-01-02T14:30:00Z,1,1,1,1,1",
	           "unknown column \"AAPL\"");
}

Test(csv, rejects_wrong_column_count)
{
	rejects("AAPL,2024-01-02T14:30:00Z,1,1,1,1,1,1",
	        "wrong column count: 8 fields, expected 9");
	rejects("AAPL,2024-01-02T14:30:00Z,1,1,1,1,1,1,1,1",
	        "wrong column count: 10 fields, expected 9");
}

Test(csv, rejects_invalid_symbol)
{
	rejects("BAD SYM,2024-01-02T14:30:00Z,1,1,1,1,1,1,1",
	        "invalid symbol \"BAD SYM\"");
	rejects(",2024-01-02T14:30:00Z,1,1,1,1,1,1,1", "invalid symbol \"\"");
	rejects("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789,2024-01-02T14:30:00Z,1,1,1,1,1,1,1",
	        "invalid symbol \"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\"");
}

Test(csv, rejects_unparsable_timestamp)
{
	rejects("A,2024-13-02T14:30:00Z,1,1,1,1,1,1,1",
	        "unparsable timestamp \"2024-13-02T14:30:00Z\"");
	rejects("A,2024-01-02 14:30,1,1,1,1,1,1,1",
	        "unparsable timestamp \"2024-01-02 14:30\"");
	rejects("A,2024-01-02T14:30:00,1,1,1,1,1,1,1", /* no offset */
	        "unparsable timestamp \"2024-01-02T14:30:00\"");
}

Test(csv, rejects_timestamp_off_the_minute)
{
	rejects("A,2024-01-02T14:30:05Z,1,1,1,1,1,1,1",
	        "timestamp not on a minute boundary: 2024-01-02T14:30:05Z");
	rejects("A,1704205801,1,1,1,1,1,1,1",
	        "timestamp not on a minute boundary: 2024-01-02T14:30:01Z");
}

Test(csv, rejects_unparsable_number)
{
	rejects("A,1704205800,abc,1,1,1,1,1,1", "open: unparsable number \"abc\"");
	rejects("A,1704205800,1,1.2.3,1,1,1,1,1", "high: unparsable number \"1.2.3\"");
	rejects("A,1704205800,1,1,,1,1,1,1", "low: unparsable number \"\"");
	rejects("A,1704205800,1,1,1,0x10,1,1,1", "close: unparsable number \"0x10\"");
	rejects("A,1704205800,1,1,1,1,1e,1,1", "volume: unparsable number \"1e\"");
	rejects("A,1704205800,1,1,1,1,1,1,1 2", "vwap: unparsable number \"1 2\"");
}

Test(csv, rejects_nan_and_infinity)
{
	rejects("A,1704205800,nan,1,1,1,1,1,1", "open: NaN or infinity");
	rejects("A,1704205800,1,inf,1,1,1,1,1", "high: NaN or infinity");
	rejects("A,1704205800,1,1,-Infinity,1,1,1,1", "low: NaN or infinity");
	rejects("A,1704205800,1,1,1,1,1e999,1,1", "volume: NaN or infinity");
	rejects("A,1704205800,1,1,1,1,1,1,NaN", "vwap: NaN or infinity");
}

Test(csv, rejects_high_below_low)
{
	rejects("A,1704205800,10,9.5,10.25,10,1,1,10",
	        "high below low: high 9.5 < low 10.25");
}

Test(csv, rejects_open_or_close_outside_low_high)
{
	rejects("A,1704205800,12,11,9,10,1,1,10",
	        "open outside [low, high]: 12 not in [9, 11]");
	rejects("A,1704205800,10,11,9,8.75,1,1,10",
	        "close outside [low, high]: 8.75 not in [9, 11]");
}

Test(csv, rejects_negative_volume)
{
	rejects("A,1704205800,10,11,9,10,-5,1,10", "negative volume: -5");
}

Test(csv, rejects_bad_trades)
{
	rejects("A,1704205800,10,11,9,10,5,-1,10",
	        "trades: not a non-negative integer \"-1\"");
	rejects("A,1704205800,10,11,9,10,5,1.5,10",
	        "trades: not a non-negative integer \"1.5\"");
}

Test(csv, rejects_vwap_outside_low_high)
{
	rejects("A,1704205800,10,11,9,10,5,1,11.5",
	        "vwap outside [low, high]: 11.5 not in [9, 11]");
}

Test(csv, long_and_unprintable_fields_are_cut_in_messages)
{
	rejects("A,1704205800,\x01" "234567890123456789012345678901234567890123,1,1,1,1,1,1",
	        "open: unparsable number \"?234567890123456789012345678901234567890...\"");
}

Test(csv, numbers_parse_exactly)
{
	const char *cases[] = { "0", "-0", "1", "0.1", "123.45", "1e-7", "2.5E+3",
	                        "9007199254740993", "0.30000000000000004",
	                        "1.7976931348623157e308", "4.9e-324", "+.5", "5.",
	                        "123456789012345678901234567890" };
	double v;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert(eq(int, bb__csv_parse_double(cases[i], strlen(cases[i]), &v), 0),
		          "%s", cases[i]);
		double want = strtod(cases[i], NULL);
		cr_assert(memcmp(&v, &want, sizeof(v)) == 0, "%s", cases[i]);
	}
	cr_assert(eq(int, bb__csv_parse_double(".", 1, &v), BB_EINVAL));
	cr_assert(eq(int, bb__csv_parse_double("-", 1, &v), BB_EINVAL));
	cr_assert(eq(int, bb__csv_parse_double(" 1", 2, &v), BB_EINVAL));
}

Test(csv, doubles_print_shortest_round_trip)
{
	double vals[] = { 0.1, 123.45, 1.0 / 3.0, 1e300, 5e-324, -0.0, 100 };
	const char *want[] = { "0.1", "123.45", "0.3333333333333333", "1e+300",
	                       "4.94065645841247e-324", "-0", "100" };
	char buf[32];

	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		bb__csv_fmt_double(buf, sizeof(buf), vals[i]);
		cr_assert(eq(str, buf, (char *)want[i]));
		double back = strtod(buf, NULL);
		cr_assert(memcmp(&back, &vals[i], sizeof(back)) == 0);
	}
}

Test(csv, format_writes_an_importable_row)
{
	bb_bar b = { .time = 1704205800, .open = 10.5, .high = 11, .low = 9.25,
	             .close = 10 + 1e-15, .volume = 1200 };
	char line[BB__CSV_LINE_MAX];
	const char *h = BB__CSV_HEADER;

	size_t n = bb__csv_format(line, sizeof(line), "AAPL", &b);
	cr_assert(eq(str, line,
	             "AAPL,2024-01-02T14:30:00Z,10.5,11,9.25,10.000000000000002,1200\n"));
	cr_assert(eq(int, bb__csv_parse_header(&hdr, h, strlen(h), reason,
	                                       sizeof(reason)), 0));
	cr_assert(eq(int, bb__csv_parse_row(&hdr, line, n - 1, &row, reason,
	                                    sizeof(reason)), 0));
	cr_assert(memcmp(&row.bar.open, &b.open, 5 * sizeof(double)) == 0);
}

/* The reference: the first of %.15g, %.16g, %.17g that reads back. */
static void slow_fmt(char *buf, size_t len, double v)
{
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

Test(csv, fast_double_printing_matches_printf)
{
	uint64_t x = 88172645463325252ull;
	char a[32], b[32];

	for (int i = 0; i < 200000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		double v;
		switch (i % 4) {
		case 0: v = (double)(x % 10000000) / 100.0; break;   /* cents */
		case 1: v = (double)(x % 100000000000ull); break;    /* volumes */
		case 2: v = (double)(x >> 11) * 0x1p-53 * 1000; break; /* any */
		default: v = (double)(int64_t)(x % 2000001 - 1000000) / 10000.0;
		}
		bb__csv_fmt_double(a, sizeof(a), v);
		slow_fmt(b, sizeof(b), v);
		cr_assert(eq(str, a, b), "%.17g", v);
	}
}

static void use_header(const char *h)
{
	cr_assert(eq(int, bb__csv_parse_header(&hdr, h, strlen(h), reason,
	                                       sizeof(reason)), 0), "%s", reason);
}

Test(csv, pandas_to_csv_of_a_utc_index)
{
	use_header("timestamp,symbol,open,high,low,close,volume");
	cr_assert(eq(int, parse("2024-01-02 14:30:00+00:00,AAPL,187.15,188.44,187.1,188.2,6213")
	             , 0), "%s", reason);
	cr_assert(eq(i64, row.bar.time, 1704205800));
	cr_assert(eq(dbl, row.bar.high, 188.44));
}

Test(csv, polygon_flat_file_window_start_in_nanoseconds)
{
	use_header("ticker,volume,open,close,high,low,window_start,transactions");
	cr_assert(eq(int, parse("AAPL,4930,187.15,187.2,187.3,187.1,1704205800000000000,71"),
	             0), "%s", reason);
	cr_assert(eq(str, row.symbol, "AAPL"));
	cr_assert(eq(i64, row.bar.time, 1704205800));
	cr_assert(eq(dbl, row.bar.volume, 4930));
	cr_assert(eq(i64, row.trades, 71));
}

Test(csv, databento_ohlcv_1m_ts_event_in_nanoseconds_and_pretty)
{
	use_header("ts_event,rtype,publisher_id,instrument_id,open,high,low,"
	           "close,volume,symbol");
	cr_assert(eq(int, parse("1704205860000000000,33,2,15144,187.2,187.4,"
	                        "187.2,187.3,1200,AAPL"), 0), "%s", reason);
	cr_assert(eq(i64, row.bar.time, 1704205860));
	cr_assert(eq(str, row.symbol, "AAPL"));
	cr_assert(eq(dbl, row.bar.close, 187.3));
	cr_assert(eq(dbl, row.bar.volume, 1200));
	cr_assert(eq(int, parse("2024-01-02T14:31:00.000000000Z,33,2,15144,187.2,"
	                        "187.4,187.2,187.3,1200,AAPL"), 0), "%s", reason);
	cr_assert(eq(i64, row.bar.time, 1704205860));
	rejects("2024-01-02T14:31:00.000000000Z,33,2,15144,187.2,187.4,187.2,187.3,1200",
	        "wrong column count: 9 fields, expected 10");
}

Test(csv, too_many_columns_and_duplicate_alias)
{
	bad_header("symbol,timestamp,open,high,low,close,volume,rtype,rtype,rtype,"
	           "rtype,rtype,rtype,rtype,rtype,rtype,rtype",
	           "too many columns: 17");
	bad_header("ticker,symbol,timestamp,open,high,low,close,volume",
	           "duplicate column \"symbol\"");
}

Test(csv, epoch_milliseconds_and_microseconds_by_magnitude)
{
	cr_assert(eq(int, parse("AAPL,1704205800000,1,1,1,1,0,0,1"), 0));
	cr_assert(eq(i64, row.bar.time, 1704205800));
	cr_assert(eq(int, parse("AAPL,1704205800000000,1,1,1,1,0,0,1"), 0));
	cr_assert(eq(i64, row.bar.time, 1704205800));
}

Test(csv, time_unit_from_the_header_struct)
{
	hdr.time_unit = BB__TIME_S;
	rejects("AAPL,1704205800000,1,1,1,1,0,0,1",
	        "timestamp \"1704205800000\" outside 1970-01-01 to 9999-12-31: "
	        "the store cannot hold it");
	hdr.time_unit = BB__TIME_MS;
	cr_assert(eq(int, parse("AAPL,60000,1,1,1,1,0,0,1"), 0));
	cr_assert(eq(i64, row.bar.time, 60));
}

Test(csv, rejects_fractions_of_a_second)
{
	rejects("AAPL,2024-01-02T14:30:00.500Z,1,1,1,1,0,0,1",
	        "timestamp has a fraction of a second \"2024-01-02T14:30:00.500Z\": "
	        "bars are whole minutes");
	rejects("AAPL,1704205800123,1,1,1,1,0,0,1",
	        "timestamp has a fraction of a second \"1704205800123\": "
	        "bars are whole minutes");
}

Test(csv, rejects_timestamps_the_store_cannot_hold)
{
	rejects("AAPL,-60,1,1,1,1,0,0,1",
	        "timestamp \"-60\" outside 1970-01-01 to 9999-12-31: the store "
	        "cannot hold it");
	rejects("AAPL,9999-12-31T23:59:00-00:01,1,1,1,1,0,0,1",
	        "timestamp \"9999-12-31T23:59:00-00:01\" outside 1970-01-01 to "
	        "9999-12-31: the store cannot hold it");
	hdr.time_unit = BB__TIME_S;
	rejects("AAPL,253402300800,1,1,1,1,0,0,1",
	        "timestamp \"253402300800\" outside 1970-01-01 to 9999-12-31: the "
	        "store cannot hold it");
	cr_assert(eq(int, parse("AAPL,253402300740,1,1,1,1,0,0,1"), 0));
	cr_assert(eq(i64, row.bar.time, 253402300740));
}

Test(csv, rejects_nul_inside_a_field)
{
	static const char sym[] = "AA\0PL,2024-01-02T14:30:00Z,1,1,1,1,0,0,1";
	static const char ts[] = "AAPL,2024-01-02T14:30:00Z\0junk,1,1,1,1,0,0,1";

	cr_assert(eq(int, bb__csv_parse_row(&hdr, sym, sizeof(sym) - 1, &row,
	                                    reason, sizeof(reason)), BB_EINVAL));
	cr_assert(eq(str, reason, "NUL byte in field 1 (symbol)"));
	cr_assert(eq(int, bb__csv_parse_row(&hdr, ts, sizeof(ts) - 1, &row,
	                                    reason, sizeof(reason)), BB_EINVAL));
	cr_assert(eq(str, reason, "NUL byte in field 2 (timestamp)"));
}

/* One search of the row finds a NUL: reported in the first field that holds
 * one, the last field and a CRLF row included, after the column count. */
Test(csv, a_nul_is_reported_in_its_field_after_the_column_count)
{
	static const char two[] = "AAPL,2024-01-02T14:30:00Z,1\0,1,1,1,0,0,\01";
	static const char last[] = "AAPL,2024-01-02T14:30:00Z,1,1,1,1,0,0,1\0\r";
	static const char count[] = "AAPL,2024-01-02T14:30:00Z\0,1,1,1,1,0,0";

	cr_assert(eq(int, bb__csv_parse_row(&hdr, two, sizeof(two) - 1, &row,
	                                    reason, sizeof(reason)), BB_EINVAL));
	cr_assert(eq(str, reason, "NUL byte in field 3 (open)"));
	cr_assert(eq(int, bb__csv_parse_row(&hdr, last, sizeof(last) - 1, &row,
	                                    reason, sizeof(reason)), BB_EINVAL));
	cr_assert(eq(str, reason, "NUL byte in field 9 (vwap)"));
	cr_assert(eq(int, bb__csv_parse_row(&hdr, count, sizeof(count) - 1, &row,
	                                    reason, sizeof(reason)), BB_EINVAL));
	cr_assert(eq(str, reason, "wrong column count: 8 fields, expected 9"));
}
