#!/usr/bin/perl
# dnswarden-scan on a capture gives the live module's verdicts: a traffic
# mix (worms, an IP-literal scanner, a PTR flood, a spam relay, benign PCs)
# from distinct 127.x sources goes through a real Unbound with the module
# while tcpdump captures it on lo; then dnswarden-scan runs the same engine
# over the capture with the same YAML, and must name the same
# (event, client, detector) set, with every client's queries counted.
use strict;
use warnings;
use lib 't/lib';
use DWTest;
use Test::More;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep);

my $tcpdump = (grep { -x } map { "$_/tcpdump" } qw(/usr/bin /usr/sbin /bin /sbin))[0];
ok($tcpdump, 'tcpdump is installed (tools/install-deps)') or BAIL_OUT('no tcpdump');

my $yaml = <<'EOF2';
mode: observe
enforcement: rpz
detectors:
  mx_worm:         { threshold: 20, window: 10m, action: sinkhole, duration: 1h }
  spam_relay:      { threshold: 20, window: 10m, action: nxdomain, duration: 1h }
  mx_keyword_scan: { threshold: 20, window: 1h, action: nxdomain, duration: 1h }
  ip_literal:      { threshold: 20, window: 1h, action: nxdomain, duration: 1h }
  ptr_flood:       { threshold: 100, window: 1m, action: drop, duration: 10m }
  ptr_forward_ip:  { threshold: 10, window: 10m, action: log }
  signature_names: { threshold: 1, window: 1h, action: log }
EOF2

# Unbound logs every query and reply too: the scanner's Unbound reader
# must find the same verdicts in that log
my $w = DWTest->new(yaml => $yaml, extra_conf => "log-queries: yes\nlog-replies: yes\n");
$w->start;
my $port = $w->port;
my $pcap = $w->dir . '/live.pcap';

# the capture: only the resolver's port, packets written as they come (-U)
my $tpid = open(my $terr, '-|');
die "fork: $!" unless defined $tpid;
END { local $?; kill 'INT', $tpid if $tpid && kill(0, $tpid) }    # also when the test dies
if ($tpid == 0) {
	open(STDERR, '>&', \*STDOUT) or die;
	exec($tcpdump, '-i', 'lo', '-n', '-U', '-s', '0', '-w', $pcap,
		"udp port $port or tcp port $port") or exit 127;
}
my $listening = 0;
{
	local $SIG{ALRM} = sub { die "tcpdump did not start\n" };
	alarm 20;
	while (my $l = <$terr>) { if ($l =~ /listening on/) { $listening = 1; last } }
	alarm 0;
}
ok($listening, 'tcpdump listens on lo');

# wait_for(SECS, CODE): poll CODE until it returns true (then true) or
# SECS pass (then false)
sub wait_for {
	my ($secs, $code) = @_;
	my $deadline = time + $secs;
	while (1) {
		return 1 if $code->();
		return 0 if time > $deadline;
		sleep 0.1;
	}
}

# The number of complete packet records in a pcap file being written.
sub pcap_packets {
	my ($file) = @_;
	open(my $fh, '<:raw', $file) or return 0;
	local $/;
	my $d = <$fh> // '';
	return 0 if length($d) < 24;
	my $le = substr($d, 0, 4) eq "\xd4\xc3\xb2\xa1" || substr($d, 0, 4) eq "\x4d\x3c\xb2\xa1";
	my ($off, $n) = (24, 0);
	while ($off + 16 <= length($d)) {
		my $incl = unpack($le ? 'V' : 'N', substr($d, $off + 8, 4));
		last if $off + 16 + $incl > length($d);
		$off += 16 + $incl;
		$n++;
	}
	return $n;
}

my @plays = (
	[sobig              => '127.165.16.1',  60],
	[mydoom             => '127.165.16.2',  80],
	[ip_literal_scanner => '127.165.16.4',  40],
	[spam_relay         => '127.165.16.5',  80],
	[ptr_flood          => '127.165.16.6',  150],
	[ptr_forward_ip     => '127.165.16.7',  40],
	[benign_pc          => '127.165.16.10', 300],
	[nat_gateway        => '127.165.16.11', 400],
);
for my $p (@plays) {
	my ($scen, $src, $n) = @$p;
	my $out = $w->dwsim('-S', $src, '-n', $n, '--seed', 11, $scen);
	like($out, qr/scenario=$scen sent=$n answered=$n /, "$scen from $src: all $n queries answered");
}
my $verdict = qr/dnswarden: event=(would_block|verdict) client=(\S+) detector=(\S+) /;
my $nq = 0;
$nq += $_->[2] for @plays;

# Every answer is back, but three writers may still lag behind (under a load
# of 15-20 each did, for more than a fixed second and a half): the module's
# thread logging the verdicts the workers queued, tcpdump writing the last
# packets, and the workers writing their log-replies lines (after the reply
# is sent). Wait for each of those events, not for a time.
# 1. the verdicts: the workers count each verdict as they queue it
#    (stats_noreset), the module's thread logs it
my %stat;
wait_for(60, sub {
	my ($st, $o) = $w->ctl('stats_noreset');
	%stat = map { /^(\S+?)=(\d+)$/ ? ($1, $2) : () } split /\n/, $o;
	return ($stat{'queries.total'} // 0) >= $nq;
}) or diag("stats_noreset: the module counted " . ($stat{'queries.total'} // 'no') . " of $nq queries");
my %decided = map { /^verdicts\.(\S+)$/ && $stat{$_} ? ($1, $stat{$_}) : () } keys %stat;
my %logged;
ok(wait_for(60, sub {
	%logged = ();
	for ($w->log_grep($verdict)) { /$verdict/ and $logged{$3}++ }
	return !grep { ($logged{$_} // 0) < $decided{$_} } keys %decided;
}), 'the module\'s thread logged every verdict the workers counted');
is_deeply(\%logged, \%decided, 'one log line per counted verdict, by detector');
is($stat{'verdicts.dropped'}, 0, 'no verdict dropped');
# 2. the capture: a query and its answer per query (a retry adds more)
ok(wait_for(60, sub { pcap_packets($pcap) >= 2 * $nq }),
	"tcpdump wrote all " . 2 * $nq . " packets") or diag('packets in the capture: ' . pcap_packets($pcap));
# 3. Unbound's log-replies lines ("info: CLIENT NAME TYPE CLASS RCODE ...")
my $reply = qr/ info: 127\.165\.16\.\d+ \S+ \S+ IN [A-Z]+ \d/;
ok(wait_for(60, sub { $w->log_grep($reply) >= $nq }), "Unbound logged all $nq replies")
	or diag('reply lines: ' . scalar($w->log_grep($reply)));
kill 'INT', $tpid;
close $terr;
waitpid($tpid, 0);

my %live;
for ($w->log_grep($verdict)) { /$verdict/ and $live{"$1 $2 $3"}++ }
ok(scalar(keys %live) >= 8, 'the live module gave its verdicts (' . scalar(keys %live) . ')')
	or diag(join("\n", sort keys %live));
ok($live{'would_block 127.165.16.1 mx_worm'} && $live{'would_block 127.165.16.6 ptr_flood'},
	'live: the worm and the PTR flood among them');

# the scanner over the capture, with the same YAML
my $scan = "$DWTest::BUILDDIR/tools/dnswarden-scan";
my $out = `"$scan" -c "${\ $w->yaml}" -s 127.0.0.1 -p $port "$pcap" 2>&1`;
my $st = $? >> 8;
is($st, 1, 'dnswarden-scan exits 1: verdicts') or diag($out);
my %off;
for (split /\n/, $out) { /^$verdict/ and $off{"$1 $2 $3"}++ }
is_deeply([sort keys %off], [sort keys %live], 'the same (event, client, detector) set as the live module')
	or diag("live:\n" . join("\n", sort keys %live) . "\nscan:\n$out");
is_deeply([grep { $off{$_} != 1 } keys %off], [], 'one verdict per client and detector, as live');

# the summary: every client with all its queries, answered
my ($sum) = $out =~ /^(summary: .*)$/m;
like($sum, qr/ format=pcap /, 'summary: the format was recognised');
like($sum, qr/ clients=8 /, 'summary: eight clients') or diag($sum);
like($sum, qr/ unanswered=0 /, 'summary: every query paired with its answer');
for my $p (@plays) {
	my ($scen, $src, $n) = @$p;
	like($out, qr/^client=\Q$src\E queries=$n /m, "summary: $src ($scen) asked $n queries");
}
like($out, qr/^client=127\.165\.16\.10 .* verdicts=-$/m, 'summary: the benign PC has no verdict');
like($out, qr/^client=127\.165\.16\.6 .* ptr=150 .*verdicts=ptr_flood:1$/m,
	'summary: the PTR flood client with its counted PTRs and its verdict');

# the line reads like the live one, times from the capture
my ($l1) = $w->log_grep(qr/client=127\.165\.16\.1 detector=mx_worm /);
my ($o1) = $out =~ /^(dnswarden: event=would_block client=127\.165\.16\.1 detector=mx_worm .*)$/m;
my $strip = sub { my $s = shift // ''; $s =~ s/^.*?(dnswarden: )/$1/; $s =~ s/ first_seen=.*//; $s };
is($strip->($o1), $strip->($l1), 'the verdict line reads like the live one (up to its times)');

# the same from Unbound's own log-queries / log-replies lines
my $ulog = `"$scan" -c "${\ $w->yaml}" -f unbound "${\ $w->logfile}" 2>&1`;
is($? >> 8, 1, 'dnswarden-scan on the Unbound log exits 1: verdicts') or diag($ulog);
my %ub;
for (split /\n/, $ulog) { /^$verdict/ and $ub{"$1 $2 $3"}++ }
is_deeply([sort keys %ub], [sort keys %live], 'the Unbound log gives the same (event, client, detector) set')
	or diag($ulog);
like($ulog, qr/^summary: .* format=unbound .* clients=8 /m, 'the Unbound log: eight clients');
for my $p (@plays) {
	my ($scen, $src, $n) = @$p;
	like($ulog, qr/^client=\Q$src\E queries=$n /m, "the Unbound log: $src ($scen) asked $n queries");
}
like($ulog, qr/ unanswered=0 answers_without_query=0 /, 'the Unbound log: every query line paired with its reply line');

# without -s and -p nothing counts: the resolver is on a test port
my $none = `"$scan" -q -c "${\ $w->yaml}" "$pcap" 2>&1`;
is($? >> 8, 0, 'on port 53 (the default) the capture holds no client query: exit 0');
like($none, qr/ queries=0 /, 'summary: no queries on port 53');

$w->stop;
is_deeply([$w->leftover_pids], [], 'no process of this test left running');
ok(!kill(0, $tpid), 'tcpdump stopped');
done_testing;
