#!/usr/bin/perl
# dnswarden-control against the real socket of a running Unbound with the
# module: every verb, plain and --json (the JSON parses), usage errors with
# exit status 2, hostile clients that do not stall the thread or the
# resolver, and a peer that is neither root nor in the group.
use strict;
use warnings;
use lib 't/lib';
use DWTest;
use IO::Socket::UNIX;
use JSON::PP;
use Test::More;
use Time::HiRes qw(sleep);

my $yaml = <<'EOF2';
mode: observe
enforcement: rpz
exempt: [127.0.45.25/32]
detectors:
  mx_worm: { threshold: 5, window: 10m, action: sinkhole }
EOF2
my $w = DWTest->new(yaml => $yaml);
$w->start;
is($w->ask('127.0.45.1', 'www.campus.test'), 'NOERROR 192.0.2.80', 'resolver answers');
# one query in flight: show_client's recent.1 is the last query sent (an MX),
# not whichever answer came back last under load
like($w->dwsim('-S', '127.0.45.2', '-w', 1, '-n', 10, '--seed', 3, 'sobig'), qr/answered=10 /, 'a worm client');
$w->wait_log(qr/client=127\.0\.45\.2 detector=mx_worm/);

my ($st, $out, $err);

# every verb, plain and JSON
# stats: since the last reset; stats resets, stats_noreset does not
($st, $out) = $w->ctl('stats_noreset');
like($out, qr/^queries\.total=(\d+)$/m, 'stats_noreset: a total');
my ($total) = $out =~ /^queries\.total=(\d+)$/m;
ok($total >= 11 && $out =~ /^verdicts\.mx_worm=1$/m, "stats_noreset: $total queries, one mx_worm verdict");
($st, $out) = $w->ctl('--json', 'stats');
is(decode_json($out)->{'verdicts.mx_worm'}, 1, 'stats --json: the same, as numbers');
($st, $out) = $w->ctl('stats_noreset');
like($out, qr/^verdicts\.mx_worm=0$/m, 'after stats: counters start again from zero');
like($out, qr/^clients\.tracked=[1-9]\d*$/m, 'gauges are not reset');

my %verbs = (
	status         => [[], qr/^version=\S+\nmode=observe\nbackend=\S+\n/],
	list_suspects  => [[], qr/^client=127\.0\.45\.2 flagged=mx_worm,signature_names blocked=no /m],
	list_blocked   => [[], qr/^$/],
	# recent.N: the newest first; the worm's root-server lookups may be answered last
	show_client    => [['127.0.45.2'], qr/^client=127\.0\.45\.2\n.*^flagged=mx_worm,signature_names\n(?:.*\n)*?mx_600s=\d+\n(?:.*\n)*?recent\.1=\S+\.\n(?:recent\.\d+=\S+\.\n)*?recent\.\d+=\S+victim\.lab\.$/ms],
	list_exempt    => [[], qr/^exempt=127\.0\.45\.25\/32 origin=config$/m],
	metrics        => [[], qr/^# TYPE dnswarden_queries_total counter\ndnswarden_queries_total\{source="resolved"\} \d+$/m],
);
for my $v (sort keys %verbs) {
	my ($args, $re) = @{$verbs{$v}};
	($st, $out, $err) = $w->ctl($v, @$args);
	is($st, 0, "$v: exit 0") or diag $err;
	like($out, $re, "$v: plain output");
	($st, $out, $err) = $w->ctl('--json', $v, @$args);
	my $doc = eval { decode_json($out) };
	ok($st == 0 && ref $doc eq 'HASH', "$v --json: one JSON object") or diag "$st $out $err $@";
}
($st, $out) = $w->ctl('--json', 'show_client', '127.0.45.2');
my $doc = decode_json($out);
is($doc->{client}, '127.0.45.2', 'JSON show_client: client');
ok($doc->{queries} == 10 && $doc->{flagged} eq 'mx_worm,signature_names', 'JSON show_client: numbers are numbers, flags named')
	or diag explain $doc;
($st, $out) = $w->ctl('--json', 'list_suspects');
ok((grep { $_->{client} eq '127.0.45.2' } @{decode_json($out)->{suspects}}), 'JSON list_suspects: the worm is listed');

# metrics: accepted by Prometheus' own checker
{
	my ($mst, $metrics) = $w->ctl('metrics');
	my $file = $w->dir . '/metrics.txt';
	$w->write_file($file, $metrics);
	my $lint = `promtool check metrics < '$file' 2>&1`;
	is($? >> 8, 0, 'metrics: promtool check metrics accepts the exposition') or diag $lint;
	like($metrics, qr/^dnswarden_queries_total\{source="resolved"\} [1-9]\d*$/m, 'metrics: queries counted');
}

# block / show_client / unblock, exempt_add / remove
($st, $out, $err) = $w->ctl('block', '127.0.45.7', '30m', 'nxdomain');
is($st, 0, 'block: exit 0') or diag $err;
like($out, qr/^client=127\.0\.45\.7\/32\n(?:.*\n)*?action=nxdomain\n(?:.*\n)*?duration=1800$/ms, 'block: echoes the block');
($st, $out) = $w->ctl('show_client', '127.0.45.7');
like($out, qr/^blocked=nxdomain\n(?:.*\n)*?block_reason=manual\n(?:.*\n)*?block_expires=\d{4}-/ms, 'show_client shows the block');
($st, $out) = $w->ctl('list_blocked');
like($out, qr/^client=127\.0\.45\.7\/32 action=nxdomain reason=manual duration=1800 /m, 'list_blocked lists it');
ok(scalar $w->wait_log(qr/dnswarden: event=block client=127\.0\.45\.7\/32 action=nxdomain duration=1800 .*reason=control:uid=0 /),
	'event=block logged with who did it');
($st, $out) = $w->ctl('unblock', '127.0.45.7');
is($st, 0, 'unblock: exit 0');
($st, $out) = $w->ctl('show_client', '127.0.45.7');
like($out, qr/^blocked=no$/m, 'unblock lifts it');
ok(scalar $w->wait_log(qr/dnswarden: event=unblock client=127\.0\.45\.7\/32 by=control:uid=0$/), 'event=unblock logged');
($st, $out, $err) = $w->ctl('unblock', '127.0.45.7');
ok($st == 1 && $err =~ /not blocked/, 'unblock of an unblocked client: exit 1 with a message');
($st, $out) = $w->ctl('exempt_add', '10.20.0.0/16');
is($st, 0, 'exempt_add');
($st, $out) = $w->ctl('list_exempt');
like($out, qr/^exempt=10\.20\.0\.0\/16 origin=runtime$/m, 'list_exempt shows the run-time exemption');
($st, $out, $err) = $w->ctl('block', '10.20.3.4');
ok($st == 1 && $err =~ /exempt/, 'an exempt client cannot be blocked');
($st, $out) = $w->ctl('exempt_remove', '10.20.0.0/16');
is($st, 0, 'exempt_remove');

# usage errors: exit 2, nothing sent for what the CLI can check itself
for my $bad (['block', 'not-an-address'], ['block', '127.0.0.9', 'soon'], ['block', '127.0.0.9', '1h', 'explode'],
	     ['show_client'], ['frobnicate'], ['exempt_add', '10.0.0.1/8']) {
	($st, $out, $err) = $w->ctl(@$bad);
	is($st, 2, "usage error: @$bad -> exit 2") or diag "$out $err";
	like($err, qr/\S/, "usage error: @$bad -> a message on stderr");
}

# whitelist verbs: the resolver has walked the world, so its servers are known
my $net = $ENV{DW_WORLD_NET} // '127.0.53';
my $root = quotemeta("$net.1");
($st, $out, $err) = $w->ctl('dump_whitelist');
ok($st == 0 && $out =~ /^addr=$root src=\S*query\S* ns=\S+ zones=\S*\.(?:,|\s)/m, 'dump_whitelist lists the root server for "."')
	or diag "$out$err";
($st, $out) = $w->ctl('--json', 'dump_whitelist');
ok(ref(decode_json($out)->{whitelist}) eq 'ARRAY', 'dump_whitelist --json');
($st, $out) = $w->ctl('check_ns', '127.0.99.99');
like($out, qr/^addr=127\.0\.99\.99\nknown=no$/m, 'check_ns of an address never involved: known=no');
($st, $out) = $w->ctl('check_ns', "$net.5");
like($out, qr/zones=\S*campus\.test\.\S*\n(?:.*\n)*?known=yes/m, 'check_ns of the campus server: known, with its zone');
($st, $out) = $w->ctl('export_nft');
like($out, qr/table inet dnswarden.*set dnswarden_ns4.*\b$root\b/s, 'export_nft: an nftables set with the root server');

# hostile clients: garbage, an over-long line, half a request, silence
sub raw {
	my ($data, $wait) = @_;
	my $s = IO::Socket::UNIX->new(Peer => $w->socket, Type => SOCK_STREAM) or return "connect: $!";
	print $s $data if defined $data;
	shutdown($s, 1) if $wait;
	local $/;
	my $r = <$s> // '';
	return $r;
}
like(raw("hello world\n", 1), qr/^error 2 /, 'garbage: a usage error');
like(raw(('x' x 10000) . "\n", 1), qr/^error 2 /, 'an over-long line: an error');
like(raw("DWCTL1 frobnicate\n", 1), qr/^error 2 .*frobnicate/, 'unknown verb: an error naming it');
my $silent = IO::Socket::UNIX->new(Peer => $w->socket, Type => SOCK_STREAM);
my $half = IO::Socket::UNIX->new(Peer => $w->socket, Type => SOCK_STREAM);
print $half "DWCTL1 sta";
($st, $out) = $w->ctl('status');
is($st, 0, 'while one client is silent and one sent half a request, another is served');
is($w->ask('127.0.45.3', 'portal.campus.test'), 'NOERROR 192.0.2.81', 'and the resolver keeps answering');
{
	local $/;
	my $r = <$silent> // '';
	like($r, qr/^error \d timed out/i, 'the silent client is timed out with an error');
}
close $silent;
close $half;

# a peer that is neither root nor in the group: the file mode stops it, and
# if the mode is loosened by mistake the peer check still does (and logs)
my $setpriv = (grep { -x } '/usr/bin/setpriv', '/bin/setpriv')[0];
ok($setpriv, 'setpriv is available (util-linux)');
# the CLI is copied where uid 65534 may run it, wherever the clone is
my $cli = $w->public_dir . '/dnswarden-control';
system('cp', "$DWTest::BUILDDIR/tools/dnswarden-control", $cli) == 0 or die "cp: $?";
my $as_nobody = "$setpriv --reuid=65534 --regid=65534 --clear-groups $cli -s " . $w->socket . ' status 2>&1';
my $r = `$as_nobody`;
ok($? >> 8 == 1 && $r =~ /permission denied/i, 'uid 65534: refused by the socket file mode (exit 1)') or diag $r;
chmod 0666, $w->socket;
$r = `$as_nobody`;
ok($? >> 8 == 1 && $r =~ /denied|not allowed|permission/i, 'uid 65534 with a world-writable socket: refused by the peer check') or diag $r;
ok(scalar $w->wait_log(qr/dnswarden: event=control_denied uid=65534 gid=65534 /), 'and the denial is logged');

# reload with a broken YAML keeps the running config and reports the line
my $good = do { local $/; open(my $fh, '<', $w->yaml) or die; <$fh> };
$w->write_file($w->yaml, $good . "syslog: { rate: lots }\n");
($st, $out, $err) = $w->ctl('reload');
ok($st == 1 && $err =~ /dnswarden\.yaml:\d+:\d+: .*lots.*running configuration is kept/, 'reload with a broken file: exit 1, line and column') or diag $err;
is(scalar $w->log_grep(qr/event=loaded /), 1, 'no reload happened');
$w->write_file($w->yaml, $good);
($st, $out, $err) = $w->ctl('reload');
is($st, 0, 'reload with a good file: exit 0') or diag $err;
is(scalar $w->wait_log(qr/event=loaded /, 2, 15), 2, 'Unbound reloaded the module');
for (1 .. 100) { last if -S $w->socket && ($w->ctl('status'))[0] == 0; sleep 0.1 }
($st, $out) = $w->ctl('status');
is($st, 0, 'the control socket is back after the reload');

$w->stop;
is_deeply([$w->leftover_pids], [], 'no process of this test left running');
done_testing;
