"""tracefs.py: what typegen reads of a kernel's tracefs, an input given on its command line.

Validation checks args[N] of a syscalls/ tracepoint against the argument count of its
format file. The Makefile passes the build host's tracefs (--tracefs); the tests pass a
copy of format files (tests/typegen/fixtures/tracefs), so results do not depend on the
machine. Without one, arguments are checked against the most any syscall takes.
"""
import os
import re


def mounted():
    """The root of the tracefs mounted here, or None."""
    for path in ('/sys/kernel/tracing', '/sys/kernel/debug/tracing'):
        if os.path.isdir(os.path.join(path, 'events')):
            return path
    return None


class Tracefs:
    def __init__(self, root):
        self.root = root

    def syscall_arg_count(self, name):
        """The arguments of syscalls/NAME (sys_enter_*) per its format file, or None when
        the file is absent or unreadable."""
        path = os.path.join(self.root, 'events', 'syscalls', name, 'format')
        try:
            with open(path) as fmt:
                text = fmt.read()
        except OSError:
            return None
        fields = re.findall(r'field:[^;]*?(\w+);\s*offset:', text)
        return len(fields[fields.index('__syscall_nr') + 1:]) if '__syscall_nr' in fields else None
