#!/usr/bin/perl
# The state file against a hostile or damaged disk (issue 9, items 2 and 3),
# with a real Unbound: a symlink planted at PATH.tmp is never followed (its
# target keeps its bytes) and the file is written 0600; a state file with
# one changed byte in its header, a bad line and an incomplete last line is
# set aside intact as PATH.bad.TIMESTAMP with event=state_error and the
# counts, every good line is loaded (the blocks hold), and the file is
# rewritten from what loaded; lines over policy.max_blocks are counted; a
# state path that is a directory stops the first start and is refused by a
# reload.
use strict;
use warnings;
use lib 't/lib';
use DWTest;
use DWEnforce qw(wait_answer);
use Test::More;
use Time::HiRes qw(sleep time);

my $NAME = 'www.campus.test';
my $REAL = 'NOERROR 192.0.2.80';

my $w = DWTest->new;
my ($state, $tmp, $victim) = ($w->state, $w->state . '.tmp', $w->dir . '/victim');
$w->write_file($victim, "precious\n");
symlink($victim, $tmp) or die "symlink: $!";
$w->start;

# item 2: the temp file is never followed
my ($st, $out, $err) = $w->ctl('block', '127.0.14.1', '1h', 'nxdomain');
is($st, 0, 'manual block of 127.0.14.1') or diag $err;
($st, $out, $err) = $w->ctl('block', '127.0.14.2', 'forever', 'nxdomain');
is($st, 0, 'manual block of 127.0.14.2') or diag $err;
sub state_text { open(my $fh, '<', $state) or return ''; local $/; return <$fh> // '' }
my $deadline = time + 5;
sleep 0.1 while time < $deadline && state_text() !~ /block 127\.0\.14\.2\//;
like(state_text(), qr/^block 127\.0\.14\.1\/32 nxdomain manual 1 /m, 'the state file holds the block');
open(my $vfh, '<', $victim) or die;
is(scalar(<$vfh>), "precious\n", 'the file the planted PATH.tmp symlink pointed at is untouched');
close $vfh;
ok(!-l $tmp && !-e $tmp, 'the symlink at PATH.tmp is gone, no temp file left');
is((stat $state)[2] & 07777, 0600, 'the state file is mode 0600');

# item 3: a damaged file is set aside and every good line loaded
$w->stop_unbound;
my $good = state_text();
(my $damaged = $good) =~ s/^# dnswarden state/# dnswarden stat!/ or die 'no header';
$damaged .= "block not-an-address nxdomain manual 1 1 0 1 0\nblock 127.0.14.9/32 nxd";
$w->write_file($state, $damaged);
truncate($w->logfile, 0);
$w->start;
my ($line) = $w->wait_log(qr/dnswarden: event=state_error /);
like($line // '', qr/event=state_error file=\Q$state\E set_aside=\Q$state\E\.bad\.\d{8}T\d{6}Z loaded=\d+ dropped=3 malformed=1 over_max_blocks=0 incomplete=1 bad_header=yes error="\Q$state\E:1: /,
	'event=state_error names the copy aside and counts what was dropped, by reason') or diag $w->log_text;
my ($aside) = ($line // '') =~ /set_aside=(\S+)/;
ok($aside && -f $aside, 'the copy aside exists');
if ($aside && open(my $afh, '<', $aside)) { local $/; is(scalar(<$afh>), $damaged, 'the copy aside is the damaged file, byte for byte') }
else { fail('the copy aside is the damaged file, byte for byte') }
is(wait_answer($w, '127.0.14.1', $NAME, 'A', 'NXDOMAIN', 3), 'NXDOMAIN', 'a block from the damaged file holds');
is(wait_answer($w, '127.0.14.2', $NAME, 'A', 'NXDOMAIN', 3), 'NXDOMAIN', 'the other one too');
is($w->ask('127.0.14.9', $NAME), $REAL, 'the incomplete last line is not taken');
$deadline = time + 5;
sleep 0.1 while time < $deadline && state_text() !~ /^# dnswarden state v2/;
like(state_text(), qr/\A# dnswarden state v2 .*\n(?:.*\n)*block 127\.0\.14\.2\/32 /, 'the state file is rewritten from what loaded');
unlike(state_text(), qr/not-an-address|127\.0\.14\.9/, '... without the damaged lines');

# lines over policy.max_blocks are counted, and the file kept aside
$w->stop_unbound;
$w->write_file($w->yaml, $w->with_paths($DWTest::BASE_YAML . "policy:\n  max_blocks: 1\n"));
truncate($w->logfile, 0);
$w->start;
ok(scalar $w->wait_log(qr/event=state_error file=\Q$state\E set_aside=\S+ loaded=\d+ dropped=1 malformed=0 over_max_blocks=1 incomplete=0 bad_header=no /),
	'a block over policy.max_blocks is counted and the file set aside') or diag $w->log_text;

# a state path that is a directory: refused by a reload, fatal at first start
mkdir $w->dir . '/state-dir' or die;
$w->write_file($w->yaml, $w->with_paths("mode: observe\nenforcement: rpz\nstate_file: ${\$w->dir}/state-dir\n"));
($st, $out, $err) = $w->ctl('reload');
is($st, 1, 'reload with state_file a directory: refused');
like($err, qr/state_file: \Q${\$w->dir}\E\/state-dir is a directory/, '... with the reason');
$w->stop_unbound;
truncate($w->logfile, 0);
$w->start(no_wait => 1);
$st = $w->wait_exit(20);
ok(defined $st && $st != 0, 'first start with state_file a directory: Unbound exits');
ok(scalar $w->log_grep(qr/dnswarden: event=config_error file=\S+ error="state_file: \Q${\$w->dir}\E\/state-dir is a directory"/),
	'... and the log says why') or diag $w->log_text;

$w->stop;
is_deeply([$w->leftover_pids], [], 'no process of this test left running');
done_testing;
