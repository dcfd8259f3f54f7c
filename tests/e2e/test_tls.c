/* test_tls.c: the TLS plaintext events of events.toml (ssl/ssl_read_ex, _write_ex)
 * through the library, byte for byte. A Python client and server
 * (tests/fixtures/tls_pair.py, Debian's /usr/bin/python3 and its libssl.so.3) exchange
 * 20 KiB each way over 127.0.0.1, every byte value many times over: not valid UTF-8,
 * so what the JSON output cannot carry exactly, the library's fields do. Each
 * direction, reassembled from the events of one SSL pointer in order, is exactly what
 * was sent. Needs root, BTF and the openssl command (the script makes its certificate
 * with it); run from the top of the tree, as make does (the script's path is relative). */
#include <criterion/criterion.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "trace_child.h"

#define BODY_BYTES (20 * 1024)

struct tls_files {
	char dir[64], request[96], response[96];
	unsigned char request_bytes[BODY_BYTES], response_bytes[BODY_BYTES];
};

static void write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "we");

	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fwrite(data, 1, n, f), n);
	cr_assert_eq(fclose(f), 0);
}

/* The two bodies: byte i of the request is i mod 256, of the response a different walk
 * through all 256 values; the script makes its certificate in the same folder. */
static void make_files(struct tls_files *t)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/bootstrap-tls-XXXXXX");
	cr_assert_not_null(mkdtemp(t->dir));
	snprintf(t->request, sizeof(t->request), "%s/request", t->dir);
	snprintf(t->response, sizeof(t->response), "%s/response", t->dir);
	for (size_t i = 0; i < BODY_BYTES; i++) {
		t->request_bytes[i] = (unsigned char)i;
		t->response_bytes[i] = (unsigned char)(i * 7 + 3);
	}
	write_file(t->request, t->request_bytes, BODY_BYTES);
	write_file(t->response, t->response_bytes, BODY_BYTES);
}

static void remove_files(const struct tls_files *t)
{
	static const char *const names[] = { "cert.pem", "key.pem", "request", "response" };
	char path[128];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", t->dir, names[i]);
		unlink(path);
	}
	rmdir(t->dir);
}

static int run_tls_pair(void *arg)
{
	struct tls_files *t = arg;

	execl("/usr/bin/python3", "python3", "tests/fixtures/tls_pair.py", t->dir, t->request, t->response,
	      (char *)NULL);
	return 127;
}

/* One direction of one connection: the data of every event of type index from the
 * SSL pointer ssl, in order, concatenated. Returns its length. */
static size_t stream(const struct trace_result *r, int index, __u64 ssl, unsigned char *out, size_t cap)
{
	const struct captured *e;
	size_t n = 0;

	for (size_t i = 0; (e = find_event(r, index, r->child, i)); i++) {
		/* Both events have ssl and ret at the same offsets (asserted in the test), and
		 * the data is their one variable field. */
		const struct bootstrap_payload_ssl_ssl_read_ex *p = (const void *)e->payload;

		if (p->ssl != ssl)
			continue;
		cr_assert(!e->vars[0].lost && !e->vars[0].truncated);
		/* With a timeout Python's sockets are non-blocking: a call may fail (ret 0,
		 * SSL_ERROR_WANT_READ) and be made again; a failed call moves no data. */
		if (p->ret != 1) {
			cr_assert_eq(p->ret, 0);
			cr_assert_eq(e->vars[0].len, 0);
			continue;
		}
		cr_assert_leq(n + e->vars[0].len, cap, "more bytes than were sent");
		memcpy(out + n, e->vars[0].data, e->vars[0].len);
		n += e->vars[0].len;
	}
	return n;
}

static void assert_stream(const struct trace_result *r, int index, __u64 ssl, const unsigned char *sent)
{
	static unsigned char got[BODY_BYTES];
	size_t n = stream(r, index, ssl, got, sizeof(got));

	cr_assert_eq(n, BODY_BYTES, "%s of ssl %#llx: %zu bytes", bootstrap_events[index].type_name,
		     (unsigned long long)ssl, n);
	cr_assert_arr_eq(got, sent, BODY_BYTES);
}

/* The SSL pointer of the first event of type index made by the thread tid (or, with
 * tid 0, by any thread but the process's main one). */
static __u64 ssl_of(const struct trace_result *r, int index, pid_t tid)
{
	const struct captured *e;

	for (size_t i = 0; (e = find_event(r, index, r->child, i)); i++) {
		if (tid ? e->hdr.tid == (__u32)tid : e->hdr.tid != e->hdr.pid)
			return PAYLOAD(e, ssl_ssl_read_ex)->ssl;
	}
	cr_assert_fail("no %s event of the %s", bootstrap_events[index].type_name, tid ? "client" : "server");
	return 0;
}

Test(tls, plaintext_every_byte_value_both_ways)
{
	static struct tls_files t;
	struct trace_result r;
	__u64 client, server;

	_Static_assert(offsetof(struct bootstrap_payload_ssl_ssl_read_ex, ssl) ==
			       offsetof(struct bootstrap_payload_ssl_ssl_write_ex, ssl) &&
		       offsetof(struct bootstrap_payload_ssl_ssl_read_ex, ret) ==
			       offsetof(struct bootstrap_payload_ssl_ssl_write_ex, ret),
		       "stream() reads both events' ssl and ret through one struct");
	make_files(&t);
	trace_child(&(struct trace_opts){ .events = "ssl/*" }, run_tls_pair, &t, &r);
	remove_files(&t);
	cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0, "tls_pair.py failed (status %#x; 2: no certificate)",
		  r.status);
	/* Python's ssl module calls the _ex variants only. */
	cr_assert_eq(count_events(&r, BOOTSTRAP_EV_SSL_SSL_READ, 0) + count_events(&r, BOOTSTRAP_EV_SSL_SSL_WRITE, 0), 0);
	/* The client is the main thread (the command itself), the server another. */
	client = ssl_of(&r, BOOTSTRAP_EV_SSL_SSL_WRITE_EX, r.child);
	server = ssl_of(&r, BOOTSTRAP_EV_SSL_SSL_WRITE_EX, 0);
	cr_assert_neq(client, server);
	assert_stream(&r, BOOTSTRAP_EV_SSL_SSL_WRITE_EX, client, t.request_bytes);
	assert_stream(&r, BOOTSTRAP_EV_SSL_SSL_READ_EX, server, t.request_bytes);
	assert_stream(&r, BOOTSTRAP_EV_SSL_SSL_WRITE_EX, server, t.response_bytes);
	assert_stream(&r, BOOTSTRAP_EV_SSL_SSL_READ_EX, client, t.response_bytes);
	cr_assert_eq(r.stats.total.delivered, r.n);
	cr_assert_eq(r.stats.total.emitted, r.n);
	cr_assert_eq(r.stats.total.entry_missed + r.stats.total.read_faults + r.stats.total.fields_lost +
			     r.stats.total.truncated + r.stats.total.ringbuf_full, 0);
	trace_result_free(&r);
}
