"""vmlinux_index.py: looks up struct members in vendor/vmlinux.h.

typegen uses it to check `ctx.FIELD`, `dataloc(FIELD)` and `task.A.B` sources against
the kernel's types at build time, so that a misspelt field fails the build with the
nearest candidates named instead of failing at load time in the verifier.
The file is bpftool's C dump: every top-level aggregate starts at column 0 with
`struct NAME {` and ends with `};`, one member per line.
"""
import difflib
import re

_START = re.compile(r'^(struct|union) (\w+) \{$')
_MEMBER = re.compile(r'^(?P<type>[^();]*?)\s*(?P<ptr>\**)\s*(?P<name>[A-Za-z_]\w*)'
                     r'(?P<dims>(?:\[[^\]]*\])*)(?:\s*:\s*\d+)?;$')
_OPEN_ANON = re.compile(r'^(struct|union)\s*\{$')
_CLOSE_NAMED = re.compile(r'^\}\s*(?P<name>[A-Za-z_]\w*)(?:\[[^\]]*\])*;$')
_TYPEDEF = re.compile(r'^typedef (?P<type>[^();{]*?)\s*(?P<ptr>\**)\s*(?P<name>[A-Za-z_]\w*);$')


class Member:
    def __init__(self, type_, pointer, array=False):
        self.type = type_          # e.g. "struct mm_struct", "long unsigned int", "" (anonymous)
        self.pointer = pointer     # number of '*'
        self.array = array         # declared with [N]

    @property
    def is_integer(self):
        """A plain integer or enum: no pointer, array, struct or union (nor an anonymous one).
        A typedef name counts as one: those that task chains end in are pid_t and the like."""
        return (not self.pointer and not self.array and bool(self.type) and
                not re.match(r'(?:const\s+)?(?:struct|union)\b', self.type))

    def pointee_struct(self):
        """The struct a one-level pointer member points to, else None."""
        m = re.fullmatch(r'(?:const\s+)?(?:struct|union) (\w+)', self.type)
        return m.group(1) if m and self.pointer == 1 else None


class VmlinuxIndex:
    def __init__(self, path):
        self.path = path
        with open(path, encoding='utf-8', errors='replace') as f:
            self._lines = f.read().split('\n')
        self._starts = {}
        for i, line in enumerate(self._lines):
            m = _START.match(line)
            if m:
                self._starts.setdefault(m.group(2), i)
        self._cache = {}
        self._typedefs = None

    def has_struct(self, name):
        return name in self._starts

    def struct_names(self):
        return self._starts.keys()

    def typedef(self, name):
        """The Member (type, pointer level) that a one-line typedef `name` stands for, else
        None (no such typedef, or one of a struct body or a function type)."""
        if self._typedefs is None:
            self._typedefs = {m.group('name'): Member(m.group('type'), len(m.group('ptr')))
                              for m in map(_TYPEDEF.match, self._lines) if m}
        return self._typedefs.get(name)

    def members(self, name):
        """{member name: Member} of struct/union `name`, anonymous nested members merged in."""
        if name not in self._cache:
            self._cache[name] = self._parse(self._starts[name] + 1)
        return self._cache[name]

    def _parse(self, i):
        stack = [{}]
        while i < len(self._lines):
            line = self._lines[i].strip()
            i += 1
            if line == '};' and len(stack) == 1:
                return stack[0]
            if _OPEN_ANON.match(line):
                stack.append({})
                continue
            if line == '};':
                inner = stack.pop()
                stack[-1].update(inner)
                continue
            m = _CLOSE_NAMED.match(line)
            if m:
                stack.pop()
                stack[-1][m.group('name')] = Member('', 0)
                continue
            m = _MEMBER.match(line)
            if m:
                stack[-1][m.group('name')] = Member(m.group('type').strip(), len(m.group('ptr')), bool(m.group('dims')))
        return stack[0]

    def nearest_structs(self, name, hint):
        """Struct names close to `name`, and those sharing a word of `hint` (an event name)."""
        names = [n for n in self._starts if n.startswith('trace_event_raw_')]
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
        words = [w for w in hint.split('_') if len(w) > 3]
        related = [n for n in names if n not in close and
                   sum(w in n for w in words) >= max(1, len(words) - 1)]
        return close + sorted(related)[:5]

    def nearest_members(self, struct, member):
        return difflib.get_close_matches(member, list(self.members(struct)), n=3, cutoff=0.5)
