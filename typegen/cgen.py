"""cgen.py: the C text of sources, fields and aggregation keys, for the generated code.

The templates ask here how a field's value reads in a given program: the event's own
handler reads arguments as its kind says (kinds.py), while the exit that completes a
faulted syscall entry reads them from the stash (`args` names that array), or, after a
successful exec, reads the fields where the new image keeps them (after_exec). Every C
expression and statement made from the model is made here; the model holds none.
"""
from kinds import AUXV
from model import ARENA_ALIGN

# How a handler reads each header value an aggregation key may hold (model.HEADER_VALUES);
# comm is copied into the key rather than assigned (key_fill).
HEADER_EXPRS = {
    'pid': 'bpf_get_current_pid_tgid() >> 32',
    'tid': '(__u32)bpf_get_current_pid_tgid()',
    'uid': '(__u32)bpf_get_current_uid_gid()',
    'cgroup_id': 'bpf_get_current_cgroup_id()',
    'cpu': 'bpf_get_smp_processor_id()',
}


def ctx_decl(ev, vmlinux):
    """The handler's context type; void where nothing reads it, or where the struct is
    absent from vmlinux.h (a VmlinuxIndex, or None to take every struct as there)."""
    if not ev.ctx_type or not (ev.uses_ctx or ev.retries or ev.kind.name != 'tracepoint'):
        return 'void'
    has = vmlinux is None or vmlinux.has_struct(ev.ctx_type)
    return f'struct {ev.ctx_type}' if has else 'void'


def c_string(text):
    """A C string literal body for `text`: printable ASCII as is, every other byte of its
    UTF-8 in octal (JSON's \\u escapes are not valid C for controls and astral characters)."""
    return ''.join(chr(b) if 0x20 <= b < 0x7f and b not in b'"\\?' else f'\\{b:03o}'
                   for b in text.encode('utf-8'))


def c_comment(text):
    """`text` made safe inside a /* */ comment."""
    return text.replace('*/', '* /').replace('/*', '/ *')


def expr(src, ev, args=None):
    """The value of `src` as a C expression inside a handler of `ev` (ctx, task, entry and
    e in scope); `args`, when given, is the array the arguments are read from."""
    k = src.kind
    if k == 'arg':
        return f'{args}[{src.arg}]' if args else ev.kind.arg_expr(ev, src.arg)
    if k == 'ret':
        return ev.kind.ret_expr(ev)
    if k == 'ctx':
        return f'ctx->{src.arg}'
    if k == 'dataloc':
        return f'(const char *)ctx + (ctx->__data_loc_{src.arg} & 0xffff)'
    if k == 'task':
        return 'task->' + '->'.join(src.chain)
    if k == 'auxv':
        return f'bs_auxv(task, {AUXV[src.arg]})'
    if k == 'entry_arg':
        return f'entry->arg{src.arg}'
    if k == 'elapsed':
        return '(bpf_ktime_get_ns() - entry->call.ts)'
    if k == 'target':
        return 'bs_target_name(ctx)'
    if k == 'pkt':
        return f'ctx->{src.arg}'  # the fill's ctx is the parsed packet (kinds.Xdp)
    raise ValueError(f'no C expression for source kind {k}')


def user(f):
    return 'true' if f.mem == 'user' else 'false'


def int_expr(f, ev, args=None):
    """An integer field's value: the source (read through its pointer for *SRC), then
    shift and mask, then the field's C type. A fixed value that is not an integer (an ip
    address) is copied as it is."""
    if not f.is_int:
        return expr(f.src, ev, args)
    if f.src.kind == 'deref':
        value = (f'bs_deref(e, {f.index}, (const void *)({expr(f.src.inner, ev, args)}), '
                 f'sizeof({f.c_type}), {user(f)})')
    else:
        value = expr(f.src, ev, args)
    shift, mask = f.shift, f.mask
    if shift is not None or mask is not None:
        value = f'(__u64)({value})'
        if shift:
            value = f'({value} >> {shift})'
        if mask is not None:
            value = f'({value} & {mask:#x})'
    return f'!!({value})' if f.type == 'bool' else f'({f.c_type})({value})'


def var_call(f, ev, args=None):
    """The bs_var_* call that appends a variable field to the arena."""
    if f.type == 'stack':
        return stack_call(f)
    src = expr(f.src, ev, args)
    head = f'e, &p->{f.name}, {f.index}'
    if f.type == 'char[]' and f.len_field:
        return f'bs_var_bytes({head}, (const void *)({src}), p->{f.len_field.name}, {f.max}, {user(f)})'
    if f.type == 'char[]':
        return str_call(head, src, f.max, user(f))
    if f.type == 'char[][]':
        return block_call(head, src, expr(f.end, ev, args), f.max, user(f))
    return f'bs_var_str_array({head}, (const void *)({src}), {f.max_items}, {f.max})'


def arena_need(ev):
    """The most arena bytes the event's variable fields write, what its bs_begin reserves:
    per field, the most its length can say (max_bytes), plus a string's NUL (kept, not
    counted) and up to 7 bytes of alignment before a stack, rounded up to the span
    alignment."""
    need = 0
    for f in ev.var_fields:
        need += f.max_bytes
        if f.type == 'stack':
            need += ARENA_ALIGN - 1
        elif f.type == 'char[]' and not f.len_field:
            need += 1
    return -(-need // ARENA_ALIGN) * ARENA_ALIGN


def new_image_call(f, ev):
    """The bs_var_* call that reads a field where a successful exec's new image keeps it
    (after_exec): a string, or a NUL-separated block from `from` to `end` (a char*[] too,
    whose strings the kernel copied there one after the other)."""
    head = f'e, &p->{f.name}, {f.index}'
    mem = 'true' if f.exec_mem == 'user' else 'false'
    if f.exec_end:
        return block_call(head, expr(f.exec_src, ev), expr(f.exec_end, ev), f.max, mem)
    return str_call(head, expr(f.exec_src, ev), f.max, mem)


def str_call(head, src, max_, mem):
    return f'bs_var_str({head}, (const void *)({src}), {max_}, {mem})'


def block_call(head, start, end, max_, mem):
    return f'bs_var_block({head}, (__u64)({start}), (__u64)({end}), {max_}, {mem})'


def reread_mask(ev):
    """The header's reread bits, as C, of an entry completed at the exit: the fields read
    from user memory there (a field with `when` only when it held; the caller clears the
    lost ones)."""
    fields = ev.reread_fields
    fixed = sum(f.bit for f in fields if not f.when)
    held = [f'(({when_c(f)}) ? {f.bit:#x} : 0)' for f in fields if f.when]
    return ' | '.join(([f'{fixed:#x}'] if fixed or not held else []) + held)


def stack_call(f):
    """The bs_var_stack call that captures a stack field; with unwind = "dwarf", the
    bs_var_ustack_copy call that saves the user registers and the top of the user stack."""
    if f.unwind == 'dwarf':
        return f'bs_var_ustack_copy(e, &p->{f.name}, {f.index}, {f.copy})'
    flags = 'BPF_F_USER_STACK' if f.src.kind == 'ustack' else '0'
    return f'bs_var_stack(e, &p->{f.name}, {f.index}, ctx, {f.max_bytes}, {flags})'


def when_c(f):
    """A field's `when` as C over the payload p being filled."""
    return ''.join(part if isinstance(part, str) else f'p->{part.name}' for part in f.when)


def key_decl(part):
    """The declaration of a member of an aggregation's key struct."""
    return f'{part.c_type} {part.name}' + ('[BOOTSTRAP_COMM_LEN]' if part.type == 'comm' else '')


def key_fill(part):
    """The C statement that sets this member of key k (payload p in scope)."""
    if part.field:
        return f'k.{part.name} = p->{part.field.name};'
    if part.type == 'comm':
        return f'bpf_get_current_comm(k.{part.name}, sizeof(k.{part.name}));'
    return f'k.{part.name} = {HEADER_EXPRS[part.name]};'
