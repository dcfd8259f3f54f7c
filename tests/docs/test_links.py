"""test_links.py: the project's Markdown links all resolve (check_links.py over README.md,
docs/ and bench/), and the checker itself catches what it is for."""

import glob
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, '..', '..'))
CHECKER = os.path.join(HERE, 'check_links.py')
sys.path.insert(0, HERE)
import check_links  # noqa: E402

DOCS = ['README.md'] + sorted(os.path.relpath(p, ROOT) for p in
                              glob.glob(os.path.join(ROOT, 'docs', '*.md')) +
                              glob.glob(os.path.join(ROOT, 'bench', '*.md')))


def run(root, *files):
    return subprocess.run([sys.executable, CHECKER, str(root), *files],
                          capture_output=True, text=True)


def test_the_trees_links_resolve():
    assert 'docs/schema.md' in DOCS and 'bench/RESULTS.md' in DOCS
    r = run(ROOT, *DOCS)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout == ''


def test_readme_links_every_file_of_docs():
    with open(os.path.join(ROOT, 'README.md'), encoding='utf-8') as f:
        targets = {t.partition('#')[0] for _, t in check_links.links(f.read())}
    for md in DOCS:
        if md.startswith('docs/'):
            assert md in targets, f'README.md does not link {md}'


@pytest.mark.parametrize('heading,slug', [
    ('## Set-up and test (Debian 12)', 'set-up-and-test-debian-12'),
    ('### `./example top`', 'example-top'),
    ('### Values read at the exit', 'values-read-at-the-exit'),
    ('## `sys_enter_*` and `__data_loc` fields', 'sys_enter_-and-__data_loc-fields'),
    ('## Packets (xdp): **fast**', 'packets-xdp-fast'),
    ('## Library API (`c/bootstrap.h`)', 'library-api-cbootstraph'),
    ('## Kinds of probe [see](x.md)', 'kinds-of-probe-see'),
])
def test_slug_follows_github(heading, slug):
    assert check_links.slug(check_links.HEADING.match(heading).group(2)) == slug


def write(tmp_path, name, text):
    p = tmp_path / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding='utf-8')


def test_good_links_pass(tmp_path):
    write(tmp_path, 'docs/a.md', '# A\n\n## Same\n\n## Same\n\nsee [b](b.md#part-two), [same](#same-1),\n'
          '[up](../src/x.c), [folder](../src), [web](https://example.org/#nothing)\n')
    write(tmp_path, 'docs/b.md', '# B\n\n## Part two\n')
    write(tmp_path, 'src/x.c', '')
    r = run(tmp_path, 'docs/a.md')
    assert (r.returncode, r.stdout) == (0, '')


@pytest.mark.parametrize('link,why', [
    ('[b](c.md)', "docs/c.md does not exist"),
    ('[b](b.md#part-three)', "no heading of docs/b.md has the slug 'part-three'"),
    ('[b](#same-2)', "no heading of docs/a.md has the slug 'same-2'"),
    ('[b](#Same)', "no heading of docs/a.md has the slug 'Same'"),
    ('[x](../src/x.c#L1)', 'an anchor into a file that is not Markdown'),
    ('[ref]\n\n[ref]: ../src/y.c', 'src/y.c does not exist'),
])
def test_a_broken_link_fails(tmp_path, link, why):
    write(tmp_path, 'docs/a.md', f'# A\n\n## Same\n\n## Same\n\ntext {link}\n')
    write(tmp_path, 'docs/b.md', '# B\n\n## Part two\n')
    write(tmp_path, 'src/x.c', '')
    r = run(tmp_path, 'docs/a.md')
    assert r.returncode == 1
    assert r.stdout.count('\n') == 1 and why in r.stdout, r.stdout


def test_code_is_not_checked(tmp_path):
    write(tmp_path, 'a.md', '# A\n\n```sh\necho [x](missing.md)\n```\n\nand `[y](missing.md)` too\n')
    r = run(tmp_path, 'a.md')
    assert (r.returncode, r.stdout) == (0, '')
