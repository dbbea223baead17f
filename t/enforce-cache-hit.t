#!/usr/bin/perl
# Enforcement covers cache hits, on both backends (HACKING.md, "Data flow of one query"):
# a client flagged by a detector gets the policy answer for a name already in
# Unbound's cache, while another client asking the same name at the same
# moment gets the real answer. Manual blocks show every action of the
# backend; an unblock gives the real answer back.
#
# rpz runs on the stock dynlib Unbound (_deps/unbound), hook on the patched
# one (_deps/unbound-hook, tools/dev/build-unbound --patched); a backend whose
# Unbound is missing is skipped.
use strict;
use warnings;
use lib 't/lib';
use DWTest;
use DWEnforce qw(backend_missing with_backend ctl ask_together wait_answer answer_text);
use Test::More;
use Time::HiRes qw(time);

my $NAME = 'www.campus.test';
my $REAL = 'NOERROR 192.0.2.80';
my $LOCAL = 'wiki.intranet.lan';    # local-data in the test resolver
my $LOCAL_REAL = 'NOERROR 192.0.2.100';

sub yaml {
	my ($backend, $action) = @_;
	return <<EOF;
mode: enforce
enforcement: $backend
detectors:
  mx_worm:         { threshold: 5, window: 10m, action: $action, duration: 1h }
  spam_relay:      { enabled: false }
  mx_keyword_scan: { enabled: false }
  ip_literal:      { enabled: false }
  ptr_flood:       { enabled: false }
  ptr_forward_ip:  { enabled: false }
  signature_names: { enabled: false }
EOF
}

# Unbound's message-cache hits so far (unbound-control stats_noreset).
sub cachehits {
	my ($t) = @_;
	my ($n) = $t->control('stats_noreset') =~ /^total\.num\.cachehits=(\d+)/m;
	return $n // -1;
}

sub block_ok {
	my ($t, $addr, $action, $why) = @_;
	my ($ok, $msg) = ctl($t->socket, 'block', $addr, '1h', $action);
	ok($ok, "$why: block $addr $action") or diag $msg;
}

sub run_backend {
	my ($backend) = @_;
	my $t = DWTest->new(name => "enforce-cache-hit-$backend", yaml => yaml($backend, 'nxdomain'));
	$t->start;
	ok(scalar $t->wait_log(qr/event=loaded/), 'module loaded');

	# the name is in the cache before anyone is blocked
	is($t->ask('127.0.44.2', $NAME), $REAL, "$NAME resolved by 127.0.44.2 (now cached)");
	is($t->ask('127.0.44.1', $NAME), $REAL, '127.0.44.1 gets the real answer before');

	# 127.0.44.1 behaves like a mass-mailing worm: mx_worm fires at 5 MX
	$t->dwsim('-S', '127.0.44.1', '-n', 12, '--seed', 3, 'sobig');
	my ($line) = $t->wait_log(qr/event=block client=127\.0\.44\.1\/32 action=nxdomain .*reason=detector:mx_worm/);
	ok($line, 'the detector blocked 127.0.44.1') or diag $t->log_text;
	my $t0 = time;
	is(wait_answer($t, '127.0.44.1', $NAME, 'A', 'NXDOMAIN', 5), 'NXDOMAIN',
		'flagged client gets NXDOMAIN for the cached name');
	note(sprintf('first policy answer %.1f ms after the block line was seen', 1000 * (time - $t0)));

	# both clients ask the same cached name at the same moment, repeatedly
	my $hits = cachehits($t);
	my $wrong = 0;
	for (1 .. 20) {
		my @a = ask_together($t, 2, ['127.0.44.1', $NAME], ['127.0.44.2', $NAME]);
		$wrong++ unless $a[0] eq 'NXDOMAIN' && $a[1] eq $REAL;
	}
	is($wrong, 0, 'asked together 20 times: flagged client NXDOMAIN, neighbour the real answer');
	cmp_ok(cachehits($t), '>=', $hits + 20, "the neighbour's answers were cache hits");

	# every action, by hand, on its own client; the neighbour is never touched
	block_ok($t, '127.0.44.3', 'sinkhole', 'sinkhole');
	is(wait_answer($t, '127.0.44.3', $NAME, 'A', 'NOERROR 192.0.2.66'), 'NOERROR 192.0.2.66', 'sinkhole: A');
	like(answer_text(scalar $t->query('127.0.44.3', $NAME, 'AAAA')), qr/^NOERROR 2001:db8:0*:0*:0*:0*:0*:66$/,
		'sinkhole: AAAA');
	is(answer_text(scalar $t->query('127.0.44.3', 'campus.test', 'MX')), 'NOERROR', 'sinkhole: other types NODATA');
	block_ok($t, '127.0.44.4', 'nodata', 'nodata');
	is(wait_answer($t, '127.0.44.4', $NAME, 'A', 'NOERROR'), 'NOERROR', 'nodata: NOERROR, no answer');
	block_ok($t, '127.0.44.5', 'drop', 'drop');
	is(answer_text(scalar $t->query('127.0.44.5', $NAME, 'A', timeout => 1)), 'TIMEOUT', 'drop: no reply');
	block_ok($t, '127.0.44.6', 'tcp-only', 'tcp-only');
	is(wait_answer($t, '127.0.44.6', $NAME, 'A', 'NOERROR TC'), 'NOERROR TC', 'tcp-only: TC over UDP');
	is(answer_text(scalar $t->query('127.0.44.6', $NAME, 'A', tcp => 1)), $REAL, 'tcp-only: real answer over TCP');
	is($t->ask('127.0.44.2', $NAME), $REAL, 'the neighbour still gets the real answer');

	if ($backend eq 'hook') {
		block_ok($t, '127.0.44.7', 'refuse', 'refuse');
		is(wait_answer($t, '127.0.44.7', $NAME, 'A', 'REFUSED'), 'REFUSED', 'hook: REFUSED for a cached name');
		is(answer_text(scalar $t->query('127.0.44.7', $LOCAL, 'A')), 'REFUSED', 'hook: REFUSED for local data too');
		is(answer_text(scalar $t->query('127.0.44.1', $LOCAL, 'A')), 'NXDOMAIN', 'hook: local data covered (nxdomain)');
	} else {
		my ($ok, $msg) = ctl($t->socket, 'block', '127.0.44.7', '1h', 'refuse');
		ok(!$ok, 'rpz: a refuse block is refused');
		like($msg, qr/nxdomain.*nodata.*sinkhole.*drop.*tcp-only/, 'and the message names the alternatives');
		is(answer_text(scalar $t->query('127.0.44.1', $LOCAL, 'A')), $LOCAL_REAL,
			'rpz: local data is answered before RPZ (documented limitation)');
	}

	# unblock: the real answer comes back at once
	my ($ok, $msg) = ctl($t->socket, 'unblock', '127.0.44.1');
	ok($ok, 'unblock 127.0.44.1') or diag $msg;
	is(wait_answer($t, '127.0.44.1', $NAME, 'A', $REAL), $REAL, 'unblocked client gets the real answer');
	ok(scalar $t->wait_log(qr/event=unblock client=127\.0\.44\.1\/32/), 'unblock logged');
	$t->stop;
}

for my $backend (qw(rpz hook)) {
	subtest "$backend backend" => sub {
		# a missing Unbound build is a failure: .ci/run builds both
		if (my $why = backend_missing($backend)) {
			fail("$backend backend: $why");
			return;
		}
		with_backend($backend, sub { run_backend($backend) });
	};
}

# refuse is a config error with the rpz backend, and the message says what to
# use instead
subtest 'rpz: refuse is a config error' => sub {
	if (my $why = backend_missing('rpz')) {
		fail("rpz backend: $why");
		return;
	}
	with_backend('rpz', sub {
		my $t = DWTest->new(name => 'enforce-cache-hit-refuse', yaml => yaml('rpz', 'refuse'));
		$t->start(no_wait => 1);
		my $st = $t->wait_exit(20);
		ok(defined $st && $st != 0, 'Unbound does not start');
		like(join("\n", $t->log_grep(qr/dnswarden/)), qr/refuse.*hook.*nxdomain/s,
			'the error names the hook backend and the rpz actions');
		$t->stop;
	});
};

done_testing;
