#!/usr/bin/perl
# `unbound-control reload` with the module loaded: the resolver keeps
# answering, the module re-initialises (a second loaded line) and still sees
# queries; a config broken before a reload is reported and the running one kept.
use strict;
use warnings;
use lib 't/lib';
use DWTest;
use Test::More;

my $w = DWTest->new;
$w->start;
is($w->ask('127.0.11.1', 'portal.campus.test'), 'NOERROR 192.0.2.81', 'answers before reload');
like($w->control('reload'), qr/^ok/, 'unbound-control reload says ok');
is(scalar $w->wait_log(qr/dnswarden: event=loaded /, 2), 2, 'a second event=loaded line after reload');
is($w->ask('127.0.11.2', 'portal.campus.test'), 'NOERROR 192.0.2.81', 'answers after reload');
ok(scalar $w->wait_log(qr/event=query client=127\.0\.11\.2 qname=portal\.campus\.test\. qtype=A rcode=NOERROR source=\w+ count=1$/),
	'the re-initialised module sees queries');

$w->write_file($w->yaml, "mode: observe\ndebug:\n  log_queries: true\ndetectors: [\n");
like($w->control('reload'), qr/^ok/, 'reload with a broken config file');
ok(scalar $w->wait_log(qr/dnswarden: event=config_error file=\Q${\$w->yaml}\E keeping=\Q${\$w->yaml}\E error=".*:\d+:\d+: /),
	'the error names the file, line and column and says the running config is kept');
is(scalar $w->wait_log(qr/dnswarden: event=loaded /, 3), 3, 'the module still came back up');
is($w->ask('127.0.11.3', 'portal.campus.test'), 'NOERROR 192.0.2.81', 'answers after the failed reload');
ok(scalar $w->wait_log(qr/event=query client=127\.0\.11\.3 /), 'and still observes (old config: log_queries on)');

$w->stop;
is_deeply([$w->leftover_pids], [], 'no process of this test left running');
done_testing;
