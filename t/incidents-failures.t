#!/usr/bin/perl
# The incident database may fail in every way; the resolver never notices.
# A locked database (sqlite3 holding the write lock), a full disk (a small
# tmpfs this test mounts and fills), a read-only file system (the same tmpfs
# remounted read-only) and a damaged file: each is logged, Unbound keeps
# answering at once, the rows wait in the queue and are written when the
# database can be written again ("incidents_resumed"), or a new file is
# started ("incidents_new_file").
use strict;
use warnings;
use lib 't/lib';
use DWTest;
use Test::More;
use Time::HiRes qw(sleep time);

my $yaml_for = sub {
	my ($db) = @_;
	return <<EOF;
mode: enforce
enforcement: rpz
detectors:
  mx_worm:         { threshold: 10, window: 10m, action: nxdomain, duration: 1h }
  signature_names: { enabled: false }
incidents:
  database: $db
EOF
};

my $NAME = 'www.campus.test';
my $REAL = 'NOERROR 192.0.2.80';

# The resolver answers a benign client, and fast: every query within 1 s.
sub answers_fast {
	my ($w, $what) = @_;
	my $t0 = time;
	my $out = $w->dwsim('-S', '127.14.2.200', '-n', 50, '-t', 1000, '--seed', 1, 'benign_pc');
	my $dt = time - $t0;
	like($out, qr/sent=50 answered=50 .*timeout=0 /, "$what: 50 queries of a benign client all answered");
	ok($dt < 5, sprintf("$what: in %.2f s", $dt));
	my ($st, $o) = $w->ctl('status');
	is($st, 0, "$what: the control socket answers");
}

sub count_rows {
	my ($db, $where) = @_;
	my $c = `sqlite3 -batch "$db" "SELECT count(*) FROM incidents WHERE $where" 2>/dev/null`;
	chomp $c;
	return $? ? -1 : $c;
}

sub wait_rows {
	my ($db, $where, $n, $secs) = @_;
	my $deadline = time + ($secs // 10);
	my $c;
	while (time < $deadline) {
		$c = count_rows($db, $where);
		return $c if $c >= $n;
		sleep 0.1;
	}
	return $c;
}

my @mounts;
END { system('umount', '-l', $_) for reverse @mounts }

# ---- locked, full, read-only: a database on a small tmpfs ------------------
{
	my $w = DWTest->new(name => 'incidents-fail-disk', yaml => $yaml_for->('/nonexistent/placeholder.db'));
	my $mnt = $w->dir . '/small';
	mkdir $mnt or die;
	system('mount', '-t', 'tmpfs', '-o', 'size=1m,mode=0755', 'dwtest', $mnt) == 0 or die "mount tmpfs failed";
	push @mounts, $mnt;
	my $db = "$mnt/incidents.db";
	$w->write_file($w->yaml, $w->with_paths($yaml_for->($db)));
	$w->start;
	my ($st, $o, $e) = $w->ctl('block', '127.14.2.1', '1h');
	is(wait_rows($db, "client = '127.14.2.1'", 1), 1, 'the database on the tmpfs works');

	# locked: sqlite3 holds the write lock for 3 s
	open(my $lock, '|-', "sqlite3 -batch '$db' >/dev/null 2>&1") or die;
	select((select($lock), $| = 1)[0]);
	print $lock "BEGIN IMMEDIATE;\nINSERT INTO meta VALUES ('lock', 'held');\n";
	sleep 0.5;
	($st) = $w->ctl('block', '127.14.2.2', '1h');
	ok(scalar $w->wait_log(qr/event=incidents_error file=\Q$db\E op=write error="database is locked" queued=1 /, 1, 5),
		'locked: logged, the row stays queued');
	answers_fast($w, 'locked');
	is(count_rows($db, "client = '127.14.2.2'"), 0, 'locked: not written yet');
	print $lock "ROLLBACK;\n.quit\n";
	close $lock;
	is(wait_rows($db, "client = '127.14.2.2'", 1), 1, 'lock released: the queued row is written');
	ok(scalar $w->wait_log(qr/event=incidents_resumed file=\Q$db\E written=1 dropped=0/, 1, 5), 'and that is logged');

	# full: fill the tmpfs
	system("dd if=/dev/zero of='$mnt/filler' bs=4k >/dev/null 2>&1");
	like(`df --output=avail -k '$mnt' | tail -1`, qr/^\s*0$/, 'the disk is full');
	($st) = $w->ctl('block', "127.14.2.$_", '1h') for 10 .. 14;
	$w->dwsim('-S', '127.14.2.20', '-n', 40, '--seed', 5, 'sobig');
	ok(scalar $w->wait_log(qr/event=incidents_error file=\Q$db\E op=(?:write|open) error="[^"]*(?:full|disk I\/O)/, 1, 8),
		'disk full: logged');
	answers_fast($w, 'disk full');
	is(wait_answer_text($w, '127.14.2.20'), 'NXDOMAIN', 'disk full: the worm is still blocked');
	is(count_rows($db, "client = '127.14.2.14'"), 0, 'disk full: nothing written');
	($st, $o) = $w->ctl('stats_noreset');
	like($o, qr/^incidents\.queued=([1-9]\d*)$/m, 'stats: rows queued');
	like($o, qr/^incidents\.ok=no$/m, 'stats: incidents.ok=no');
	unlink "$mnt/filler";
	is(wait_rows($db, "client LIKE '127.14.2.1_' AND event = 'block'", 5, 10), 5, 'space again: the queued blocks are written');
	is(wait_rows($db, "client = '127.14.2.20' AND event = 'verdict' AND detector = 'mx_worm'", 1), 1,
		'and the worm\'s verdict with them');
	ok(scalar $w->wait_log(qr/event=incidents_resumed file=\Q$db\E written=\d+ dropped=0/, 2, 5), 'resumed, nothing dropped');

	# read-only: stop, remount the tmpfs read-only, start
	$w->stop_unbound;
	system('mount', '-o', 'remount,ro', $mnt) == 0 or die 'remount ro failed';
	$w->start;
	($st) = $w->ctl('block', '127.14.2.30', '1h');
	ok(scalar $w->wait_log(qr/event=incidents_error file=\Q$db\E op=(?:open|write) error="[^"]+" queued=/, 1, 8),
		'read-only file system: logged');
	answers_fast($w, 'read-only');
	($st, $o, $e) = $w->ctl('incidents');
	is($st, 1, 'read-only: the incidents verb says it cannot answer');
	system('mount', '-o', 'remount,rw', $mnt) == 0 or die 'remount rw failed';
	is(wait_rows($db, "client = '127.14.2.30'", 1, 10), 1, 'writable again: the queued row is written');
	$w->stop;
	system('umount', $mnt) == 0 or diag "umount $mnt failed";
	@mounts = grep { $_ ne $mnt } @mounts;
	is_deeply([$w->leftover_pids], [], 'no process left running');
}

# ---- damaged: garbage where the database should be --------------------------
{
	my $w = DWTest->new(name => 'incidents-fail-damaged');
	my $db = $w->dir . '/incidents.db';
	$w->write_file($db, "this is not an SQLite database\n" x 500);
	$w->start;
	my ($st) = $w->ctl('block', '127.14.3.1', '1h');
	my ($line) = $w->wait_log(qr/event=incidents_new_file file=\Q$db\E damaged=/, 1, 8);
	ok($line, 'damaged file: a new file is started and that is logged');
	my ($aside) = $line =~ /damaged=(\S+)/;
	ok($aside && -f $aside, "the damaged file is kept aside ($aside)");
	is(wait_rows($db, "client = '127.14.3.1'", 1), 1, 'the new file gets the rows');
	is($w->ask('127.14.3.9', $NAME), $REAL, 'the resolver answers');
	$w->stop;
	is_deeply([$w->leftover_pids], [], 'no process left running');
}

# answer of one A query of src, without retries
sub wait_answer_text {
	my ($w, $src) = @_;
	my $a = $w->ask($src, $NAME, 'A', timeout => 1);
	$a =~ s/ .*//;
	return $a;
}

done_testing;
