#!/usr/bin/perl
# Domain blocks in the incident history (schema 2): a dns_tunnel verdict's
# domain block, a refusal of the guard, a block and unblock by hand and an
# expiry are rows with the domain in their own column, next to the client
# rows; observe mode records what it would block. The database is one that
# main's code (schema 1) wrote (t/data/incidents/v1-main.sql): it is migrated
# in place, its rows kept; `dnswarden-control incidents` and dnswarden-report
# show the domain rows, and dnswarden-report still reads a schema-1 file.
use strict;
use warnings;
use lib 't/lib';
use DWTest;
use Test::More;
use JSON::PP;
use Time::HiRes qw(sleep time);

my $yaml = <<'EOF2';
mode: enforce
enforcement: rpz
detectors:
  mx_worm:    { enabled: false }
  spam_relay: { enabled: false }
  dns_tunnel:
    threshold: 20
    window: 10m
    action: log
    domain_action: nxdomain
    domain_duration: 4s
EOF2

srand(184);
sub rnd { my ($n) = @_; join '', map { substr('0123456789abcdef', int(rand(16)), 1) } 1 .. $n }

# 25 distinct long hex names under $base from $src (a dnscat2-like tunnel)
sub tunnel {
	my ($t, $src, $base) = @_;
	my $n = 0;
	$n++ for grep { $t->ask($src, rnd(40) . ".$base", 'TXT') ne 'TIMEOUT' } 1 .. 25;
	return $n;
}

my $V1 = "$DWTest::SRCDIR/t/data/incidents/v1-main.sql";

# a schema-1 database as main's code wrote it, its times moved to 10 minutes ago
sub v1_db {
	my ($path) = @_;
	unlink $path;
	my $t = time - 600;
	system("sqlite3 -batch '$path' < '$V1' && sqlite3 -batch '$path' "
		. "\"UPDATE incidents SET time = $t + id; UPDATE meta SET value = 'v1host' WHERE key = 'host'\"") == 0
		or die "sqlite3 failed";
}

my $w = DWTest->new(yaml => $yaml);
my $db = $w->dir . '/incidents.db';
sub sql {
	my ($q, $file) = @_;
	$file //= $db;
	my $out = `sqlite3 -batch "$file" "$q" 2>&1`;
	die "sqlite3 failed: $out" if $?;
	return map { [split /\|/, $_, -1] } split /\n/, $out;
}
sub wait_rows {
	my ($where, $n, $secs) = @_;
	my $deadline = time + ($secs // 10);
	my $c = 0;
	while (time < $deadline) {
		my @r = eval { sql("SELECT count(*) FROM incidents WHERE $where") };
		$c = @r ? $r[0][0] : 0;
		return $c if $c >= $n;
		sleep 0.1;
	}
	return $c;
}

v1_db($db);
is((sql('PRAGMA user_version'))[0][0], 1, 'the database main wrote: schema 1');
my @old = sql('SELECT id, event, client, detector, action FROM incidents ORDER BY id');
is(scalar @old, 4, '... with 4 rows (a worm verdict and block, a block and unblock by hand)');
my $uuid = (sql("SELECT value FROM meta WHERE key = 'uuid'"))[0][0];

$w->start;
ok(scalar $w->wait_log(qr/event=incidents_migrated file=\Q$db\E from=1 to=2/, 1, 10), 'migrated from schema 1 to 2 (log line)');
is((sql('PRAGMA user_version'))[0][0], 2, 'schema version 2');
is((sql("SELECT value FROM meta WHERE key = 'schema'"))[0][0], 2, 'meta: schema 2');
is((sql("SELECT value FROM meta WHERE key = 'uuid'"))[0][0], $uuid, 'meta: the file keeps its uuid');
my @cols = map { $_->[1] } sql('PRAGMA table_info(incidents)');
is_deeply(\@cols, [qw(id time event client prefix addr detector action duration step mode backend uid country asn evidence domain)],
	'the column domain is added at the end');
is_deeply([sql('SELECT id, event, client, detector, action FROM incidents WHERE id <= 4 ORDER BY id')], \@old,
	'the old rows are kept as they were');
is((sql('SELECT count(*) FROM incidents WHERE domain IS NOT NULL'))[0][0], 0, '... with no domain');
is((sql('PRAGMA integrity_check'))[0][0], 'ok', 'integrity check');

# a tunnel: the verdict's domain block
is(tunnel($w, '127.184.1.1', 'shop.test'), 25, 'a tunnel under shop.test');
is(wait_rows("event = 'block_domain' AND domain = 'shop.test'", 1), 1, 'a block_domain row for shop.test');
my @b = sql("SELECT client, prefix, detector, action, duration, mode, backend, uid IS NULL, json_extract(evidence, '\$.by'), "
	. "json_extract(evidence, '\$.expires') FROM incidents WHERE event = 'block_domain' AND domain = 'shop.test'");
my ($exp) = splice(@{$b[0]}, -1);
is_deeply($b[0], [qw(127.184.1.1 32 dns_tunnel nxdomain 4 enforce rpz 1 detector:dns_tunnel)],
	'block_domain row: the tunnel client, detector, action, duration, backend, by the detector');
like($exp, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, "... and when it expires ($exp)");
is(wait_rows("event = 'verdict' AND detector = 'dns_tunnel' AND client = '127.184.1.1'", 1), 1, 'next to the verdict row');

# the guard refuses: a row with the reason
is(tunnel($w, '127.184.1.2', 'google.com'), 25, 'a tunnel-looking flood under google.com');
is(wait_rows("event = 'domain_block_refused' AND domain = 'google.com'", 1), 1, 'a domain_block_refused row');
my @r = sql("SELECT client, detector, json_extract(evidence, '\$.error') FROM incidents WHERE event = 'domain_block_refused'");
is("$r[0][0] $r[0][1]", '127.184.1.2 dns_tunnel', 'refused row: the client and detector');
like($r[0][2], qr/google\.com is, holds or is under google\.com, on the built-in never-block list/, 'refused row: the guard\'s reason');

# by hand, with the control peer's uid; unblock
my ($st, $out, $err) = $w->ctl('block_domain', 'c2one.test', '1h', 'nodata');
is($st, 0, 'block_domain c2one.test 1h nodata') or diag $err;
($st, $out, $err) = $w->ctl('unblock_domain', 'c2one.test');
is($st, 0, 'unblock_domain c2one.test') or diag $err;
is(wait_rows("domain = 'c2one.test'", 2), 2, 'two rows for c2one.test');
my @m = sql("SELECT event, client, prefix, detector IS NULL, action, duration, uid, json_extract(evidence, '\$.by'), "
	. "json_extract(evidence, '\$.since') IS NOT NULL FROM incidents WHERE domain = 'c2one.test' ORDER BY id");
is_deeply([map { join ' ', @$_ } @m], [
	"block_domain 0.0.0.0 0 1 nodata 3600 $< control:uid=$< 0",
	"unblock_domain 0.0.0.0 0 1 nodata 3600 $< control:uid=$< 1",
], 'by hand: rows for every client (0.0.0.0/0) with the peer uid; the unblock says since when');

# expiry
is(wait_rows("event = 'expire_domain' AND domain = 'shop.test'", 1, 15), 1, 'the block of shop.test runs out: an expire_domain row');
@r = sql("SELECT client, prefix, detector, json_extract(evidence, '\$.by') FROM incidents WHERE event = 'expire_domain'");
is("@{$r[0]}", '0.0.0.0 0 dns_tunnel expiry', 'expire_domain row: by expiry, the detector that made it');

# the incidents verb
($st, $out, $err) = $w->ctl('incidents', '--since', '1h', '20');
is($st, 0, 'incidents') or diag $err;
like($out, qr/^id=\d+ time=\S+ event=block_domain client=127\.184\.1\.1\/32 detector=dns_tunnel action=nxdomain duration=4 .* domain=shop\.test /m,
	'incidents: the block_domain row with its domain');
like($out, qr/^id=\d+ .*event=unblock_domain client=0\.0\.0\.0\/0 .* uid=$< .* domain=c2one\.test /m, 'incidents: the unblock by hand');
like($out, qr/^id=\d+ .*event=verdict client=127\.184\.1\.1\/32 detector=dns_tunnel .* domain=- /m, 'a client row: domain=-');
($st, $out) = $w->ctl('--json', 'incidents', '--client', '127.184.1.2', '5');
my $j = eval { decode_json($out) } // {};
my ($ref) = grep { $_->{event} eq 'domain_block_refused' } @{ $j->{incidents} // [] };
is($ref && $ref->{domain}, 'google.com', 'incidents --json --client: the refused domain of that client');

# --domain: one domain's rows, whatever the case and with a final dot
($st, $out, $err) = $w->ctl('incidents', '--domain', 'SHOP.Test.');
is($st, 0, 'incidents --domain SHOP.Test.') or diag $err;
my @ev = map { /^id=\d+ .*event=(\S+)/ ? $1 : "?$_" } split /\n/, $out;
is("@ev", 'expire_domain block_domain', '... the expiry and the block of shop.test, newest first') or diag $out;
unlike($out, qr/ domain=(?!shop\.test )/, '... no row of another domain, no client row');
($st, $out, $err) = $w->ctl('incidents', '--since', '1h', '--domain', 'c2one.test', '--client', '0.0.0.0/0', '5');
is($st, 0, 'incidents --since --domain --client N (nine arguments)') or diag $err;
@ev = map { /^id=\d+ .*event=(\S+) client=(\S+)/ ? "$1 $2" : "?$_" } split /\n/, $out;
is_deeply(\@ev, ['unblock_domain 0.0.0.0/0', 'block_domain 0.0.0.0/0'], '... the unblock and the block by hand');
($st, $out) = $w->ctl('--json', 'incidents', '--domain', 'google.com', '--client', '127.184.1.2');
$j = eval { decode_json($out) } // {};
is(join(' ', map { "$_->{event} $_->{domain}" } @{ $j->{incidents} // [] }), 'domain_block_refused google.com',
	'--json --domain google.com --client: the refusal');
($st, $out, $err) = $w->ctl('incidents', '--domain', 'google.com', '--client', '127.184.1.1');
is("$st [$out]", '0 []', '--domain and another client: no row');
($st, $out, $err) = $w->ctl('incidents', '--domain', 'nosuch.test');
is("$st [$out]", '0 []', '--domain of no row: an empty answer');
for my $bad ('a..b', '.', '..', 'x;drop', 'shop"test', '*.shop.test', 'sh\\op.test', 'a/b', '%', ('a' x 64) . '.test',
	join('.', ('abcdefghi') x 26)) {
	($st, $out, $err) = $w->ctl('incidents', '--domain', $bad);
	my $show = length($bad) > 20 ? substr($bad, 0, 12) . '...(' . length($bad) . ')' : $bad;
	ok($st == 2 && $out eq '' && $err =~ /'\Q$bad\E' is not a domain name/, "--domain '$show': refused (exit 2), named in the error")
		or diag "$st $out $err";
}
($st, $out, $err) = $w->ctl('incidents', '--domain', join('.', ('abcdefghi') x 25) . '.abc.');
is($st, 0, '--domain of 253 bytes and a final dot: accepted') or diag $err;
($st, $out, $err) = $w->ctl('incidents', '--domain');
is($st, 2, '--domain without a name: a usage error');

$w->stop;
is_deeply([$w->leftover_pids], [], 'no process left running');

# dnswarden-report: the migrated file and an untouched schema-1 file
my $v1 = $w->dir . '/untouched-v1.db';
v1_db($v1);
my $report = "$DWTest::SRCDIR/tools/dnswarden-report";
my $text = `perl "$report" --since 1h "$db" "$v1" 2>&1`;
is($?, 0, 'dnswarden-report reads the schema-2 file and a schema-1 file') or diag $text;
like($text, qr/^Domain blocks .*:$/m, 'the report has a section for domain blocks');
like($text, qr/^  shop\.test\s+nxdomain\s+1\s+0\s+0\s+expired\s+dns_tunnel 127\.184\.1\.1$/m,
	'shop.test: blocked once by dns_tunnel for 127.184.1.1, expired') or diag $text;
like($text, qr/^  c2one\.test\s+nodata\s+1\s+0\s+0\s+unblocked\s+manual$/m, 'c2one.test: by hand, unblocked');
like($text, qr/^  google\.com\s+-\s+0\s+0\s+1\s+refused\s+- 127\.184\.1\.2\n\s+refused: .*never-block list/m,
	'google.com: refused, with the reason');
like($text, qr/^  mx_worm\s+2$/m, 'the schema-1 rows still count (a worm verdict in each file)');
like($text, qr/^  block_domain\s+2$/m, 'events: two block_domain (shop.test, c2one.test)');
my ($evs) = $text =~ /^Events:\n((?:  .*\n)+)/m;
my @evl = split /\n/, $evs // '';
ok(scalar(grep { /^  domain_block_refused +1$/ } @evl), 'events: domain_block_refused counted') or diag $text;
is(join(' ', sort { $a <=> $b } keys %{ { map { length($_) => 1 } @evl } }), length($evl[0] // ''),
	'events: one column, every count right-aligned at the same place') or diag $evs;
unlike($text, qr/0\.0\.0\.0/, 'the rows for every client are no client of the top list');
my $html = `perl "$report" --since 1h --html - "$db"`;
like($html, qr{<table id="domain-blocks">.*<tr class="domain"><td>shop\.test</td><td>nxdomain</td><td>1</td>}s, 'HTML: the domain blocks table');
$text = `perl "$report" --since 1h "$v1" 2>&1`;
is($?, 0, 'a schema-1 file alone') or diag $text;
unlike($text, qr/^Domain blocks/m, '... has no domain section');

# observe mode: what would be blocked
(my $oy = $yaml) =~ s/mode: enforce/mode: observe/;
my $o = DWTest->new(name => 'incidents-domains-observe', yaml => $oy);
$o->start;
my $odb = $o->dir . '/incidents.db';
is(tunnel($o, '127.184.2.1', 'shop.test'), 25, 'observe: a tunnel under shop.test');
$db = $odb;
is(wait_rows("event = 'would_block_domain' AND domain = 'shop.test'", 1), 1, 'observe: a would_block_domain row');
@r = sql("SELECT client, detector, action, duration, mode FROM incidents WHERE event = 'would_block_domain'");
is("@{$r[0]}", '127.184.2.1 dns_tunnel nxdomain 4 observe', 'would_block_domain row: client, detector, action, duration, mode');
is(wait_rows("event = 'block_domain'", 1, 1), 0, 'observe: no block_domain row');
$o->stop;
is_deeply([$o->leftover_pids], [], 'observe: no process left running');
done_testing;
