#!/usr/bin/perl
# The incident history end to end: real verdicts from the simulator's worm
# traffic against Unbound with the module in enforce mode become rows of the
# SQLite database (read here with the sqlite3 command), together with the
# blocks, their expiry, a manual block/unblock and an exemption with the
# control peer's uid; `dnswarden-control incidents` and `show_client` answer
# from it; what was committed survives kill -9, and a restart appends.
use strict;
use warnings;
use lib 't/lib';
use DWTest;
use Test::More;
use JSON::PP;
use Time::HiRes qw(sleep time);

my $yaml = <<'EOF';
mode: enforce
enforcement: rpz
exempt: [127.14.1.25/32]
policy: { ladder_factor: 2 }
detectors:
  mx_worm:         { threshold: 10, window: 10m, action: nxdomain, duration: 2s }
  ip_literal:      { threshold: 10, window: 1h, action: log }
  signature_names: { enabled: false }
EOF

my $w = DWTest->new(yaml => $yaml);
my $db = $w->dir . '/incidents.db';

# sqlite3's answer to one query, rows as lists of '|'-separated fields
sub sql {
	my ($q) = @_;
	my $out = `sqlite3 -batch "$db" "$q" 2>&1`;
	die "sqlite3 failed: $out" if $?;
	return map { [split /\|/, $_, -1] } split /\n/, $out;
}

# wait until sqlite3 sees at least $n rows matching the WHERE clause $where
sub wait_rows {
	my ($where, $n, $secs) = @_;
	my $deadline = time + ($secs // 10);
	my $c = 0;
	while (time < $deadline) {
		if (-e $db) {
			my @r = eval { sql("SELECT count(*) FROM incidents WHERE $where") };
			$c = @r ? $r[0][0] : 0;
			return $c if $c >= $n;
		}
		sleep 0.1;
	}
	return $c;
}

$w->start;
my $out = $w->dwsim('-S', '127.14.1.1', '-n', 20, '--seed', 5, 'sobig');
like($out, qr/answered=20 /, 'sobig from 127.14.1.1 answered');
$out = $w->dwsim('-S', '127.14.1.4', '-n', 20, '--seed', 5, 'ip_literal_scanner');
like($out, qr/answered=20 /, 'ip_literal_scanner from 127.14.1.4 answered');

is(wait_rows("event = 'expire' AND client = '127.14.1.1'", 1), 1, 'the mx_worm block ran out: an expire row');
my @v = sql("SELECT time, event, client, prefix, detector, action, duration, mode, backend, json_extract(evidence, '\$.count'), "
	. "json_extract(evidence, '\$.threshold'), json_extract(evidence, '\$.classes.mx'), "
	. "json_array_length(evidence, '\$.names'), json_extract(evidence, '\$.names[0]') "
	. "FROM incidents WHERE client = '127.14.1.1' AND event = 'verdict'");
is(scalar @v, 1, 'one verdict row for the worm');
my ($t, $ev, $cl, $pfx, $det, $act, $dur, $mode, $be, $count, $thr, $mx, $nnames, $name0) = @{$v[0]};
ok(abs($t - time) < 60, 'time is Unix seconds, now');
is("$ev $cl/$pfx $det $act $dur $mode $be", 'verdict 127.14.1.1/32 mx_worm nxdomain 2 enforce rpz',
	'verdict row: event, client, detector, action, duration, mode, backend');
is("$count $thr", '10 10', 'evidence: the count and threshold');
ok($mx >= 10, "evidence: MX queries in the window ($mx)");
ok($nnames >= 1 && $name0 =~ /victim\.lab\.$/, "evidence: the last distinct names ($name0, $nnames names)");

my @b = sql("SELECT detector, action, duration, step, uid IS NULL, json_extract(evidence, '\$.by') "
	. "FROM incidents WHERE client = '127.14.1.1' AND event = 'block'");
is_deeply($b[0], [qw(mx_worm nxdomain 2 1 1 detector:mx_worm)], 'block row: detector, action, duration, ladder step 1, no uid');
my @x = sql("SELECT json_extract(evidence, '\$.by') FROM incidents WHERE client = '127.14.1.1' AND event = 'expire'");
is($x[0][0], 'expiry', 'expire row');

is(wait_rows("event = 'verdict' AND client = '127.14.1.4' AND detector = 'ip_literal' AND action = 'log'", 1), 1,
	'ip_literal (action log): a verdict row');

# manual actions carry the control peer's uid
my ($st, $o, $e) = $w->ctl('block', '127.14.1.7', '1h', 'nodata');
is($st, 0, 'manual block') or diag $e;
($st) = $w->ctl('unblock', '127.14.1.7');
($st) = $w->ctl('exempt_add', '127.14.9.0/24');
is($st, 0, 'exempt_add');
($st) = $w->ctl('exempt_remove', '127.14.9.0/24');
is(wait_rows("event = 'exempt_remove'", 1), 1, 'exemption rows written');
my @m = sql("SELECT event, client, prefix, action, duration, step, uid, json_extract(evidence, '\$.by') FROM incidents "
	. "WHERE event IN ('block', 'unblock', 'exempt_add', 'exempt_remove') AND client LIKE '127.14.%' AND uid IS NOT NULL ORDER BY id");
is_deeply([map { join ' ', @$_ } @m], [
	"block 127.14.1.7 32 nodata 3600 1 $< control:uid=$<",
	"unblock 127.14.1.7 32 nodata 3600 1 $< control:uid=$<",
	"exempt_add 127.14.9.0 24  0  $< control:uid=$<",
	"exempt_remove 127.14.9.0 24  0  $< control:uid=$<",
], 'manual block, unblock and exemptions: rows with the peer uid');

# schema as documented
my @cols = map { $_->[1] } sql("PRAGMA table_info(incidents)");
is_deeply(\@cols, [qw(id time event client prefix addr detector action duration step mode backend uid country asn evidence domain)],
	'incidents table columns');
is((sql("PRAGMA user_version"))[0][0], 2, 'schema version 2');
is((sql("PRAGMA journal_mode"))[0][0], 'wal', 'WAL mode');
like((sql("SELECT value FROM meta WHERE key = 'uuid'"))[0][0], qr/^[0-9a-f]{32}$/, 'meta: the file\'s uuid');

# the incidents verb, plain and JSON
($st, $o, $e) = $w->ctl('incidents', '--client', '127.14.1.0/24', '--since', '1h');
is($st, 0, 'incidents --client 127.14.1.0/24 --since 1h') or diag $e;
like($o, qr/^id=\d+ time=\S+Z event=expire client=127\.14\.1\.1\/32 detector=mx_worm action=nxdomain duration=2 step=1 blocked_before=1 /m,
	'plain: the expiry, with the block before it');
like($o, qr/^id=\d+ time=\S+ event=verdict client=127\.14\.1\.1\/32 detector=mx_worm .*blocked_before=0 .*names="[^"]*victim\.lab\./m,
	'plain: the verdict with the names asked for');
unlike($o, qr/client=127\.14\.9\./, 'the CIDR filter keeps other prefixes out');
($st, $o, $e) = $w->ctl('--json', 'incidents', '--detector', 'mx_worm', '2');
is($st, 0, 'incidents --json --detector mx_worm 2') or diag $e;
my $j = eval { decode_json($o) };
is(ref $j->{incidents}, 'ARRAY', 'JSON: a list of incidents') or diag $o;
is(scalar @{$j->{incidents}}, 2, 'N limits the rows');
is($j->{incidents}[0]{event}, 'expire', 'newest first');
is($j->{incidents}[1]{evidence}{by}, 'detector:mx_worm', 'JSON: evidence is an object');
($st, $o, $e) = $w->ctl('incidents', '--detector', 'nosuch');
is($st, 2, 'an unknown detector is a usage error');

# show_client ends with the history
($st, $o) = $w->ctl('show_client', '127.14.1.1');
like($o, qr/^history\.first_seen=\d{4}-\S+Z$/m, 'show_client: history.first_seen');
like($o, qr/^history\.blocks=1$/m, 'show_client: one block');
like($o, qr/^history\.detectors=mx_worm$/m, 'show_client: by which detector');
($st, $o) = $w->ctl('show_client', '127.14.200.200');
like($o, qr/^history\.first_seen=never$/m, 'a client never seen: no history');

# the ladder: a second block within the ladder window is a repeat offence
($st, $o, $e) = $w->ctl('block', '127.14.1.1', '2s');
like($o, qr/^offences=2$/m, 'a second block of the worm') or diag $e;
is(wait_rows("event = 'block' AND client = '127.14.1.1' AND step = 2 AND duration = 4", 1), 1,
	'second block: ladder step 2, twice as long');
($st, $o) = $w->ctl('show_client', '127.14.1.1');
like($o, qr/^history\.repeat_offences=1$/m, 'show_client: one repeat offence');

($st, $o) = $w->ctl('stats_noreset');
like($o, qr/^incidents\.written=\d+$/m, 'stats: incidents.written');
like($o, qr/^incidents\.dropped=0$/m, 'stats: nothing dropped');

# kill -9: what was committed stays; a restart appends to the same file
my $before = wait_rows('1', 1);
($st) = $w->ctl('block', '127.14.1.8', '1h');
is(wait_rows("client = '127.14.1.8'", 1), 1, 'a last block is committed');
my $committed = (sql("SELECT count(*) FROM incidents"))[0][0];
kill 'KILL', $w->{unbound};
waitpid($w->{unbound}, 0);
delete $w->{unbound};
is((sql("PRAGMA integrity_check"))[0][0], 'ok', 'after kill -9: the database is intact');
is((sql("SELECT count(*) FROM incidents"))[0][0], $committed, "after kill -9: all $committed committed rows are there");
$w->start;
($st) = $w->ctl('unblock', '127.14.1.8');
is(wait_rows("client = '127.14.1.8' AND event = 'unblock'", 1), 1, 'after a restart: new rows go to the same file');
($st, $o) = $w->ctl('show_client', '127.14.1.1');
like($o, qr/^history\.blocks=2$/m, 'the history of before the crash is still answered');

$w->stop;
is_deeply([$w->leftover_pids], [], 'no process of this test left running');
done_testing;
