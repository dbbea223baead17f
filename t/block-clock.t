#!/usr/bin/perl
# Block expiry runs on a monotonic clock (issue 9, item 11): a step of the
# wall clock neither ends a block early nor makes it last longer. Unbound
# runs under libfaketime (Debian's libfaketime), which moves only its wall
# clock (time(), CLOCK_REALTIME) when the test writes a new offset to a
# file; the monotonic clock stays real.
use strict;
use warnings;
use lib 't/lib';
use DWTest;
use DWEnforce qw(wait_answer);
use Test::More;
use Time::HiRes qw(sleep);

my $NAME = 'www.campus.test';
my $REAL = 'NOERROR 192.0.2.80';
my ($lib) = grep { -e } map { "$_/faketime/libfaketimeMT.so.1" } qw(/usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/lib);
BAIL_OUT('libfaketime is not installed (tools/install-deps)') unless $lib;

my $w = DWTest->new;
my $fake = $w->dir . '/faketime';
$w->write_file($fake, "+0\n");
{
	local $ENV{LD_PRELOAD} = $lib;
	local $ENV{FAKETIME_TIMESTAMP_FILE} = $fake;
	local $ENV{FAKETIME_NO_CACHE} = 1;
	local $ENV{FAKETIME_DONT_FAKE_MONOTONIC} = 1;
	$w->start;
}

# the wall clock jumps two hours ahead: a 60 s block holds
my ($st, $out, $err) = $w->ctl('block', '127.0.18.1', '60s', 'nxdomain');
is($st, 0, 'block 127.0.18.1 for 60 s') or diag $err;
is(wait_answer($w, '127.0.18.1', $NAME, 'A', 'NXDOMAIN', 3), 'NXDOMAIN', 'blocked');
$w->write_file($fake, "+7200\n");
sleep 2.5;    # expiry is swept once a second
is($w->ask('127.0.18.1', $NAME), 'NXDOMAIN', 'after the wall clock jumped 2 h ahead: still blocked');
is(scalar $w->log_grep(qr/event=expire client=127\.0\.18\.1\//), 0, 'no event=expire');
($st, $out) = $w->ctl('list_blocked');
like($out, qr/^client=127\.0\.18\.1\/32 .*expires=\S+/m, 'list_blocked still shows it');

# and back: a 3 s block made at +2 h ends after 3 real seconds
($st, $out, $err) = $w->ctl('block', '127.0.18.2', '3s', 'nxdomain');
is($st, 0, 'block 127.0.18.2 for 3 s') or diag $err;
is(wait_answer($w, '127.0.18.2', $NAME, 'A', 'NXDOMAIN', 3), 'NXDOMAIN', 'blocked');
$w->write_file($fake, "+0\n");
ok(scalar $w->wait_log(qr/event=expire client=127\.0\.18\.2\/32 /, 1, 8),
	'after the wall clock went 2 h back: the 3 s block still ends by itself');
is(wait_answer($w, '127.0.18.2', $NAME, 'A', $REAL, 3), $REAL, 'real answers again');

# the state file keeps wall-clock times: 127.0.18.1 expires about 60 s after it was blocked
# (a file saved while the clock was still 2 h ahead may be read first: wait
# for one saved after it came back)
my $deadline = time + 8;
my ($text, $created, $expires) = ('');
while (time < $deadline) {
	if (open(my $fh, '<', $w->state)) {
		local $/;
		$text = <$fh> // '';
		($created, $expires) =
			$text =~ /^block 127\.0\.18\.1\/32 nxdomain manual 1 \d+ 60 (\d+) (\d+)$/m;
		last if defined $expires && abs($expires - (time + 60)) < 30;
	}
	sleep 0.2;
}
ok(defined $expires && $expires - $created == 60 && abs($expires - (time + 60)) < 30,
	"the state file holds wall-clock times (expires ${\($expires // '?')}, now ${\time})") or diag $text;

$w->stop;
is_deeply([$w->leftover_pids], [], 'no process of this test left running');
done_testing;
