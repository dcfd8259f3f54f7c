"""test_bench_summary.py: bench/RESULTS.md opens with a summary kept by hand, and a full
`make bench` rewrites only what follows its marker line (bench/run.py's SUMMARY_END)."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.normpath(os.path.join(HERE, '..', '..', 'bench'))
sys.path.insert(0, BENCH)
sys.dont_write_bytecode = True  # no __pycache__ in bench/
import run  # noqa: E402


def test_results_md_carries_the_marker_run_py_keeps():
    with open(os.path.join(BENCH, 'RESULTS.md'), encoding='utf-8') as f:
        text = f.read()
    assert text.count(run.SUMMARY_END) == 1
    head = run.kept_summary(os.path.join(BENCH, 'RESULTS.md'))
    assert head.startswith('# Performance\n') and head.endswith(run.SUMMARY_END + '\n\n')
    assert '# make bench results' not in head  # the generated report is below the marker


def test_a_new_report_replaces_only_what_follows_the_marker(tmp_path):
    path = tmp_path / 'RESULTS.md'
    path.write_text(f'# Summary\n\nkept\n\n{run.SUMMARY_END}\n\n# make bench results\n\nold\n')
    assert run.kept_summary(str(path)) == f'# Summary\n\nkept\n\n{run.SUMMARY_END}\n\n'


def test_without_a_marker_or_a_file_nothing_is_kept(tmp_path):
    path = tmp_path / 'RESULTS.md'
    assert run.kept_summary(str(path)) == ''
    path.write_text('# make bench results\n\nold\n')
    assert run.kept_summary(str(path)) == ''
