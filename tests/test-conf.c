/*
 * The option table (lib/conf.c) as the one description of an option:
 * defaults applied from it, getopt_long arrays built from it, flags
 * applied through it, and --help printed from it.  tests/test_options.py
 * holds the daemons' real tables to their man pages and example configs.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "soc/conf.h"
#include "check.h"

enum { ACT_CONFIG = CONF_ACT_CONFIG, ACT_HELP = CONF_ACT_HELP,
	ACT_ONCE = CONF_ACT_OWN };

static char		*db, *mode;
static long long	 snaplen;
static int		 promisc;
static struct conf_list	 ifaces;

static const struct conf_opt opts[] = {
	{ .flag = "config", .letter = 'c', .arg = "FILE", .action = ACT_CONFIG,
	  .help = "YAML config" },
	{ .name = "db", .type = CONF_STR, .dst = &db, .def = "/var/lib/x.db",
	  .flag = "db", .arg = "PATH", .help = "database" },
	{ .name = "capture.snaplen", .type = CONF_INT, .dst = &snaplen,
	  .min = 64, .max = 262144, .def = "65535", .flag = "snaplen",
	  .letter = 's', .arg = "N", .help = "bytes kept per packet" },
	{ .name = "capture.promisc", .type = CONF_BOOL, .dst = &promisc,
	  .def = "true", .flag = "no-promisc", .letter = 'p', .value = "false",
	  .help = "not promiscuous" },
	{ .name = "capture.interfaces", .type = CONF_LIST, .dst = &ifaces,
	  .flag = "interface", .letter = 'i', .arg = "IFACE",
	  .help = "capture on IFACE" },
	{ .name = "mode", .type = CONF_STR, .dst = &mode, .def = "fast",
	  .help = "file only" },
	{ .flag = "once", .action = ACT_ONCE, .help = "once" },
	{ .flag = "help", .letter = 'h', .action = ACT_HELP, .help = "this help" },
	{ .name = NULL },
};

static void
reset(void)
{
	free(db);
	free(mode);
	db = mode = NULL;
	snaplen = 0;
	promisc = 0;
	conf_list_free(&ifaces);
}

static void
test_defaults(void)
{
	char err[512];
	const struct conf_opt bad[] = {
		{ .name = "n", .type = CONF_INT, .dst = &snaplen, .min = 1,
		  .max = 10, .def = "11" },
		{ .name = NULL },
	};

	reset();
	CHECK_INT(conf_defaults(opts, err, sizeof(err)), 0);
	CHECK_STR(db, "/var/lib/x.db");
	CHECK_STR(mode, "fast");
	CHECK_INT(snaplen, 65535);
	CHECK_INT(promisc, 1);
	CHECK_INT(ifaces.n, 0);
	/* a default outside its own bounds is a bug the daemon reports */
	CHECK_INT(conf_defaults(bad, err, sizeof(err)), -1);
	CHECK(strstr(err, "default of n: 11 is out of range") != NULL);
}

static void
test_file_over_defaults(void)
{
	char dir[] = "/tmp/soc-test-conf-XXXXXX", path[256], err[512];
	FILE *f;

	reset();
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/a.yml", dir);
	f = fopen(path, "w");
	fputs("db: /tmp/y.db\ncapture:\n  snaplen: 128\n", f);
	fclose(f);
	CHECK_INT(conf_defaults(opts, err, sizeof(err)), 0);
	CHECK_INT(conf_load(path, opts, err, sizeof(err)), 0);
	CHECK_STR(db, "/tmp/y.db");
	CHECK_INT(snaplen, 128);
	CHECK_STR(mode, "fast");
	/* flag-only rows are no config keys */
	f = fopen(path, "w");
	fputs("once: true\n", f);
	fclose(f);
	CHECK_INT(conf_load(path, opts, err, sizeof(err)), -1);
	CHECK(strstr(err, "a.yml:1: unknown option \"once\"") != NULL);
	CHECK_INT(conf_set(opts, "help", "x", err, sizeof(err)), -1);
	unlink(path);
	rmdir(dir);
}

static void
test_getopt(void)
{
	struct option lo[16];
	char so[16], err[512];
	char *argv[] = { "prog", "-c", "x.yml", "--db", "/d.db", "-s", "100",
	    "-p", "-i", "eth0", "--interface", "eth1", "--once", "-h", NULL };
	int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1, ch, n = 0;
	int got[16];

	reset();
	CHECK_INT(conf_getopt_build(opts, lo, 16, so, sizeof(so)), 0);
	CHECK_STR(so, "c:s:pi:h");
	CHECK_STR(lo[0].name, "config");
	CHECK_INT(lo[0].has_arg, required_argument);
	CHECK_INT(lo[0].val, 'c');
	CHECK_STR(lo[1].name, "db");
	CHECK_INT(lo[1].val, CONF_FLAG_BASE + 1);
	CHECK_STR(lo[3].name, "no-promisc");
	CHECK_INT(lo[3].has_arg, no_argument);
	CHECK_STR(lo[5].name, "once");	/* "mode" has no flag */
	CHECK_INT(lo[5].val, CONF_FLAG_BASE + 6);
	CHECK(lo[7].name == NULL);
	/* too small: refused, not overrun */
	CHECK_INT(conf_getopt_build(opts, lo, 7, so, sizeof(so)), -1);
	CHECK_INT(conf_getopt_build(opts, lo, 16, so, 8), -1);
	CHECK_INT(conf_getopt_build(opts, lo, 16, so, sizeof(so)), 0);

	CHECK_INT(conf_defaults(opts, err, sizeof(err)), 0);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:s:pi:h", lo, NULL)) != -1 &&
	    n < 16)
		got[n++] = conf_getopt_apply(opts, ch, optarg);
	CHECK_INT(n, 8);
	CHECK_INT(got[0], ACT_CONFIG);
	CHECK_INT(got[1], 0);
	CHECK_INT(got[2], 0);
	CHECK_INT(got[3], 0);
	CHECK_INT(got[6], ACT_ONCE);
	CHECK_INT(got[7], ACT_HELP);
	CHECK_STR(db, "/d.db");
	CHECK_INT(snaplen, 100);
	CHECK_INT(promisc, 0);		/* -p sets its .value */
	CHECK_INT(ifaces.n, 2);		/* repeatable flags append */
	CHECK_STR(ifaces.v[1], "eth1");
	CHECK_INT(conf_getopt_apply(opts, '?', NULL), -1);
	CHECK_INT(conf_getopt_apply(opts, 'x', NULL), -1);
	CHECK_INT(conf_getopt_apply(opts, CONF_FLAG_BASE + 5, "x"), -1);
	CHECK_INT(conf_getopt_apply(opts, CONF_FLAG_BASE + 99, "x"), -1);
}

static int	 own_seen;

static void
own(int act)
{
	own_seen = act;
}

static void
no_usage(FILE *f)
{
	(void)f;
}

/*
 * conf_parse_args: the file named by -c first, whatever its place, then
 * the flags over it; -t and the daemon's own action reported.
 */
static void
test_parse_args(void)
{
	static const struct conf_opt popts[] = {
		{ .flag = "config", .letter = 'c', .arg = "FILE",
		  .action = CONF_ACT_CONFIG },
		{ .name = "db", .type = CONF_STR, .dst = &db, .def = "/x.db",
		  .flag = "db", .arg = "PATH" },
		{ .name = "mode", .type = CONF_STR, .dst = &mode, .def = "fast" },
		{ .name = "capture.snaplen", .type = CONF_INT, .dst = &snaplen,
		  .min = 64, .max = 262144, .def = "65535" },
		{ .flag = "once", .action = ACT_ONCE },
		{ .flag = "test", .letter = 't', .action = CONF_ACT_TEST },
		{ .flag = "debug", .letter = 'd', .action = CONF_ACT_DEBUG },
		{ .name = NULL },
	};
	char dir[] = "/tmp/test-conf.XXXXXX", path[64], err[512];
	char *argv[] = { "prog", "--db", "/flag.db", "-t", "--once", "-c", path,
	    NULL };
	int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1, test = 0,
	    debug = 0;
	FILE *f;

	reset();
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/c.yml", dir);
	CHECK((f = fopen(path, "w")) != NULL);
	fputs("db: /file.db\nmode: slow\ncapture:\n  snaplen: 128\n", f);
	fclose(f);
	CHECK_INT(conf_defaults(popts, err, sizeof(err)), 0);
	optind = 1;
	conf_parse_args(popts, argc, argv, "prog", "1", no_usage, own, &test,
	    &debug);
	CHECK_STR(db, "/flag.db");	/* the flag wins over the file */
	CHECK_STR(mode, "slow");	/* the file over the default */
	CHECK_INT(snaplen, 128);
	CHECK_INT(test, 1);
	CHECK_INT(debug, 0);
	CHECK_INT(own_seen, ACT_ONCE);
	unlink(path);
	rmdir(dir);
}

/* Runs fn into a buffer; returns it NUL-terminated. */
static const char *
capture(void (*fn)(FILE *))
{
	static char buf[4096];
	FILE *f = tmpfile();
	size_t n;

	fn(f);
	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void
usage(FILE *f)
{
	conf_usage(f, opts);
}

static void
synopsis(FILE *f)
{
	conf_synopsis(f, "prog-with-a-long-name", opts);
}

static void
test_usage(void)
{
	CHECK_STR(capture(usage),
	    "  -c, --config FILE      YAML config\n"
	    "      --db PATH          database (default: /var/lib/x.db)\n"
	    "  -s, --snaplen N        bytes kept per packet (default: 65535)\n"
	    "  -p, --no-promisc       not promiscuous\n"
	    "  -i, --interface IFACE  capture on IFACE\n"
	    "      --once             once\n"
	    "  -h, --help             this help\n");
	CHECK_STR(capture(synopsis),
	    "usage: prog-with-a-long-name [-c FILE] [--db PATH] [-s N] [-p] [-i IFACE]...\n"
	    "                             [--once] [-h]\n");
}

int
main(void)
{
	test_defaults();
	test_file_over_defaults();
	test_getopt();
	test_parse_args();
	test_usage();
	reset();
	return check_done();
}
