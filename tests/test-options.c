/*
 * test-options.c - ipcx__opts_parse (src/core/options.c) on its own: each
 * key only for the schemes that take it, each value in its range, the
 * errors that name the key and what a good value looks like. The same
 * options through whole endpoints are in test-endpoint.c; the fuzzer
 * fuzz-opts.c holds both to the same verdict.
 */
#include "internal.h"
#include "t.h"

#include <string.h>

static struct ipcx__ep ep;

static int opts(enum ipcx__scheme s, const char *o)
{
	ipcx__ep_defaults(&ep, s);
	return ipcx__opts_parse(o, strlen(o), &ep);
}

int main(void)
{
	T_OK(opts(IPCX__S_SHM, "size=4M&mode=0640&wait=spin&spin=100"));
	T_ASSERT(ep.size == 4u << 20 && ep.mode == 0640);
	T_ASSERT(ep.wait == IPCX__WAIT_SPIN && ep.spin == 100);
	T_ASSERT(ep.set ==
	         (IPCX__O_SIZE | IPCX__O_MODE | IPCX__O_WAIT | IPCX__O_SPIN));
	T_OK(opts(IPCX__S_FIFO, "raw"));
	T_ASSERT(ep.raw);
	T_OK(opts(IPCX__S_MQ, "maxmsg=10&msgsize=1024&prio=7"));
	T_ASSERT(ep.msgsize == 1024 && ep.prio == 7);
	T_OK(opts(IPCX__S_NATS, "queue=a.b&stream=S&durable=d&tls"));
	T_ASSERT(!strcmp(ep.queue, "a.b") && ep.tls);
	/* Empty items and a trailing '&' are tolerated. */
	T_OK(opts(IPCX__S_SHM, "&&size=1K&"));
	T_ASSERT(ep.size == 1024);

	/* Each failure is IPCX_EOPTION and names the key. */
	T_EXPECT(opts(IPCX__S_SHM, "raw"), IPCX_EOPTION);
	T_ASSERT(strstr(ipcx_errmsg(), "raw") != NULL);
	T_EXPECT(opts(IPCX__S_SHM, "size=0"), IPCX_EOPTION);
	T_EXPECT(opts(IPCX__S_SHM, "size=2G"), IPCX_EOPTION);
	T_EXPECT(opts(IPCX__S_SHM, "mode=0800"), IPCX_EOPTION);
	T_ASSERT(strstr(ipcx_errmsg(), "octal") != NULL);
	T_EXPECT(opts(IPCX__S_SHM, "size=1K&size=2K"), IPCX_EOPTION);
	T_ASSERT(strstr(ipcx_errmsg(), "twice") != NULL);
	T_EXPECT(opts(IPCX__S_SHM, "bogus=1"), IPCX_EOPTION);
	T_ASSERT(strstr(ipcx_errmsg(), "size") != NULL); /* lists the known */
	T_EXPECT(opts(IPCX__S_UNIX, "uid=-1"), IPCX_EOPTION);
	T_EXPECT(opts(IPCX__S_NATS, "stream=a.b"), IPCX_EOPTION);
	T_EXPECT(opts(IPCX__S_SHM, "=1"), IPCX_EOPTION);

	/* The shared helpers endpoint.c uses too. */
	unsigned long long x;
	T_ASSERT(ipcx__parse_uint("65535", 5, 65535, &x) == 0 && x == 65535);
	T_ASSERT(ipcx__parse_uint("65536", 5, 65535, &x) < 0);
	T_ASSERT(ipcx__parse_uint("", 0, 10, &x) < 0);
	T_ASSERT(ipcx__parse_uint("1a", 2, 100, &x) < 0);
	T_ASSERT(ipcx__name_char('-') && !ipcx__name_char('/'));
	return T_EXIT_PASS;
}
