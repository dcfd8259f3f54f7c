#!/usr/bin/env python3
"""check_links.py: every relative link of the project's Markdown resolves.

  check_links.py ROOT FILE.md...

For each [text](target) outside code: an http(s)/mailto link is left alone; a relative
path must exist (from the linking file's folder); a #anchor, alone or after a .md path,
must be the slug of a heading of that file, by GitHub's rules: the heading's text as
rendered (code spans, links and emphasis reduced to their text), lowercased, every
character that is not a letter, digit, '_', '-' or space dropped, spaces turned to '-',
and a repeated slug suffixed -1, -2... Prints one line per broken link; exit status 1
when there is one.
"""

import os
import re
import sys
import unicodedata

FENCE = re.compile(r'^\s*(```|~~~)')
HEADING = re.compile(r'^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$')
CODE_SPAN = re.compile(r'(`+)(.+?)\1')
# [text](target) or [text](target "title"); the text may hold one level of brackets.
LINK = re.compile(r'\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)')
REF_DEF = re.compile(r'^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$')
EXTERNAL = re.compile(r'^[a-zA-Z][a-zA-Z0-9+.-]*:')  # http:, https:, mailto:...


def prose_lines(text):
    """(line number, line) of the lines outside fenced code blocks, code spans blanked."""
    fence = None
    for n, line in enumerate(text.split('\n'), 1):
        m = FENCE.match(line)
        if m:
            if fence is None:
                fence = m.group(1)
            elif m.group(1) == fence:
                fence = None
            continue
        if fence is None:
            yield n, line


def heading_text(raw):
    """A heading as GitHub renders it: links reduced to their text, code spans to their
    content, '*' emphasis dropped ('_' is kept: slugs keep it, as in sys_enter_openat)."""
    text = LINK.sub(lambda m: m.group(1), raw)
    parts = CODE_SPAN.split(text)  # text, fence, code, text, fence, code, ..., text
    return ''.join(p.replace('*', '') if i % 3 == 0 else p.strip() if i % 3 == 2 else ''
                   for i, p in enumerate(parts))


def slug(text):
    out = []
    for ch in heading_text(text).lower():
        cat = unicodedata.category(ch)
        if ch == ' ':
            out.append('-')
        elif ch in '-_' or cat[0] in 'LN' or cat[0] == 'M':
            out.append(ch)
    return ''.join(out)


def anchors(path):
    seen = {}
    result = set()
    with open(path, encoding='utf-8') as f:
        for _, line in prose_lines(f.read()):
            m = HEADING.match(line)
            if not m:
                continue
            s = slug(m.group(2))
            n = seen.get(s, 0)
            seen[s] = n + 1
            result.add(s if n == 0 else f'{s}-{n}')
    return result


def links(text):
    for n, line in prose_lines(text):
        m = REF_DEF.match(line)
        if m:
            yield n, m.group(1)
            continue
        for m in LINK.finditer(CODE_SPAN.sub(lambda c: ' ' * len(c.group(0)), line)):
            yield n, m.group(2)


def check(root, md):
    errors = []
    path = os.path.join(root, md)
    with open(path, encoding='utf-8') as f:
        text = f.read()
    cache = {}
    for n, target in links(text):
        if not target or EXTERNAL.match(target):
            continue
        file_part, _, anchor = target.partition('#')
        dest = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
        where = f'{md}:{n}: link {target!r}'
        if not os.path.exists(dest):
            errors.append(f'{where}: {os.path.relpath(dest, root)} does not exist')
            continue
        if not anchor:
            continue
        if not dest.endswith('.md') or os.path.isdir(dest):
            errors.append(f'{where}: an anchor into a file that is not Markdown')
            continue
        if dest not in cache:
            cache[dest] = anchors(dest)
        if anchor not in cache[dest]:
            errors.append(f'{where}: no heading of {os.path.relpath(dest, root)} has the slug {anchor!r}')
    return errors


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip().split('\n')[2].strip(), file=sys.stderr)
        return 2
    root = argv[1]
    errors = [e for md in argv[2:] for e in check(root, md)]
    for e in errors:
        print(e)
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
