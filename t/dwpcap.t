#!/usr/bin/perl
# dwpcap.t — the offline border-capture check (tools/dwpcap).
#
# The test makes its own captures: pcap files written here with core pack(),
# holding real DNS queries (Net::DNS wire format) in IPv4/IPv6, UDP/TCP and
# every supported link type. No network traffic, no root, no tcpdump.
#
#   1. direct queries from a client to a listed and to an unlisted loopback
#      address: exactly the unlisted one is reported;
#   2. the paper's Table II (Ichise et al.): 8.8.8.8 not listed -> flagged;
#      8.8.4.4 a listed static resolver -> passes; 192.26.92.31 an
#      authoritative server learned from resolution (glue) -> passes;
#   3. aggregation, sorting, case folding, qtype names; --resolver;
#   4. link types (Ethernet + VLAN, Linux cooked v1/v2, raw, BSD loopback),
#      IPv6 with an extension header, TCP with two pipelined queries;
#   5. whitelist inputs: dump_whitelist lines, --json, state lines, plain
#      addresses and prefixes, the control socket (-s, protocol DWCTL1);
#   6. robustness: malformed and random packets, truncated file, bad input
#      and usage errors with exit status 2.
#
# The binary: $DW_BUILDDIR/tools/dwpcap, else <dir of this file>/../tools/dwpcap.
use strict;
use warnings;
use Test::More;
use File::Basename qw(dirname);
use File::Spec;
use File::Temp qw(tempdir);
use IO::Socket::UNIX;
use POSIX qw(_exit WNOHANG);
use Socket qw(inet_aton inet_pton AF_INET6 SOCK_STREAM);
use Net::DNS;

plan skip_all => 'built without libpcap (configure --without-pcap): no tools/dwpcap'
	if ($ENV{DW_WITH_PCAP} // 'yes') eq 'no';
my $builddir = $ENV{DW_BUILDDIR} // File::Spec->catdir(dirname(File::Spec->rel2abs(__FILE__)), '..');
my $dwpcap = "$builddir/tools/dwpcap";
ok(-x $dwpcap, "dwpcap binary at $dwpcap") or BAIL_OUT("no dwpcap binary at $dwpcap (set DW_BUILDDIR)");
my $tmp = tempdir('dwpcap-t-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my %children;
END {
	local $?;
	for my $pid (keys %children) { kill 'TERM', $pid; waitpid($pid, 0) }
}

# ---------------------------------------------------------------------------
# Building packets

use constant { LINK_NULL => 0, LINK_EN10MB => 1, LINK_RAW => 101, LINK_SLL => 113, LINK_SLL2 => 276 };

sub csum {
	my ($data) = @_;
	$data .= "\0" if length($data) % 2;
	my $s = 0;
	$s += $_ for unpack('n*', $data);
	$s = ($s & 0xffff) + ($s >> 16) while $s >> 16;
	return ~$s & 0xffff;
}

sub dns_query {
	my ($name, $type, %o) = @_;
	my $p = Net::DNS::Packet->new($name, $type // 'A');
	$p->header->id($o{id} // 4242);
	$p->header->rd(1);
	return $p->data;
}

sub is6 { $_[0] =~ /:/ }

sub ip_packet {    # (src, dst, proto, payload) -> IPv4 or IPv6 packet
	my ($src, $dst, $proto, $payload, %o) = @_;
	if (is6($src)) {
		my $nh = $proto;
		if ($o{hbh}) {    # a hop-by-hop options header (PadN)
			$payload = pack('CCCCN', $proto, 0, 1, 4, 0) . $payload;
			$nh = 0;
		}
		return pack('NnCC', 0x60000000, length($payload), $nh, 64)
		    . inet_pton(AF_INET6, $src) . inet_pton(AF_INET6, $dst) . $payload;
	}
	my $frag = $o{frag} // 0;
	my $h = pack('CCnnnCCna4a4', 0x45, 0, 20 + length($payload), 1, $frag, 64, $proto, 0,
		inet_aton($src), inet_aton($dst));
	substr($h, 10, 2) = pack('n', csum($h));
	return $h . $payload;
}

sub udp {
	my ($src, $dst, $dns, %o) = @_;
	my $u = pack('nnnn', $o{sport} // 33333, $o{dport} // 53, 8 + length($dns), 0) . $dns;
	return ip_packet($src, $dst, 17, $u, %o);
}

sub tcp {
	my ($src, $dst, @msgs) = @_;
	my $data = join('', map { pack('n', length($_)) . $_ } @msgs);
	my $t = pack('nnNNCCnnn', 44444, 53, 1000, 1, 5 << 4, 0x18, 65535, 0, 0) . $data;
	return ip_packet($src, $dst, 6, $t);
}

sub frame {    # link-layer header for one IP packet
	my ($link, $ip, %o) = @_;
	my $v6 = (ord($ip) >> 4) == 6;
	if ($link == LINK_EN10MB) {
		my $et = pack('n', $v6 ? 0x86dd : 0x0800);
		my $vlan = $o{vlan} ? pack('nn', 0x8100, $o{vlan}) : '';
		return "\x02\0\0\0\0\x01" . "\x02\0\0\0\0\x02" . $vlan . $et . $ip;
	}
	return pack('nnna8n', 0, 772, 0, '', $v6 ? 0x86dd : 0x0800) . $ip if $link == LINK_SLL;
	return pack('nnNnCCa8', $v6 ? 0x86dd : 0x0800, 0, 1, 772, 0, 0, '') . $ip if $link == LINK_SLL2;
	return pack('V', $v6 ? 10 : 2) . $ip if $link == LINK_NULL;
	return $ip;
}

my $nfile = 0;
sub pcap {    # (link, frames...) -> path of a new pcap file
	my ($link, @frames) = @_;
	my $path = "$tmp/cap" . $nfile++ . '.pcap';
	open(my $fh, '>:raw', $path) or die "$path: $!";
	print $fh pack('LSSlLLL', 0xa1b2c3d4, 2, 4, 0, 0, 262144, $link);
	my $t = 1700000000;
	for my $f (@frames) {
		print $fh pack('LLLL', $t++, 0, length($f), length($f)), $f;
	}
	close $fh or die;
	return $path;
}

sub wlfile {
	my ($text) = @_;
	my $path = "$tmp/wl" . $nfile++ . '.txt';
	open(my $fh, '>', $path) or die;
	print $fh $text;
	close $fh;
	return $path;
}

# Run dwpcap; returns (exit status, stdout, stderr).
sub run {
	my (@args) = @_;
	my $out = "$tmp/out", my $err = "$tmp/err";
	my $pid = fork() // die;
	if ($pid == 0) {
		open(STDOUT, '>', $out) or _exit(127);
		open(STDERR, '>', $err) or _exit(127);
		exec($dwpcap, @args) or _exit(127);
	}
	waitpid($pid, 0);
	my $st = $? >> 8;
	$st = 128 + ($? & 127) if $? & 127;
	local $/;
	open(my $o, '<', $out) or die;
	my $so = <$o> // '';
	open(my $e, '<', $err) or die;
	my $se = <$e> // '';
	return ($st, $so, $se);
}

# A dump_whitelist file in dnswarden's format (see module/engine/whitelist.h).
sub dump_line {
	my ($addr, %o) = @_;
	return "addr=$addr src=" . ($o{src} // 'query,glue') . ' ns=' . ($o{ns} // '-')
	    . ' zones=' . ($o{zones} // '.') . ' first_seen=' . ($o{first} // '2023-11-14T22:13:20Z')
	    . ' last_seen=' . ($o{last} // '2023-11-14T22:13:20Z') . ' expires='
	    . ($o{expires} // '2023-11-15T22:13:20Z') . "\n";
}

# ---------------------------------------------------------------------------
# 1. a listed and an unlisted loopback server

{
	my $client = '127.0.57.100';
	my $cap = pcap(LINK_EN10MB,
		map { frame(LINK_EN10MB, $_) }
		    udp($client, '127.0.57.1', dns_query('www.campus.test', 'A')),
		    udp($client, '127.0.57.99', dns_query('www.campus.test', 'A')),
		    udp($client, '127.0.57.1', dns_query('mail.campus.test', 'MX')),
		    udp($client, '127.0.57.99', dns_query('www.campus.test', 'A', id => 7)));
	my $wl = wlfile(dump_line('127.0.57.1', ns => 'ns1.campus.test.', zones => 'campus.test.'));
	my ($st, $out, $err) = run('-w', $wl, $cap);
	is($st, 1, 'listed + unlisted loopback: exit 1 (something flagged)');
	is($out, "client=127.0.57.100 server=127.0.57.99 qname=www.campus.test. qtype=A count=2\n",
		'exactly the unlisted server is reported, aggregated');
	like($err, qr/packets=4 queries=4 .*listed=2 flagged=2 rows=1/, "summary: $err");
	($st, $out) = run('-q', '-w', wlfile("127.0.57.1\n127.0.57.99\n"), '-r', $cap);
	is($st, 0, 'both listed (plain address file): exit 0');
	is($out, '', '... and nothing reported');
}

# ---------------------------------------------------------------------------
# 2. the paper's Table II

{
	my $client = '172.16.100.62';
	my $cap = pcap(LINK_EN10MB,
		map { frame(LINK_EN10MB, $_) }
		    udp($client, '8.8.8.8', dns_query('www.google.com', 'A')),
		    udp($client, '8.8.4.4', dns_query('www.google.com', 'A')),
		    udp($client, '192.26.92.31', dns_query('www.verisign.net', 'A')));
	my $wl = wlfile(dump_line('8.8.4.4', src => 'static', zones => '-', first => '-', last => '-',
			expires => 'never')
		    . dump_line('192.26.92.31', src => 'glue', ns => 'c2.nstld.net.', zones => 'verisign.net.'));
	my ($st, $out) = run('-q', '-w', $wl, $cap);
	is($out, "client=172.16.100.62 server=8.8.8.8 qname=www.google.com. qtype=A count=1\n",
		'Table II: 8.8.8.8 (not listed) flagged; 8.8.4.4 (static) and 192.26.92.31 (glue) pass');
	is($st, 1, 'Table II: exit 1');
}

# ---------------------------------------------------------------------------
# 3. aggregation, order, case, qtypes, --resolver

{
	my @p = (
		udp('10.0.0.2', '203.0.113.9', dns_query('B.Example', 'TXT')),
		udp('10.0.0.2', '203.0.113.9', dns_query('b.example', 'TXT')),
		udp('10.0.0.2', '203.0.113.9', dns_query('b.example', 'TYPE999')),
		udp('10.0.0.1', '203.0.113.9', dns_query('a.example', 'AAAA')),
		udp('10.0.0.1', '198.51.100.1', dns_query('a.example', 'MX')),
		udp('10.0.0.1', '10.0.0.53', dns_query('via.resolver', 'A')),      # to the resolver
		udp('10.0.0.53', '203.0.113.77', dns_query('iterating', 'A')),     # the resolver itself
		udp('203.0.113.9', '10.0.0.2', dns_query('x.example', 'A'), sport => 53, dport => 33333),
		udp('10.0.0.1', '203.0.113.5', dns_query('weird\.label\032x.example', 'A')),
	);
	my $resp = Net::DNS::Packet->new('r.example', 'A');
	$resp->header->qr(1);
	push @p, udp('10.0.0.1', '203.0.113.9', $resp->data);    # a response to port 53: no query
	my $cap = pcap(LINK_RAW, @p);
	my ($st, $out, $err) = run('--resolver', '10.0.0.53', '-w', wlfile(''), $cap);
	is($out, join('', map { "$_\n" }
		'client=10.0.0.1 server=198.51.100.1 qname=a.example. qtype=MX count=1',
		'client=10.0.0.1 server=203.0.113.5 qname=weird\.label\032x.example. qtype=A count=1',
		'client=10.0.0.1 server=203.0.113.9 qname=a.example. qtype=AAAA count=1',
		'client=10.0.0.2 server=203.0.113.9 qname=b.example. qtype=TXT count=2',
		'client=10.0.0.2 server=203.0.113.9 qname=b.example. qtype=TYPE999 count=1'),
		'sorted rows; case folded; odd bytes escaped; resolver traffic and responses ignored');
	like($err, qr/to_resolver=1 from_resolver=1 listed=0 flagged=6/, 'summary counts resolver traffic');
	($st, $out) = run('-q', '--resolver', '10.0.0.0/24', '-w', wlfile("198.51.100.0/24\n203.0.113.0/25\n"), $cap);
	is($st, 0, 'prefixes in the whitelist and --resolver: nothing flagged');
}

# ---------------------------------------------------------------------------
# 4. link types, IPv6, TCP

{
	my $q = dns_query('t.example', 'A');
	my @ip = (
		udp('192.0.2.10', '203.0.113.1', $q),
		udp('2001:db8::10', '2001:db8::53', $q),
		udp('2001:db8::10', '2001:db8::54', $q, hbh => 1),
		udp('::ffff:192.0.2.10', '::ffff:203.0.113.2', $q),
		tcp('192.0.2.10', '203.0.113.3', dns_query('one.example', 'A'), dns_query('two.example', 'NS')),
	);
	my $want = join('', map { "$_\n" }
		'client=192.0.2.10 server=203.0.113.1 qname=t.example. qtype=A count=1',
		'client=192.0.2.10 server=203.0.113.2 qname=t.example. qtype=A count=1',
		'client=192.0.2.10 server=203.0.113.3 qname=one.example. qtype=A count=1',
		'client=192.0.2.10 server=203.0.113.3 qname=two.example. qtype=NS count=1',
		'client=2001:db8::10 server=2001:db8::53 qname=t.example. qtype=A count=1',
		'client=2001:db8::10 server=2001:db8::54 qname=t.example. qtype=A count=1');
	for my $l ([LINK_EN10MB, 'Ethernet'], [LINK_SLL, 'Linux cooked'], [LINK_SLL2, 'Linux cooked v2'],
		[LINK_RAW, 'raw IP'], [LINK_NULL, 'BSD loopback'])
	{
		my $cap = pcap($l->[0], map { frame($l->[0], $_) } @ip);
		my ($st, $out, $err) = run('-w', wlfile("# nothing listed\n"), $cap);
		is($out, $want, "$l->[1]: IPv4, IPv6 (+ext header, v4-mapped), TCP pipelined") or diag $err;
	}
	my $cap = pcap(LINK_EN10MB, map { frame(LINK_EN10MB, $_, vlan => 42) } @ip);
	my ($st, $out) = run('-q', '-w', wlfile(''), $cap);
	is($out, $want, 'Ethernet with a VLAN tag');
	($st, $out) = run('-q', '-w', wlfile("2001:db8::/64\n203.0.113.0/24\n"), $cap);
	is($st, 0, 'IPv6 and IPv4 prefixes listed: all pass');
}

# ---------------------------------------------------------------------------
# 5. whitelist inputs

my $cap5 = pcap(LINK_RAW,
	udp('10.1.1.1', '127.0.57.1', dns_query('a.test', 'A')),
	udp('10.1.1.1', '127.0.57.2', dns_query('a.test', 'A')),
	udp('10.1.1.1', '127.0.57.3', dns_query('a.test', 'A')));
my $only3 = "client=10.1.1.1 server=127.0.57.3 qname=a.test. qtype=A count=1\n";
{
	my $json = qq({"entries":[\n{"addr":"127.0.57.1","static":false,"src":["query"],"ns":[],)
	    . qq("zones":[{"zone":"test.","expires":"2023-11-15T22:13:20Z"}],"first_seen":null,)
	    . qq("last_seen":null,"expires":null},\n{"addr":"127.0.57.2","static":true}\n],"count":2}\n);
	my ($st, $out) = run('-q', '-w', wlfile($json), $cap5);
	is($out, $only3, 'dump_whitelist --json');
	my $state = "# dnswarden state v1 saved=1\nblock 10.0.0.1/32 nxdomain manual 1 1 0 1 0\n"
	    . "wl addr 127.0.57.1 first=1 last=2 src=query ns=- zones=test.\@3\n"
	    . "wl ns ns1.test. last=2 zones=test.\@3\nexempt 10.9.9.9/32\n"
	    . "wl addr 127.0.57.2 first=1 last=2 src=glue ns=ns1.test. zones=test.\@3\n";
	($st, $out) = run('-q', '-w', wlfile($state), $cap5);
	is($out, $only3, 'state-file lines (wl addr …), other units ignored');
	($st, $out) = run('-q', '-w', wlfile(dump_line('127.0.57.1')), '-w',
		wlfile("addr=127.0.57.2 known=yes src=query\naddr=127.0.57.3 known=no\n"), $cap5);
	is($out, $only3, 'two -w files; check_ns lines (known=no skipped)');

	# the control socket
	my $path = "$tmp/ctl.sock";
	my $srv = IO::Socket::UNIX->new(Type => SOCK_STREAM, Local => $path, Listen => 1) or die "$path: $!";
	my $pid = fork() // die;
	if ($pid == 0) {
		my $c = $srv->accept or _exit(1);
		my $cmd = <$c> // '';
		print $c ($cmd eq "DWCTL1 dump_whitelist\n" ? "ok\n" . dump_line('127.0.57.1') . dump_line('127.0.57.2')
			: "error 2 unknown request\n");
		close $c;
		_exit(0);
	}
	$children{$pid} = 1;
	close $srv;
	($st, $out) = run('-q', '-s', $path, $cap5);
	is($out, $only3, '-s SOCKET: dump_whitelist over the control socket');
	waitpid($pid, 0);
	delete $children{$pid};

	# a refusing control socket
	unlink $path;
	$srv = IO::Socket::UNIX->new(Type => SOCK_STREAM, Local => $path, Listen => 1) or die "$path: $!";
	$pid = fork() // die;
	if ($pid == 0) {
		my $c = $srv->accept or _exit(1);
		my $cmd = <$c>;
		print $c "error 1 permission denied (uid 1000)\n";
		close $c;
		_exit(0);
	}
	$children{$pid} = 1;
	close $srv;
	my $err;
	($st, $out, $err) = run('-q', '-s', $path, $cap5);
	is($st, 2, '-s SOCKET: an error reply is exit 2');
	like($err, qr/dump_whitelist failed: error 1 permission denied/, "... with the reason: $err");
	waitpid($pid, 0);
	delete $children{$pid};
}

# ---------------------------------------------------------------------------
# 6. robustness and errors

{
	my $q = dns_query('ok.example', 'A');
	my @bad = (
		'',                                                     # empty frame
		"\x45",                                                 # one byte
		pack('C*', 0x45, (0) x 10),                             # short IPv4
		pack('CCn', 0x44, 0, 20) . ("\0" x 16),                 # IHL 4
		pack('CCn', 0x4f, 0, 20) . ("\0" x 16),                 # IHL 15 > length
		substr(udp('10.2.0.1', '10.2.0.2', $q), 0, 30),         # truncated UDP
		udp('10.2.0.1', '10.2.0.2', "\0\1\0\0\0\1"),            # short DNS header
		udp('10.2.0.1', '10.2.0.2', pack('nnnnnn', 1, 0, 1, 0, 0, 0) . "\x40" . ('a' x 64) . "\0\0\1\0\1"),  # label 64
		udp('10.2.0.1', '10.2.0.2', pack('nnnnnn', 1, 0, 1, 0, 0, 0) . "\xc0\x0c\0\1\0\1"),  # pointer
		udp('10.2.0.1', '10.2.0.2', pack('nnnnnn', 1, 0, 1, 0, 0, 0) . ("\x3f" . ('b' x 63)) x 5 . "\0\0\1\0\1"), # > 255
		udp('10.2.0.1', '10.2.0.2', pack('nnnnnn', 1, 0, 0, 0, 0, 0)),   # no question
		udp('10.2.0.1', '10.2.0.2', $q, frag => 100),          # not the first fragment
		tcp('10.2.0.1', '10.2.0.3', "\0\0\0"),                  # TCP junk
		pack('NnCC', 0x60000000, 200, 0, 64) . ("\0" x 32) . "\x11\x30",  # IPv6 ext header past the end
	);
	my $cap = pcap(LINK_RAW, @bad, udp('10.2.0.1', '10.2.0.9', $q));
	my ($st, $out, $err) = run('-w', wlfile(''), $cap);
	is($st, 1, 'malformed packets: no crash, exit 1 (the good query and the broken ones flagged)');
	is($out, join('', map { "$_\n" }
		'client=10.2.0.1 server=10.2.0.2 qname=- qtype=- count=1',
		'client=10.2.0.1 server=10.2.0.2 qname=<malformed> qtype=- count=3',
		'client=10.2.0.1 server=10.2.0.9 qname=ok.example. qtype=A count=1'),
		'malformed questions reported as <malformed>, empty ones as -') or diag $err;
	like($err, qr/malformed=\d+ tcp_skipped=1/, "malformed counted: $err");

	# random bytes in every link type
	srand(57);
	for my $link (LINK_EN10MB, LINK_SLL, LINK_SLL2, LINK_RAW, LINK_NULL) {
		my @r;
		for (1 .. 3000) {
			my $len = int(rand(120));
			my $b = join('', map { chr(int(rand(256))) } 1 .. $len);
			# half of them: a valid header prefix, random rest
			$b = substr(frame($link, udp('10.3.0.1', '10.3.0.2', $q)), 0, int(rand(60))) . $b if rand() < 0.5;
			push @r, $b;
		}
		my ($rst) = run('-q', '-w', wlfile(''), pcap($link, @r));
		ok($rst == 0 || $rst == 1, "3000 random frames, link type $link: exit $rst");
	}

	# a truncated capture file: results up to the cut, a warning
	my $good = pcap(LINK_RAW, map { udp('10.4.0.1', '10.4.0.2', $q) } 1 .. 5);
	open(my $in, '<:raw', $good) or die;
	local $/;
	my $bytes = <$in>;
	close $in;
	my $cut = "$tmp/cut.pcap";
	open(my $o, '>:raw', $cut) or die;
	print $o substr($bytes, 0, length($bytes) - 10);
	close $o;
	($st, $out, $err) = run('-w', wlfile(''), $cut);
	like($out, qr/^client=10\.4\.0\.1 server=10\.4\.0\.2 qname=ok\.example\. qtype=A count=4$/,
		'truncated capture: the complete packets are counted');
	like($err, qr/truncated/i, 'truncated capture: warned');

	# usage and input errors
	($st, undef, $err) = run($good);
	is($st, 2, 'no whitelist: exit 2');
	like($err, qr/no whitelist/, "... says so: $err");
	($st, undef, $err) = run('-w', wlfile("127.0.0.1\nnot-an-address\n"), $good);
	is($st, 2, 'bad whitelist line: exit 2');
	like($err, qr/:2: not a whitelist line/, "... with file and line: $err");
	($st, undef, $err) = run('-w', wlfile(''), "$tmp/missing.pcap");
	is($st, 2, 'missing capture: exit 2');
	($st) = run('-w', "$tmp/missing.txt", $good);
	is($st, 2, 'missing whitelist: exit 2');
	($st) = run('--resolver', 'bogus', '-w', wlfile(''), $good);
	is($st, 2, 'bad --resolver: exit 2');
	($st, undef, $err) = run('--resolver', '10.0.0.53/24', '-w', wlfile(''), $good);
	is($st, 2, 'a prefix with host bits set (as dnswarden refuses it): exit 2');
	($st, undef, $err) = run('-w', wlfile("10.0.0.1/8\n"), $good);
	like($err, qr/:1: not a whitelist line/, "... in a whitelist file too: $err");
	($st) = run('-w', wlfile(''));
	is($st, 2, 'no capture: exit 2');
	($st, undef, $err) = run('-s', "$tmp/no.sock", $good);
	is($st, 2, 'control socket not there: exit 2');
	like($err, qr/cannot connect to \Q$tmp\E\/no\.sock: No such file or directory/,
		"... and says why: $err");
	($st, my $help) = run('-h');
	is($st, 0, '-h: exit 0');
	like($help, qr/usage: dwpcap/, '-h: usage');
}

done_testing();
