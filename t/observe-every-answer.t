#!/usr/bin/perl
# The module sees every answered client query with the client's own address:
# a cache miss, a cache hit of the same name by another client, a local-data
# answer and a SERVFAIL.
use strict;
use warnings;
use lib 't/lib';
use DWTest;
use Test::More;

my $w = DWTest->new;
$w->start;
ok(scalar $w->wait_log(qr/dnswarden: event=loaded version=\S+ config=\Q${\$w->yaml}\E mode=observe/),
	'one event=loaded line names the version and the config file');

is($w->ask('127.0.10.1', 'www.campus.test', 'A'), 'NOERROR 192.0.2.80', 'miss: resolved through the world');
is($w->ask('127.0.10.2', 'www.campus.test', 'A'), 'NOERROR 192.0.2.80', 'hit: same answer for a second client');
is($w->ask('127.0.10.3', 'wiki.intranet.lan', 'A'), 'NOERROR 192.0.2.100', 'local-data answer');
is($w->ask('127.0.10.4', 'www.dead.test', 'A'), 'SERVFAIL', 'a zone whose server is down gives SERVFAIL');
is($w->ask('127.0.10.5', '7.2.0.192.in-addr.arpa', 'PTR'), 'NOERROR host7.campus.test', 'PTR through the reverse tree');
is($w->ask('127.0.10.5', 'd42.victim.lab', 'MX'), 'NOERROR mx.victim.lab', 'MX through a wildcard zone');

my $q = qr/dnswarden: event=query /;
ok(scalar $w->wait_log(qr/${q}client=127\.0\.10\.1 qname=www\.campus\.test\. qtype=A rcode=NOERROR source=resolved count=1$/),
	'miss seen from 127.0.10.1 as resolved');
ok(scalar $w->wait_log(qr/${q}client=127\.0\.10\.2 qname=www\.campus\.test\. qtype=A rcode=NOERROR source=cache count=1$/),
	'hit seen from 127.0.10.2 as cache');
ok(scalar $w->wait_log(qr/${q}client=127\.0\.10\.3 qname=wiki\.intranet\.lan\. qtype=A rcode=NOERROR source=local count=1$/),
	'local-data answer seen from 127.0.10.3');
ok(scalar $w->wait_log(qr/${q}client=127\.0\.10\.4 qname=www\.dead\.test\. qtype=A rcode=SERVFAIL source=servfail count=1$/),
	'SERVFAIL seen from 127.0.10.4');
ok(scalar $w->wait_log(qr/${q}client=127\.0\.10\.5 qname=d42\.victim\.lab\. qtype=MX rcode=NOERROR source=\w+ count=2$/),
	'per-client count: the second query of 127.0.10.5 is its count=2');

# each answered query is seen exactly once
for my $c (1 .. 4) {
	my @l = $w->log_grep(qr/${q}client=127\.0\.10\.$c /);
	is(scalar @l, 1, "exactly one line for 127.0.10.$c");
}

$w->stop;
is_deeply([$w->leftover_pids], [], 'no process of this test left running');
done_testing;
