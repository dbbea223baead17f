#!/usr/bin/perl
# A reload never takes the resolver down (issue 9, item 1). A file that
# parses but that the module could not start with — a GeoIP database that
# does not exist, a control socket in a missing directory — is refused by
# `dnswarden-control reload` with the reason, and on `unbound-control reload`
# the module comes back with the last good configuration: Unbound keeps
# answering and the module keeps observing. Every window the man page allows
# works (a 1-day mx_worm window needs a ninth counter). When the start itself
# fails after the checks (another process listens on the new control socket),
# the module still comes back with the last good configuration.
use strict;
use warnings;
use lib 't/lib';
use DWTest;
use IO::Socket::UNIX;
use Socket qw(SOCK_STREAM);
use Test::More;

my $w = DWTest->new;
my $good = $w->with_paths($DWTest::BASE_YAML);
$w->start;
my $n = 1;    # event=loaded lines so far
my $src = 1;  # client address counter

# Unbound answers, the module observes a fresh client, no restart happened.
sub serving {
	my ($what) = @_;
	my $c = '127.0.13.' . $src++;
	is($w->ask($c, 'portal.campus.test'), 'NOERROR 192.0.2.81', "$what: Unbound answers");
	ok(scalar $w->wait_log(qr/event=query client=\Q$c\E qname=portal\.campus\.test\. /),
		"$what: the module still observes");
	unless ($w->{unbound} && kill(0, $w->{unbound}) && waitpid($w->{unbound}, POSIX::WNOHANG()) == 0) {
		fail("$what: Unbound is still the process we started");
		delete $w->{unbound};
		$w->write_file($w->yaml, $good);
		$w->start;    # so that the next case tests something
		$n = scalar $w->log_grep(qr/dnswarden: event=loaded /);
		return;
	}
	pass("$what: Unbound is still the process we started");
}

my %bad = (
	'missing geoip.country_db' => [$good . "geoip:\n  country_db: " . $w->dir . "/no-such.mmdb\n",
		qr/geoip\.country_db: \Q${\$w->dir}\E\/no-such\.mmdb: /],
	'control.socket in a missing directory' => [
		"mode: observe\nenforcement: rpz\ndebug:\n  log_queries: true\nstate_file: ${\$w->state}\n"
		. "control:\n  socket: ${\$w->dir}/no-such-dir/dnswarden.ctl\n  group: \"\"\n",
		qr/control\.socket: \Q${\$w->dir}\E\/no-such-dir\/dnswarden\.ctl: directory \Q${\$w->dir}\E\/no-such-dir: No such file or directory/],
);

for my $case (sort keys %bad) {
	my ($yaml, $why) = @{$bad{$case}};

	# the control socket's reload verb: refused, nothing touched
	$w->write_file($w->yaml, $yaml);
	my ($st, $out, $err) = $w->ctl('reload');
	is($st, 1, "$case: dnswarden-control reload fails (exit 1)") or diag "$out$err";
	like($err, $why, "$case: ... and says why");
	like($err, qr/running configuration is kept/, "$case: ... and that the running one is kept");
	sleep 1;
	is(scalar $w->log_grep(qr/dnswarden: event=loaded /), $n, "$case: the module was not restarted");
	serving("$case, dnswarden-control reload");

	# unbound-control reload: the module comes back with the last good file
	like($w->control('reload'), qr/^ok/, "$case: unbound-control reload says ok");
	ok(scalar $w->wait_log(qr/dnswarden: event=config_error file=\Q${\$w->yaml}\E keeping=\Q${\$w->yaml}\E error=".*$why/),
		"$case: config_error names the reason and says the last good config is kept") or diag $w->log_text;
	is(scalar $w->wait_log(qr/dnswarden: event=loaded /, ++$n), $n, "$case: the module came back");
	serving("$case, unbound-control reload");
	is(($w->ctl('status'))[0], 0, "$case: the control socket still answers");
	$w->write_file($w->yaml, $good);
}

# a 1-day window is allowed by dnswarden.yaml(5) and needs a ninth counter
my $day = $good . "detectors:\n  mx_worm:\n    window: 1d\n    threshold: 3\n";
$w->write_file($w->yaml, $day);
my ($st, $out, $err) = $w->ctl('reload');
is($st, 0, 'mx_worm.window 1d: dnswarden-control reload accepts it') or diag "$out$err";
is(scalar $w->wait_log(qr/dnswarden: event=loaded /, ++$n), $n, 'mx_worm.window 1d: the module reloaded with it');
serving('mx_worm.window 1d');
is(scalar $w->log_grep(qr/too many distinct detector windows/), 0, 'mx_worm.window 1d: no counter error');
$w->ask('127.0.13.200', "d$_.victim.lab", 'MX') for 1 .. 3;
ok(scalar $w->wait_log(qr/event=would_block client=127\.0\.13\.200 detector=mx_worm .*window=86400/),
	'mx_worm.window 1d: the detector counts over one day') or diag join "\n", $w->log_grep(qr/13\.200/);
like($w->control('reload'), qr/^ok/, 'mx_worm.window 1d: unbound-control reload too');
is(scalar $w->wait_log(qr/dnswarden: event=loaded /, ++$n), $n, 'mx_worm.window 1d: loaded again');
serving('mx_worm.window 1d, unbound-control reload');

# the checks pass, the start still fails: another process listens on the new
# control socket; the module comes back with the last good file
my $taken = $w->dir . '/taken.ctl';
my $l = IO::Socket::UNIX->new(Type => SOCK_STREAM, Local => $taken, Listen => 1) or die "$taken: $!";
$w->write_file($w->yaml, "mode: observe\nenforcement: rpz\ndebug:\n  log_queries: true\nstate_file: ${\$w->state}\n"
	. "control:\n  socket: $taken\n  group: \"\"\n");
like($w->control('reload'), qr/^ok/, 'socket taken: unbound-control reload says ok');
ok(scalar $w->wait_log(qr/dnswarden: event=config_error file=\Q${\$w->yaml}\E keeping=\Q${\$w->yaml}\E error="control\.socket: \Q$taken\E: another process is listening/),
	'socket taken: the failed start is logged, the last good config kept') or diag $w->log_text;
is(scalar $w->wait_log(qr/dnswarden: event=loaded /, ++$n), $n, 'socket taken: the module came back');
serving('socket taken');
is(($w->ctl('status'))[0], 0, 'socket taken: the old control socket answers');
close $l;
unlink $taken;

$w->stop;
is_deeply([$w->leftover_pids], [], 'no process of this test left running');
done_testing;
