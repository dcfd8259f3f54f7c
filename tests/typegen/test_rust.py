"""types.gen.rs: the Rust spellings of schema names, the C structs read from their
headers (cstructs.py), and the Rust generated for an added event. That the generated
Rust compiles, with the C layouts, is tests/rust's."""
import sys
import textwrap

import pytest

from typegen_support import TYPEGEN

sys.path.insert(0, str(TYPEGEN.parent))
import cstructs  # noqa: E402
import rsgen  # noqa: E402


def test_names_and_literals():
    assert rsgen.camel('syscalls_sys_enter_openat') == 'SyscallsSysEnterOpenat'
    assert rsgen.camel('STR_BLOCK') == 'StrBlock'
    assert [rsgen.rust_ident(n) for n in ('type', 'self', 'fd', 'match')] == ['r#type', 'self_', 'fd', 'r#match']
    assert rsgen.rust_string('a "q" \\ é\n') == 'a \\"q\\" \\\\ \\u{e9}\\u{a}'
    # Prose in #[doc]: a bracket is text, not a rustdoc link (the source escapes its backslash).
    assert rsgen.rust_doc('a process\'s [vdso] "x"') == 'a process\'s \\\\[vdso\\\\] \\"x\\"'


def test_struct_members_comments_arrays_and_counters(tmp_path):
    header = tmp_path / 'h.h'
    header.write_text(textwrap.dedent('''\
        struct bootstrap_inner {
        	__u32 a;    /* on the line: a's */
        };
        struct bootstrap_outer {
        	/* before: b's and c's,
        	 * on two lines */
        	uint64_t b, c;
        #define X(name, what) uint64_t name;
        	BOOTSTRAP_KCOUNTERS(X)
        #undef X
        	char name[N];
        	struct bootstrap_inner inner[3];
        };
        '''))
    inner = cstructs.struct('bootstrap_inner', header)
    outer = cstructs.struct('bootstrap_outer', header, [inner], {'N': 5})
    assert [(m.name, m.comment) for m in inner.members] == [('a', "on the line: a's")]
    counters = [name for name, _ in cstructs.kcounters()]
    assert [m.name for m in outer.members] == ['b', 'c', *counters, 'name', 'inner']
    assert outer.members[0].comment == outer.members[1].comment == "before: b's and c's, on two lines"
    name, arr = outer.members[-2:]
    assert (name.offset, name.size, arr.offset, arr.size) == (16 + 8 * len(counters), 5, 24 + 8 * len(counters), 12)
    assert rsgen.member_type(arr) == '[Inner; 3]' and rsgen.member_default(arr) == '[Inner::default(); 3]'


@pytest.mark.parametrize('member', ['float x;', 'struct unknown u;', '__u32 *p;'])
def test_an_unreadable_member_fails_naming_it(tmp_path, member):
    header = tmp_path / 'h.h'
    header.write_text(f'struct bootstrap_s {{\n\t__u32 a;\n\t{member}\n}};\n')
    with pytest.raises(RuntimeError, match='struct bootstrap_s: cannot read'):
        cstructs.struct('bootstrap_s', header)


def test_added_event_gets_a_mirror_a_view_and_a_variant(added_gen):
    rs = (added_gen / 'types.gen.rs').read_text()
    assert ('    pub struct SyscallsSysEnterMkdirat {\n'
            '        #[doc = "`s32`"]\n'
            '        pub dfd: i32,\n'
            '        #[doc = "`char[]`: its place in the arena"]\n'
            '        pub pathname: Var,\n'
            '        #[doc = "`u32`"]\n'
            '        pub mode: u32,\n'
            '    }\n'
            '    const _: () = assert!(std::mem::size_of::<SyscallsSysEnterMkdirat>() == 16);\n') in rs
    assert "        pub pathname: crate::VarField<'a>,\n" in rs
    assert "    SyscallsSysEnterMkdirat(view::SyscallsSysEnterMkdirat<'a>),\n" in rs


def test_enum_constants_values_and_comments(tmp_path):
    header = tmp_path / 'h.h'
    header.write_text('enum bootstrap_e {\n\tBOOTSTRAP_E_A, BOOTSTRAP_E_B_C,\n'
                      '\tBOOTSTRAP_E_D = 7,  /* d\'s */\n\tBOOTSTRAP_E_E,\n};\n')
    en = cstructs.enum('bootstrap_e', header, 'BOOTSTRAP_E_')
    assert [(n, v, c) for _, n, v, c in en.constants] == [('A', 0, None), ('B_C', 1, None), ('D', 7, "d's"), ('E', 8, None)]
    assert rsgen.mirror_name(en) == 'E' and rsgen.camel('B_C') == 'BC'


def test_an_enum_comment_on_several_lines_documents_its_constant(tmp_path):
    header = tmp_path / 'h.h'
    header.write_text('enum bootstrap_e {\n\tBOOTSTRAP_E_A,   /* one line */\n'
                      '\tBOOTSTRAP_E_B,   /* two\n\t\t\t   lines */\n\tBOOTSTRAP_E_C = 7,\n};\n')
    e = cstructs.enum('bootstrap_e', header, 'BOOTSTRAP_E_')
    assert e.constants == [('BOOTSTRAP_E_A', 'A', 0, 'one line'), ('BOOTSTRAP_E_B', 'B', 1, 'two lines'),
                           ('BOOTSTRAP_E_C', 'C', 7, None)]


def test_counters_come_from_the_x_macro(real_gen):
    """KCOUNTERS and EventStats::kcounters() list BOOTSTRAP_KCOUNTERS, in its order."""
    rs = (real_gen / 'types.gen.rs').read_text()
    names = [name for name, _ in cstructs.kcounters()]
    assert names[:2] == ['emitted', 'ringbuf_full'] and len(names) >= 10
    listed = [line.split('"')[1] for line in rs.split('pub const KCOUNTERS')[1].split('];')[0].splitlines()[1:]]
    assert listed == names
    assert '[' + ', '.join(f'self.{n}' for n in names) + ']' in rs


def test_aggregation_keys_are_typed(real_gen):
    """Each aggregation's key is a struct read from the map's bytes, a variant of AggKey."""
    rs = (real_gen / 'types.gen.rs').read_text()
    assert ('    pub struct NetPacketsPacketsByProto {\n'
            '        #[doc = "`u8`"]\n'
            '        pub proto: u8,\n'
            '    }\n') in rs
    assert '                proto: u8::from_ne_bytes(b[0..1].try_into().unwrap()),\n' in rs
    assert '    NetPacketsPacketsByProto(aggkey::NetPacketsPacketsByProto),\n' in rs
