#!/usr/bin/perl
# A reload that turns on detectors.dns_tunnel.domain_action is checked like a
# start: with the hook backend and no rpz: clause for the zone in
# unbound.conf, `dnswarden-control reload` refuses the new file with the
# message a start gives (domain blocks are RPZ QNAME triggers), the module
# keeps running with the old one; a start with that file fails with the same
# message.
use strict;
use warnings;
use lib 't/lib';
use DWTest;
use DWEnforce qw(backend_missing with_backend);
use Test::More;

if (my $why = backend_missing('hook')) {
	fail("hook backend: $why");
	done_testing;
	exit;
}

my $base = "mode: enforce\nenforcement: hook\ndebug:\n  log_queries: true\n";
my $with_domains = $base . "detectors:\n  dns_tunnel: { domain_action: nxdomain }\n";
my $msg = qr/detectors\.dns_tunnel\.domain_action needs 'rpz: name: dnswarden\.rpz\.' in unbound\.conf \(and respip in module-config\): domain blocks are RPZ QNAME triggers/;

with_backend('hook', sub {
	my $w = DWTest->new(yaml => $base);
	# no rpz: clause in unbound.conf (the hook backend needs none itself)
	open(my $fh, '<', $w->conf) or die;
	my $c = do { local $/; <$fh> };
	close $fh;
	$c =~ s/^rpz:\n(?:\t.*\n)+//m or die 'no rpz: clause in ' . $w->conf;
	$w->write_file($w->conf, $c);

	$w->start;
	like(($w->ctl('status'))[1], qr/^backend=hook$/m, 'running with the hook backend, no rpz: clause');
	is($w->ask('127.184.2.1', 'portal.campus.test'), 'NOERROR 192.0.2.81', 'answers');

	$w->write_file($w->yaml, $w->with_paths($with_domains));
	my ($st, $out, $err) = $w->ctl('reload');
	is($st, 1, 'reload with domain_action and no rpz: clause: refused (exit 1)') or diag "$out$err";
	like($err, $msg, '... with the message of a start');
	like($err, qr/running configuration is kept/, '... and says the running one is kept');
	sleep 1;
	is(scalar $w->log_grep(qr/dnswarden: event=loaded /), 1, 'the module was not restarted');
	is($w->ask('127.184.2.2', 'portal.campus.test'), 'NOERROR 192.0.2.81', 'Unbound still answers');
	ok(scalar $w->wait_log(qr/event=query client=127\.184\.2\.2 /), 'the module still observes');

	# unbound-control reload: the module comes back with the last good file
	like($w->control('reload'), qr/^ok/, 'unbound-control reload with it says ok');
	ok(scalar $w->wait_log(qr/dnswarden: event=config_error file=\Q${\$w->yaml}\E keeping=\Q${\$w->yaml}\E error="$msg/),
		'config_error names the reason, the last good config is kept') or diag $w->log_text;
	is(scalar $w->wait_log(qr/dnswarden: event=loaded /, 2), 2, 'the module came back');
	is($w->ask('127.184.2.3', 'portal.campus.test'), 'NOERROR 192.0.2.81', 'Unbound answers after it');

	# a start with that file gives the same message
	$w->stop_unbound;
	$w->start(no_wait => 1);
	ok(defined $w->wait_exit(20), 'a start with it: Unbound exits');
	like($w->start_errors, qr/dnswarden: cannot start: $msg/, 'a start with it fails with the same message');
	$w->stop;
	is_deeply([$w->leftover_pids], [], 'no process of this test left running');
});
done_testing;
