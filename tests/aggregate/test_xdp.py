"""XDP end to end (root), in a network namespace each test makes, on its own loopback
(nothing leaves the machine): net/packets as shipped counts ping's echo requests and
replies, UDP datagrams and a TCP connection by protocol; a packet event that is sent
carries no task keys; killing ./example with SIGKILL still detaches the program.

On lo a packet is received once per direction: an echo request and its reply are two
received packets, so `ping -c 5` makes exactly 10 icmp packets, and N datagrams to a
bound socket exactly N udp ones."""
import signal
import subprocess

from conftest import EXAMPLE, HANG_TIMEOUT, aggregate_rows, read_lines, validator

PINGS = 5
DATAGRAMS = 25
ROOT_GEN = EXAMPLE.parent / 'build' / 'gen'

UDP = f'''
import socket
rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rx.bind(("127.0.0.1", 0))
tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range({DATAGRAMS}):
    tx.sendto(b"x" * 100, rx.getsockname())
for i in range({DATAGRAMS}):
    rx.recv(200)
print(rx.getsockname()[1])
'''
TCP = '''
import socket
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen()
c = socket.create_connection(srv.getsockname())
s, _ = srv.accept()
c.sendall(b"hello")
assert s.recv(5) == b"hello"
c.close(); s.close(); srv.close()
'''


def count_packets(netns, tmp_path, *work):
    """Runs `work` in the namespace while ./example counts net/packets on its lo;
    returns the exit snapshot as {protocol: (packets, bytes)}."""
    out = tmp_path / 'packets.ndjson'
    proc = subprocess.Popen(netns.cmd(EXAMPLE, '-e', 'net/packets', '--iface', 'lo', '-o', out),
                            stderr=subprocess.PIPE, text=True)
    try:
        netns.wait_xdp(True, proc)
        netns.run(*work)
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=HANG_TIMEOUT)
    assert proc.returncode == 0, err
    rows = aggregate_rows(read_lines(out, validator(ROOT_GEN)), 'packets_by_proto')
    return {r['key']['proto']: (r['count'], r['sum']['len']) for r in rows}


def test_ping_counts_its_requests_and_replies_as_icmp(netns, tmp_path):
    counts = count_packets(netns, tmp_path, 'ping', '-c', PINGS, '-i', '0.2', '-q', '127.0.0.1')
    # 56 data bytes + 8 ICMP + 20 IP + 14 Ethernet per packet.
    assert counts == {'icmp': (2 * PINGS, 2 * PINGS * 98)}


def test_udp_datagrams_count_as_udp(netns, tmp_path):
    counts = count_packets(netns, tmp_path, 'python3', '-c', UDP)
    assert counts == {'udp': (DATAGRAMS, DATAGRAMS * (100 + 8 + 20 + 14))}


def test_a_tcp_connection_counts_as_tcp(netns, tmp_path):
    counts = count_packets(netns, tmp_path, 'python3', '-c', TCP)
    assert list(counts) == ['tcp']
    assert counts['tcp'][0] >= 4  # SYN, SYN-ACK, ACK, the data, then the close


def test_a_sent_packet_event_has_no_task_keys(agg_build, netns, tmp_path):
    out = tmp_path / 'seen.ndjson'
    proc = subprocess.Popen(netns.cmd(agg_build / 'example', '-e', 'net/pkt_seen', '-o', out),
                            stderr=subprocess.PIPE, text=True)
    try:
        netns.wait_xdp(True, proc)
        port = int(netns.run('python3', '-c', UDP).stdout)
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=HANG_TIMEOUT)
    assert proc.returncode == 0, err
    lines = read_lines(out, validator(agg_build / 'gen'))
    events = [line for line in lines if 'event_id' in line]
    assert len(events) == DATAGRAMS
    for ev in events:
        assert list(ev) == ['event_id', 'event_type', 'timestamp_ns', 'payload']
        assert ev['payload'] == {'proto': 'udp', 'len': 142, 'saddr': '127.0.0.1', 'daddr': '127.0.0.1',
                                 'sport': ev['payload']['sport'], 'dport': port, 'l4': 17}
    (row,) = aggregate_rows(lines, 'bytes_by_source')
    assert (row['key'], row['count'], row['sum']) == ({'saddr': '127.0.0.1', 'proto': 'udp'}, DATAGRAMS,
                                                      {'len': 142 * DATAGRAMS})
    assert row['hist']['buckets'] == [{'ge': 128, 'lt': 256, 'count': DATAGRAMS}]


def test_sigkill_still_detaches(netns):
    proc = subprocess.Popen(netns.cmd(EXAMPLE, '-e', 'net/packets', '--iface', 'lo', '-o', '/dev/null'),
                            stderr=subprocess.DEVNULL)
    netns.wait_xdp(True, proc)
    proc.kill()
    proc.wait(timeout=HANG_TIMEOUT)
    assert proc.returncode == -signal.SIGKILL
    netns.wait_xdp(False)


def test_iface_that_does_not_exist_is_reported(netns):
    proc = netns.run(EXAMPLE, '-e', 'net/packets', '--iface', 'nosuch0', '--strict', '-d', '1', check=False)
    assert proc.returncode == 1
    assert 'no network interface nosuch0 here' in proc.stderr
