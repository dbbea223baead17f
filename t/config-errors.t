#!/usr/bin/perl
# A config file that is missing or not valid: Unbound refuses to start and
# the message names the file and the reason (line and column for YAML).
use strict;
use warnings;
use lib 't/lib';
use DWTest;
use Test::More;

my $w = DWTest->new;
my $missing = $w->dir . '/no-such-dnswarden.yaml';
$w->start(config => $missing, no_wait => 1);
my $st = $w->wait_exit(20);
ok(defined $st && $st != 0, 'missing config: unbound exits with an error') or diag $w->log_text;
ok(scalar $w->log_grep(qr/dnswarden: event=config_error file=\Q$missing\E error="\Q$missing\E: cannot open: No such file or directory"/),
	'the log names the missing file and why') or diag $w->log_text;
ok(!$w->query('127.0.12.1', 'www.campus.test', 'A', timeout => 1), 'nothing answers');

truncate($w->logfile, 0);
$w->write_file($w->yaml, "mode: observe\nclients:\n  max: [1, 2\n");
$w->start(no_wait => 1);
$st = $w->wait_exit(20);
ok(defined $st && $st != 0, 'invalid YAML: unbound exits with an error');
ok(scalar $w->log_grep(qr/dnswarden: event=config_error file=\Q${\$w->yaml}\E error="\Q${\$w->yaml}\E:\d+:\d+: /),
	'the log names the file with line and column') or diag $w->log_text;

truncate($w->logfile, 0);
$w->write_file($w->yaml, "mode: observe\nclients:\n  max: lots\n");
$w->start(no_wait => 1);
$st = $w->wait_exit(20);
ok(defined $st && $st != 0, 'a bad value: unbound exits with an error');
ok(scalar $w->log_grep(qr/\Q${\$w->yaml}\E:3:8: .*lots/), 'the error points at line 3, column 8 and quotes the value')
	or diag $w->log_text;

$w->stop;
is_deeply([$w->leftover_pids], [], 'no process of this test left running');
done_testing;
