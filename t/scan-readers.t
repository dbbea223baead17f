#!/usr/bin/perl
# dnswarden-scan's readers without a resolver: Zeek dns.log (TSV and JSON
# lines), Unbound log lines in their three time stamp forms, pcap pairing
# (rcode from the answer), and hostile input: a truncated capture, garbage
# and overlong lines, bad usage. The records are written here; the engine
# runs with thresholds that make one verdict per test client.
use strict;
use warnings;
use lib 't/lib';
use DWTest;
use Test::More;
use File::Temp qw(tempdir);
use Net::DNS;
use Socket qw(inet_aton);

my $scan = "$DWTest::BUILDDIR/tools/dnswarden-scan";
ok(-x $scan, "dnswarden-scan at $scan") or BAIL_OUT('no dnswarden-scan');
my $tmp = tempdir('scan-readers-XXXXXX', TMPDIR => 1, CLEANUP => 1);

sub wr { my ($f, $t) = @_; open(my $h, '>', "$tmp/$f") or die; binmode $h; print $h $t; close $h; "$tmp/$f" }
sub run {
	my $out = `"$scan" @_ 2>&1`;
	return ($? >> 8, $out);
}
my $yaml = wr('dw.yaml', <<'EOF2');
detectors:
  mx_worm:    { threshold: 10, window: 10m, action: sinkhole }
  ip_literal: { threshold: 10, window: 1h, action: nxdomain }
  ptr_flood:  { threshold: 10, window: 1m, action: drop }
EOF2
my $t0 = 1764650000;

# --- Zeek TSV: an MX worm and a benign client; the fields in Zeek's order
my @fields = qw(ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto trans_id rtt query qclass
	qclass_name qtype qtype_name rcode rcode_name AA TC RD RA Z answers TTLs rejected);
my $zeek = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n"
	. "#fields\t" . join("\t", @fields) . "\n";
for my $i (0 .. 14) {
	$zeek .= join("\t", $t0 + $i . '.25', "C$i", '10.9.0.1', 40000 + $i, '10.9.0.53', 53, 'udp', $i,
		'0.01', "host.example$i.org", 1, 'C_INTERNET', 15, 'MX', 3, 'NXDOMAIN',
		qw(F F T T 0 - - F)) . "\n";
	$zeek .= join("\t", $t0 + $i, "D$i", '10.9.0.2', 40000 + $i, '10.9.0.53', 53, 'udp', $i, '-',
		'www.example.org', 1, 'C_INTERNET', 1, 'A', '-', '-', qw(F F T F 0 - - F)) . "\n";
}
# 15 PTR queries two minutes apart: never 10 in ptr_flood's one-minute window
for my $i (0 .. 14) {
	$zeek .= join("\t", $t0 + 120 * $i, "E$i", '10.9.0.4', 40000 + $i, '10.9.0.53', 53, 'udp', $i, '0.01',
		"$i.0.0.10.in-addr.arpa", 1, 'C_INTERNET', 12, 'PTR', 0, 'NOERROR', qw(F F T T 0 - - F)) . "\n";
}
$zeek .= "not\ta\tzeek\tline\n#close\t2026-12-02-05-00-00\n";
my ($st, $out) = run('-c', $yaml, wr('dns.log', $zeek));
is($st, 1, 'Zeek TSV: exit 1 (a verdict)') or diag($out);
like($out, qr/^dnswarden: event=would_block client=10\.9\.0\.1 detector=mx_worm .*count=10 /m,
	'Zeek TSV: the MX worm, at its tenth MX query');
like($out, qr/first_seen=2025-12-02T04:33:20Z time=2025-12-02T04:33:29Z/, 'Zeek TSV: times from the log');
like($out, qr/^summary: .* format=zeek records=45 queries=45 clients=3 verdicts=1 .*malformed=1 /m,
	'Zeek TSV: summary counts records, clients and the malformed line');
like($out, qr/^client=10\.9\.0\.1 queries=15 a=0 aaaa=0 mx=15 .*nxdomain=15 .*verdicts=mx_worm:1$/m,
	'Zeek TSV: the worm: MX queries, NXDOMAIN answers, its verdict');
like($out, qr/^client=10\.9\.0\.2 queries=15 a=15 .*nxdomain=0 .*verdicts=-$/m,
	'Zeek TSV: the benign client (no answer: rcode unset) has no verdict');
like($out, qr/^client=10\.9\.0\.4 queries=15 .*ptr=15 .*verdicts=-$/m,
	'Zeek TSV: PTR queries spread over 28 minutes of log time: no ptr_flood (virtual time)');
($st, $out) = run('-c', $yaml, '-s', '10.9.0.99', wr('dns2.log', $zeek));
is($st, 0, 'Zeek TSV with another resolver (-s): exit 0');
like($out, qr/ queries=0 .*not_to_resolver=45 /, 'Zeek TSV: queries to other servers do not count');

# --- Zeek JSON lines: an IP-literal scanner, IPv6, ISO time stamps
my $json = '';
for my $i (0 .. 11) {
	$json .= sprintf('{"ts":%d.5,"uid":"C%d","id.orig_h":"2001:db8:1::5","id.orig_p":5353,'
		. '"id.resp_h":"2001:db8::53","id.resp_p":53,"proto":"udp","trans_id":%d,"query":"192.0.2.%d",'
		. '"qclass":1,"qtype":1,"qtype_name":"A","rcode":0,"answers":["192.0.2.%d"],"TTLs":[60.0],'
		. '"rejected":false}' . "\n", $t0 + $i, $i, $i, $i, $i);
}
$json .= '{"ts":"2025-12-02T04:40:00.5Z","id.orig_h":"10.9.0.3","query":"x.example","qtype":28}' . "\n";
$json .= '{"ts":1,"id.orig_h":"10.9.0.3","query":"a\u0000b","qtype":1}' . "\n" . '{"broken": ' . "\n[]\n\n";
($st, $out) = run('-c', $yaml, wr('dns.json', $json));
is($st, 1, 'Zeek JSON: exit 1') or diag($out);
like($out, qr/^dnswarden: event=would_block client=2001:db8:1:: detector=ip_literal .*count=10 /m,
	'Zeek JSON: the IPv6 client (its /64) scanning IPv4 literals');
like($out, qr/^summary: .* format=zeek-json records=14 queries=14 clients=2 .*malformed=2 ignored_lines=1 /m,
	'Zeek JSON: 14 records (an ISO time stamp, a NUL escape), 2 malformed lines, a blank one');

# --- Unbound: epoch, log-time-ascii and syslog forms; queries paired with replies
my $ub = "[$t0] unbound[1:0] info: start of service (unbound 1.17.1).\n";
for my $i (0 .. 11) {
	my $t = $t0 + $i;
	$ub .= "[$t] unbound[1:0] info: 10.9.1.1 $i.2.0.192.in-addr.arpa. PTR IN\n";
	$ub .= "[$t] unbound[1:0] info: 10.9.1.1 $i.2.0.192.in-addr.arpa. PTR IN NXDOMAIN 0.000100 0 90\n";
	$ub .= "Dec 02 04:33:2$i unbound[1:0] query: 10.9.1.2 www.example.com. A IN\n" if $i < 10;
	$ub .= "2025-12-02T04:33:40.123+00:00 host unbound: [1:0] reply: 10.9.1.3 mx.example$i.com. MX IN NOERROR 0.000100 1 90\n";
}
$ub .= "[$t0] unbound[1:0] info: 10.9.1.4 bad..name. A IN\n";
$ub .= "[$t0] unbound[1:0] info: 10.9.1.4 x.example. NOSUCHTYPE IN\n";
$ub .= "[$t0] unbound[1:0] info: 10.9.1.4 - - - FORMERR - - - \n";
$ub .= "\x00\xff garbage \x1b[31m\n" . ('A' x 2_000_000) . "\n";
($st, $out) = run('-c', $yaml, '-f', 'unbound', '--year', '2025', wr('unbound.log', $ub));
is($st, 1, 'Unbound log: exit 1') or diag($out);
like($out, qr/^dnswarden: event=would_block client=10\.9\.1\.1 detector=ptr_flood .*count=10 /m,
	'Unbound log: the PTR flood');
like($out, qr/^dnswarden: event=would_block client=10\.9\.1\.3 detector=mx_worm /m,
	'Unbound log: MX queries from reply lines alone (ISO syslog stamps)');
like($out, qr/^client=10\.9\.1\.1 queries=12 .*ptr=12 .*nxdomain=12 /m,
	'Unbound log: query and reply lines paired (12 queries, rcode from the replies)');
like($out, qr/^client=10\.9\.1\.2 queries=10 a=10 /m, 'Unbound log: log-time-ascii query lines, unanswered');
like($out, qr/^summary: .* unanswered=10 answers_without_query=12 .*malformed=3 ignored_lines=3 /m,
	'Unbound log: 10 unanswered queries, 12 lone replies, 3 malformed lines (bad name, type, overlong), 3 others')
	or diag($out);

# --- pcap: rcode from the answer; a capture cut in the middle of a packet
sub ip_udp {
	my ($src, $dst, $sport, $dport, $payload) = @_;
	my $udp = pack('nnnn', $sport, $dport, 8 + length($payload), 0) . $payload;
	return pack('CCnnnCCn', 0x45, 0, 20 + length($udp), 1, 0, 64, 17, 0) . inet_aton($src) . inet_aton($dst) . $udp;
}
sub pcap_file {
	my @pk = @_;    # [time, bytes]
	my $f = pack('LSSlLLL', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101);    # raw IP
	$f .= pack('LLLL', $_->[0], 0, length($_->[1]), length($_->[1])) . $_->[1] for @pk;
	return $f;
}
my @pk;
for my $i (0 .. 11) {
	my $q = Net::DNS::Packet->new("mx.d$i.net", 'MX');
	$q->header->id(100 + $i);
	my $a = Net::DNS::Packet->new("mx.d$i.net", 'MX');
	$a->header->id(100 + $i);
	$a->header->qr(1);
	$a->header->rcode('NXDOMAIN');
	push @pk, [$t0 + $i, ip_udp('10.9.2.1', '10.9.2.53', 3000 + $i, 53, $q->data)];
	push @pk, [$t0 + $i, ip_udp('10.9.2.53', '10.9.2.1', 53, 3000 + $i, $a->data)];
}
my $cap = pcap_file(@pk);
($st, $out) = run('-c', $yaml, wr('pair.pcap', $cap));
is($st, 1, 'pcap: exit 1') or diag($out);
like($out, qr/^client=10\.9\.2\.1 queries=12 .*mx=12 .*nxdomain=12 .*verdicts=mx_worm:1$/m,
	'pcap: each query paired with its NXDOMAIN answer');
like($out, qr/ unanswered=0 answers_without_query=0 /, 'pcap: nothing unpaired');
($st, $out) = run('-c', $yaml, wr('cut.pcap', substr($cap, 0, length($cap) - 30)));
like($out, qr/results up to here|truncated/i, 'truncated pcap: said so on stderr');
like($out, qr/^summary: .* format=pcap /m, 'truncated pcap: the summary of what was read');
ok($st == 0 || $st == 1, "truncated pcap: exit $st, not a crash");
my $junk = pcap_file(map { [$t0, join('', map { chr(int(rand(256))) } 1 .. 10 + int(rand(80)))] } 1 .. 300);
($st, $out) = run('-c', $yaml, wr('junk.pcap', $junk));
ok($st == 0 || $st == 1, "random packets: exit $st, not a crash") or diag($out);
like($out, qr/^summary: .* packets=300 /m, 'random packets: all 300 read');

# --- usage and input errors: exit 2
($st, $out) = run('-c', $yaml, "$tmp/nonexistent");
is($st, 2, 'a missing file: exit 2');
like($out, qr/nonexistent: No such file/, 'a missing file: the reason');
($st, $out) = run('-c', wr('bad.yaml', "detectors: [\n"), wr('e.log', ''));
is($st, 2, 'a bad YAML: exit 2');
($st, $out) = run('-f', 'xml', "$tmp/e.log");
is($st, 2, 'an unknown format: exit 2');
like($out, qr/-f: want auto, pcap, zeek, zeek-json or unbound/, 'an unknown format: the choices');
($st, $out) = run('-c', $yaml, '-f', 'pcap', wr('not.pcap', "hello\n"));
is($st, 2, 'a text file read as pcap: exit 2');
($st, $out) = run('-c', $yaml, '-s', 'nonsense', "$tmp/e.log");
is($st, 2, 'a bad -s: exit 2');
($st, $out) = run('-c', $yaml, "$tmp/e.log");
is($st, 0, 'an empty log: exit 0');
like($out, qr/^summary: .* records=0 /m, 'an empty log: an empty summary');
done_testing;
