// embed.cpp: libbootstrap.a from C++17, built against nothing but bootstrap.h and the
// archive: the tracer is owned by a RAII class and hands events to a lambda. It traces
// a child that opens one path 100 times, and checks that exactly those opens come back.
#include <cerrno>
#include <cstdio>
#include <exception>
#include <fcntl.h>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/wait.h>
#include <type_traits>
#include <unistd.h>

#include "bootstrap.h"

namespace {

constexpr int kOpens = 100;
constexpr std::string_view kPath = "/nonexistent/embed-cpp";

// An open tracer, closed (detached) when it goes out of scope, exceptions included.
class Tracer {
public:
	explicit Tracer(const bootstrap_opts &opts)
	{
		bootstrap *b = nullptr;
		int err = bootstrap_open(&opts, &b);

		if (err)
			throw std::runtime_error(std::string("bootstrap_open: ") + bootstrap_strerror(err));
		b_.reset(b);
	}

	// Hands each pending event to f (a callable taking const bootstrap_event &, returning
	// true to stop after it). An exception thrown by f cannot cross the C library: it is
	// caught there and rethrown here once bootstrap_poll() has returned.
	template <typename F>
	int poll(int timeout_ms, F &&f)
	{
		struct Ctx {
			std::remove_reference_t<F> *f;
			std::exception_ptr error;
		} ctx{ &f, nullptr };
		int n = bootstrap_poll(b_.get(), timeout_ms, [](void *p, const bootstrap_event *ev) -> int {
			auto *c = static_cast<Ctx *>(p);
			try {
				return (*c->f)(*ev) ? 1 : 0;
			} catch (...) {
				c->error = std::current_exception();
				return 1;
			}
		}, &ctx);

		if (ctx.error)
			std::rethrow_exception(ctx.error);
		return n;
	}

	void stop() { bootstrap_stop(b_.get()); }

private:
	struct Closer {
		void operator()(bootstrap *b) const { bootstrap_close(b); }
	};
	std::unique_ptr<bootstrap, Closer> b_;
};

// A child that waits for a byte on the returned fd, then opens kPath kOpens times.
pid_t spawn(int *go)
{
	int p[2];

	if (pipe(p))
		throw std::runtime_error("pipe failed");
	pid_t pid = fork();
	if (pid == 0) {
		char name[64];
		char c;

		close(p[1]);
		// On the stack, so the page is resident when the tracer reads it at syscall entry.
		std::snprintf(name, sizeof(name), "%.*s", static_cast<int>(kPath.size()), kPath.data());
		if (read(p[0], &c, 1) != 1)
			_exit(1);
		for (int i = 0; i < kOpens; i++)
			open(name, O_RDONLY);
		_exit(0);
	}
	close(p[0]);
	*go = p[1];
	return pid;
}

int run()
{
	int go;
	pid_t child = spawn(&go);
	bootstrap_opts opts{};

	opts.sz = sizeof(opts);
	opts.events = "syscalls/sys_enter_openat";
	opts.pids = &child;
	opts.n_pids = 1;
	Tracer tracer(opts);

	int own = 0, other = 0;
	auto on_event = [&](const bootstrap_event &ev) {
		if (ev.hdr->event_index != BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_OPENAT)
			return false;
		auto *p = static_cast<const bootstrap_payload_syscalls_sys_enter_openat *>(ev.payload);
		const bootstrap_field_value &name = ev.vars[0];

		if (!name.lost && !name.truncated && p->flags == O_RDONLY &&
		    std::string_view(name.data, name.len) == kPath)
			own++;
		else
			other++;
		return false;
	};
	if (write(go, "x", 1) != 1)
		throw std::runtime_error("cannot start the child");
	close(go);
	// Until the child has exited, then stop: the poll after the stop delivers the rest.
	int status = 0;
	bool exited = false;
	for (int i = 0; i < 600; i++) {
		if (!exited && waitpid(child, &status, WNOHANG) == child) {
			exited = true;
			tracer.stop();
		}
		if (tracer.poll(100, on_event) == -ECANCELED)
			break;
	}
	if (own != kOpens || other != 0 || !exited || status != 0) {
		std::fprintf(stderr, "embed-cpp: %d opens of %s, %d others (expected %d, 0), child %s\n", own,
			     kPath.data(), other, kOpens, exited ? "exited" : "still running");
		std::printf("embed-cpp: 0 passed, 1 failed\n");
		return 1;
	}
	std::printf("embed-cpp: 1 passed, 0 failed\n");
	return 0;
}

} // namespace

int main()
{
	try {
		return run();
	} catch (const std::exception &e) {
		std::fprintf(stderr, "embed-cpp: %s\n", e.what());
		return 1;
	}
}
