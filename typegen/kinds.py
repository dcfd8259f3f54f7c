"""kinds.py: the one place that knows each kind of probe.

A kind says which attach keys an event takes, which sources exist there and how each
reads as C, what the BPF handler's section and context are, whether it is a return
point (and then which entry point the generator attaches beside it), and how the
library names, parses, checks, prepares and attaches its targets: kinds.gen.h (the
public enum bootstrap_kind, in this order), kinds.gen.c (the kind table) and
kind_ops.gen.c (the operations bs_kind_NAME_ops that the C file of the kind's family,
c/kind_FAMILY.c, defines) are generated from the classes here. Adding a kind is a class here, its operations in the C file of
its family and, if its handler differs, a block in templates/fill.gen.bpf.h.j2.
"""
from cstructs import Enum, packet

# Sources every kind with a current task has, besides the kind's own. Every such kind is
# a tracing program, where bpf_get_stack() can take the kernel and the user stack.
TASK_SOURCES = frozenset({'task', 'auxv', 'target', 'kstack', 'ustack'})
ENTRY_SOURCES = frozenset({'entry_arg', 'elapsed'})
MAX_ARGS = 6
# auxv.NAME: the entries of the process's auxiliary vector a field can read (the kernel's
# copy, mm->saved_auxv), by their AT_* number (uapi linux/auxvec.h, the same on every
# architecture). Each is an integer; the addresses among them point into user memory.
AUXV = {'AT_PHDR': 3, 'AT_BASE': 7, 'AT_ENTRY': 9, 'AT_PLATFORM': 15, 'AT_RANDOM': 25, 'AT_EXECFN': 31}

# Calls in progress a function's return point keeps the entries of, per task: the
# outermost ENTRY_DEPTH of a recursion return with their entries, deeper ones without
# (bpf/entry.bpf.h).
ENTRY_DEPTH = 8
# A perf_event's highest frequency: the kernel's default perf_event_max_sample_rate (it
# may lower it at run time). BOOTSTRAP_MAX_FREQUENCY in C.
MAX_FREQUENCY = 100000
# What each attach key names, and what its value may not contain, for messages.
ATTACH_VALUES = {'function': ("the function's symbol", 'white space or colons'),
                 'binary': ('a path, or a library name such as libssl.so.3', 'colons'),
                 'interface': ('a network interface name, e.g. eth0', 'colons'),
                 'frequency': (f'samples per second per CPU, 1..{MAX_FREQUENCY}', None)}
# The records of the syscalls/ tracepoints, as the kernel writes them (kernel/trace/trace.h):
# the header, the syscall number (an int) and the arguments or the return value. Not
# trace_event_raw_sys_enter/_sys_exit, the raw_syscalls/ records, whose number is a long:
# where the header is not 8 bytes (PREEMPT_RT adds preempt_lazy_count) their args and ret
# sit 8 bytes further, so CO-RE would read the next argument, and past the record's end
# (EACCES at attach) for the last.
SYS_ENTER_CTX, SYS_EXIT_CTX = 'syscall_trace_enter', 'syscall_trace_exit'


class Kind:
    name = ''
    enum = ''           # BOOTSTRAP_KIND_*: how the loader attaches it
    doc = None          # the enum constant's comment
    attach_keys = ()    # keys naming the target in events.toml (all required unless runtime)
    arg_mem = 'user'    # where pointer arguments point by default
    # A target as the library takes it at run time, for messages; and for an event that
    # declares one, when an override may leave part of it out.
    syntax = ''
    syntax_declared = None
    # The command-line probe option --NAME ARG of a generic probe/NAME event: ARG and
    # what it traces; None when the kind has none.
    probe_option = None
    # Whether a target can be limited to one process (bootstrap_attach.pid).
    per_process = False
    # How a person names the return points of this kind (validation messages).
    return_points = None

    def sources(self, ev):
        """The source kinds a field of `ev` may read."""
        raise NotImplementedError

    def is_return(self, ev):
        return False

    def section(self, ev):
        raise NotImplementedError

    def ctx_type(self, ev):
        """The handler's context struct (without `struct`), or None for void."""
        return 'pt_regs'

    def arg_expr(self, ev, n):
        return f'PT_REGS_PARM{n + 1}(ctx)'

    def ret_expr(self, ev):
        return 'PT_REGS_RC(ctx)'

    def entry_section(self, ev):
        """SEC() of the entry program a return point's entry.* sources are stashed by."""
        raise NotImplementedError

    def entry_enum(self, ev):
        """How that entry program attaches (BOOTSTRAP_KIND_*)."""
        return self.enum

    entry_ctx_type = 'pt_regs'

    def entry_arg_expr(self, n):
        """Argument n as the entry program reads it."""
        return f'PT_REGS_PARM{n + 1}(ctx)'

    # A return point's calls in progress per task (bpf/entry.bpf.h): how many entries it
    # keeps, and what identifies a call, as its entry program and as its return handler
    # compute it: the stack pointer at the entry.
    entry_depth = ENTRY_DEPTH
    entry_call_expr = 'PT_REGS_SP(ctx)'
    return_call_expr = 'bs_entry_sp_at_return(ctx)'

    # Whether the handler runs for a current task (task sources, filters and header keys);
    # how it starts and ends an event, and what it returns.
    has_task = True
    begin, commit, verdict = 'bs_begin', 'bs_commit', '0'
    # The fill's context when it is not the handler's own: (its C type, the function that
    # makes it from the handler's ctx).
    fill_ctx = None

    def target(self, ev):
        """The declared target as the loader takes it (cat/name, function, binary:function)."""
        return ':'.join(str(ev.attach[k]) for k in self.attach_keys)



class Tracepoint(Kind):
    name, enum = 'tracepoint', 'BOOTSTRAP_KIND_TRACEPOINT'
    syntax = 'category/name'
    probe_option = ('CAT/NAME', 'any tracepoint (the first six fields of its record)')
    return_points = 'syscalls/sys_exit_*'

    def sources(self, ev):
        if ev.runtime:
            return TASK_SOURCES | {'arg'}
        if ev.is_sys_enter:
            return TASK_SOURCES | {'arg', 'ctx'}
        if ev.is_sys_exit:
            return TASK_SOURCES | ENTRY_SOURCES | {'ret', 'ctx'}
        return TASK_SOURCES | {'ctx', 'dataloc'}

    def is_return(self, ev):
        return ev.is_sys_exit

    def section(self, ev):
        return 'tp' if ev.runtime else f'tp/{ev.category}/{ev.name}'

    def ctx_type(self, ev):
        if ev.runtime:
            return None
        if ev.declared_ctx_type is not None:
            return ev.declared_ctx_type
        if ev.is_sys_enter:
            return SYS_ENTER_CTX
        if ev.is_sys_exit:
            return SYS_EXIT_CTX
        return f'trace_event_raw_{ev.name}'

    def arg_expr(self, ev, n):
        # A run-time tracepoint's record layout is only known when it is attached: the
        # loader puts the offsets of its first fields in the target table.
        return f'bs_tp_arg(ctx, {n})' if ev.runtime else f'ctx->args[{n}]'

    def ret_expr(self, ev):
        return 'ctx->ret'

    def entry_section(self, ev):
        return f'tp/syscalls/sys_enter_{ev.name[len("sys_exit_"):]}'

    entry_ctx_type = SYS_ENTER_CTX

    def entry_arg_expr(self, n):
        return f'ctx->args[{n}]'

    # A task is in one syscall at a time: its entry replaces any earlier one.
    entry_depth = 1
    entry_call_expr = return_call_expr = '0'

    def target(self, ev):
        return f'{ev.category}/{ev.name}'


class FunctionProbe(Kind):
    """An entry probe of a function: its arguments, at a section named as the kind (the
    loader gives the function when it attaches)."""

    def sources(self, ev):
        return TASK_SOURCES | {'arg'}

    def section(self, ev):
        return self.name


class ReturnProbe:
    """The return probe of the entry probe class it is mixed into: the return value and
    what the generator stashes at that entry, attached to the same target."""

    def sources(self, ev):
        return TASK_SOURCES | ENTRY_SOURCES | {'ret'}

    def is_return(self, ev):
        return True

    @property
    def return_points(self):
        return self.name

    def entry_section(self, ev):
        return self.entry.name

    def entry_enum(self, ev):
        return self.entry.enum


class Kprobe(FunctionProbe):
    name, enum = 'kprobe', 'BOOTSTRAP_KIND_KPROBE'
    attach_keys = ('function',)
    arg_mem = 'kernel'
    syntax = 'a kernel function'
    probe_option = ('FUNC', "a kernel function's entry")


class Kretprobe(ReturnProbe, Kprobe):
    name, enum, entry = 'kretprobe', 'BOOTSTRAP_KIND_KRETPROBE', Kprobe
    probe_option = ('FUNC', "a kernel function's return")


class Uprobe(FunctionProbe):
    name, enum = 'uprobe', 'BOOTSTRAP_KIND_UPROBE'
    attach_keys = ('binary', 'function')
    syntax = 'binary:function'
    syntax_declared = 'binary:function, or binary alone to keep the declared function'
    probe_option = ('BIN:FUNC', "a function's entry in a program or library (BIN a path,\n"
                    'or a library name such as libc.so.6)')
    per_process = True


class Uretprobe(ReturnProbe, Uprobe):
    name, enum, entry = 'uretprobe', 'BOOTSTRAP_KIND_URETPROBE', Uprobe
    probe_option = ('BIN:FUNC', "a function's return in a program or library")


class PerfEvent(Kind):
    """CPU sampling: the software CPU clock of every online CPU, `frequency` samples a
    second each; the handler runs in the interrupted task's context."""
    name, enum = 'perf_event', 'BOOTSTRAP_KIND_PERF_EVENT'
    doc = 'CPU sampling; target "cpu-clock@49Hz" (or "49")'
    attach_keys = ('frequency',)
    syntax = 'cpu-clock@FREQUENCYHz'

    def sources(self, ev):
        return TASK_SOURCES

    def section(self, ev):
        return 'perf_event'

    def ctx_type(self, ev):
        return 'bpf_perf_event_data'

    def target(self, ev):
        return f'cpu-clock@{ev.attach["frequency"]}Hz'


# What an XDP handler's packet parse yields, read from struct bs_pkt (bpf/packet.bpf.h):
# pkt.NAME and its C type. Addresses are IPv6, IPv4 as ::ffff:a.b.c.d; ports are in host
# order. pkt.proto is a class, shown by name: the value i is PKT_NAMES['proto'][i] (enum
# bs_pkt_proto's names).
_PKT, _PKT_PROTOS = packet()
PKT_SOURCES = {m.name: m.c_type for m in _PKT.members}
PKT_NAMES = {'proto': _PKT_PROTOS}


class Xdp(Kind):
    """A network interface's receive path, in softirq: no current task, so no task
    sources, no task filters and no task keys in the output; the packet parsed once is
    what the fill reads (ctx is the struct bs_pkt). The program always passes the packet."""
    name, enum = 'xdp', 'BOOTSTRAP_KIND_XDP'
    doc = "a network interface's receive path: no task (pid … comm are 0)"
    attach_keys = ('interface',)
    syntax = 'a network interface'
    arg_mem = 'kernel'
    has_task = False
    begin, commit, verdict = 'bs_begin_packet', 'bs_commit_packet', 'XDP_PASS'

    def sources(self, ev):
        return frozenset({'pkt'})

    def section(self, ev):
        return 'xdp'

    def ctx_type(self, ev):
        return 'xdp_md'

    fill_ctx = ('struct bs_pkt', 'bs_pkt_parse')


# In the order of enum bootstrap_kind, whose values are part of the library's ABI: a new
# kind goes last.
KINDS = {k.name: k for k in (Tracepoint(), Kprobe(), Kretprobe(), Uprobe(), Uretprobe(), Xdp(), PerfEvent())}
# Where ret, entry.args[N] and elapsed_ns exist, for messages.
RETURN_POINTS = ', '.join(k.return_points for k in KINDS.values() if k.return_points)


def kind_enum():
    """enum bootstrap_kind, as kinds.gen.h declares it, for the bindings mirrored from C."""
    prefix = 'BOOTSTRAP_KIND_'
    return Enum('bootstrap_kind', prefix,
                [(k.enum, k.enum[len(prefix):], i, k.doc) for i, k in enumerate(KINDS.values())])
