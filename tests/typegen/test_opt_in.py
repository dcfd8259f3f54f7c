"""opt_in = true: an event traced only when the event list selects it. The generator
carries it into the reflection table (the library's default selection leaves such an
event out) and rejects anything but a boolean."""
import textwrap

from typegen_support import generate, run_typegen

UPROBE = '''
[demo.readline]
id = 7
kind = "uretprobe"
binary = "/bin/bash"
function = "readline"
{opt_in}
payload = [{{ name = "line", type = "char[]", from = "ret" }}]
'''


def reflection_line(tmp_path, opt_in):
    (tmp_path / 'events.toml').write_text(textwrap.dedent(UPROBE.format(opt_in=opt_in)))
    source = (generate(tmp_path / 'events.toml', tmp_path / 'out') / 'json.gen.c').read_text()
    (line,) = [s for s in source.splitlines() if s.startswith('\t{ 7, "demo/readline", ')]
    return line


def test_opt_in_is_in_the_reflection_table(tmp_path):
    assert reflection_line(tmp_path, 'opt_in = true').endswith(
        'BOOTSTRAP_KIND_URETPROBE, 0, "/bin/bash:readline", true, 0 },')


def test_events_are_not_opt_in_unless_declared(tmp_path):
    assert reflection_line(tmp_path, '').endswith('"/bin/bash:readline", false, 0 },')


def test_opt_in_must_be_a_boolean(tmp_path):
    (tmp_path / 'events.toml').write_text(textwrap.dedent(UPROBE.format(opt_in='opt_in = "yes"')))
    proc = run_typegen(tmp_path)
    assert proc.returncode == 1 and not (tmp_path / 'out').exists()
    assert proc.stderr.splitlines() == [
        "events.toml: [demo.readline]: opt_in 'yes' is not true or false "
        "(opt_in = true: traced only when a pattern of the event list selects it)"]
