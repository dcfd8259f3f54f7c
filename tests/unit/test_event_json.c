/* test_event_json.c: whole NDJSON lines from the generated serializers, byte for byte:
 * key order, escaping, string lists, the truncated/lost arrays, and the size contract. */
#include <criterion/criterion.h>
#include <string.h>

#include "bootstrap.h"

static struct bootstrap_header header(int index)
{
	struct bootstrap_header h = {
		.timestamp_ns = 1700000000123456789ull, .upid = (5ull << 22) | 42, .uppid = (1ull << 22) | 1,
		.cgroup_id = 7, .pid = 42, .tid = 43, .ppid = 1, .uid = 1000, .event_index = index,
	};

	h.event_id = bootstrap_events[index].id;
	memcpy(h.comm, "sh\"\n", 4);
	return h;
}

#define HEAD(id, type) "{\"event_id\":" #id ",\"event_type\":\"" type "\",\"timestamp_ns\":1700000000123456789," \
	"\"pid\":42,\"tid\":43,\"ppid\":1,\"upid\":20971562,\"uppid\":4194305,\"uid\":1000,\"cgroup_id\":7," \
	"\"comm\":\"sh\\\"\\n\",\"payload\":"

Test(event_json, write_with_escapes_and_truncated)
{
	struct bootstrap_header h = header(BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_WRITE);
	struct bootstrap_payload_syscalls_sys_enter_write p = { .fd = 1, .count = 40000 };
	struct bootstrap_field_value v = { .data = "a\"\\\n\0\xff", .len = 6, .truncated = true };
	struct bootstrap_event ev = { &h, &p, &bootstrap_events[BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_WRITE], &v, NULL };
	const char *want = HEAD(1028, "syscalls/sys_enter_write")
		"{\"fd\":1,\"count\":40000,\"content\":\"a\\\"\\\\\\n\\u0000\xef\xbf\xbd\"},\"truncated\":[\"content\"]}\n";
	char buf[512];
	size_t n = bootstrap_event_json(&ev, buf, sizeof(buf));

	cr_assert_eq(n, strlen(want));
	cr_assert_str_eq(buf, want);
	/* snprintf-like: a short buffer gets the size needed and no overflow. */
	memset(buf, 'X', sizeof(buf));
	cr_assert_eq(bootstrap_event_json(&ev, buf, 10), n);
	cr_assert_eq(buf[10], 'X');
}

Test(event_json, exec_argv_list_and_lost_filename)
{
	struct bootstrap_header h = header(BOOTSTRAP_EV_SCHED_SCHED_PROCESS_EXEC);
	struct bootstrap_payload_sched_sched_process_exec p = { 0 };
	struct bootstrap_field_value v[2] = {
		{ .lost = true },
		{ .data = "ls\0-l\0\0x y\0", .len = 10 },
	};
	struct bootstrap_event ev = { &h, &p, &bootstrap_events[BOOTSTRAP_EV_SCHED_SCHED_PROCESS_EXEC], v, NULL };
	const char *want = HEAD(0, "sched/sched_process_exec")
		"{\"filename\":null,\"argv\":[\"ls\",\"-l\",\"\",\"x y\"]},\"lost\":[\"filename\"]}\n";
	char buf[512];

	cr_assert_eq(bootstrap_event_json(&ev, buf, sizeof(buf)), strlen(want));
	cr_assert_str_eq(buf, want);
}

Test(event_json, signed_fields_and_reflection_agree)
{
	struct bootstrap_header h = header(BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_OPENAT);
	struct bootstrap_payload_syscalls_sys_enter_openat p = { .dfd = -100, .flags = 0x80000, .mode = 0644 };
	struct bootstrap_field_value v = { .data = "/etc/hostname", .len = 13 };
	struct bootstrap_event ev = { &h, &p, &bootstrap_events[BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_OPENAT], &v, NULL };
	const char *want = HEAD(1024, "syscalls/sys_enter_openat")
		"{\"dfd\":-100,\"filename\":\"/etc/hostname\",\"flags\":524288,\"mode\":420}}\n";
	char buf[512];

	cr_assert_eq(bootstrap_event_json(&ev, buf, sizeof(buf)), strlen(want));
	cr_assert_str_eq(buf, want);
	cr_assert_eq(bootstrap_event_index("syscalls/sys_enter_openat"), BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_OPENAT);
	cr_assert_eq(bootstrap_event_index("syscalls/nope"), -1);
	cr_assert_str_eq(bootstrap_events[BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_OPENAT].fields[1].name, "filename");
	cr_assert_eq(bootstrap_events[BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_OPENAT].fields[1].type, BOOTSTRAP_T_BYTES);
	cr_assert_eq(bootstrap_events[BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_OPENAT].fields[0].type, BOOTSTRAP_T_S32);
}

/* The task part of the line is memoized per thread: a change of any task field between
 * consecutive events must show, and returning to a task must give the same text. */
Test(event_json, task_fields_follow_every_change)
{
	struct bootstrap_header a = header(BOOTSTRAP_EV_SYSCALLS_SYS_EXIT_OPENAT), b = a, c = a;
	struct bootstrap_payload_syscalls_sys_exit_openat p = { .ret = 3 };
	struct bootstrap_event ev = { &a, &p, &bootstrap_events[BOOTSTRAP_EV_SYSCALLS_SYS_EXIT_OPENAT], NULL, NULL };
	char first[512], buf[512];

	b.tid = 44;
	memcpy(c.comm, "sh\"\nX", 5);  /* only the comm differs */
	bootstrap_event_json(&ev, first, sizeof(first));
	cr_assert_not_null(strstr(first, "\"tid\":43,"));
	ev.hdr = &b;
	bootstrap_event_json(&ev, buf, sizeof(buf));
	cr_assert_not_null(strstr(buf, "\"tid\":44,"));
	ev.hdr = &c;
	bootstrap_event_json(&ev, buf, sizeof(buf));
	cr_assert_not_null(strstr(buf, "\"comm\":\"sh\\\"\\nX\","));
	ev.hdr = &a;
	bootstrap_event_json(&ev, buf, sizeof(buf));
	cr_assert_str_eq(buf, first);
	/* A buffer too small for the line still gets the size right from the memo. */
	cr_assert_eq(bootstrap_event_json(&ev, buf, 20), strlen(first));
}
