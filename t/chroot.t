#!/usr/bin/perl
# dnswarden inside Unbound's chroot (issue 9, item 10). The module starts
# after Unbound has chrooted: its control socket is made without
# fchmodat(AT_SYMLINK_NOFOLLOW), which glibc implements through /proc (not
# there in a chroot). Its file names may be written as seen from outside
# (the chroot prefix is dropped, as Unbound does for its own files), so that
# dnswarden-control -c finds the socket with the same YAML. The module
# library and the libraries it needs are copied into the chroot, as an
# operator would.
use strict;
use warnings;
use lib 't/lib';
use DWTest;
use DWEnforce qw(wait_answer);
use File::Basename qw(dirname);
use File::Copy qw(copy);
use File::Path qw(make_path);
use Test::More;
use Time::HiRes qw(sleep time);

my $w = DWTest->new;
my $root = $w->dir;
# the socket named from outside the chroot (with its prefix)
$w->write_file($w->yaml, $w->with_paths($DWTest::BASE_YAML . "control:\n  socket: $root/dnswarden.ctl\n  group: \"0\"\n"));
$w->{socket} = "$root/dnswarden.ctl"; # what $w->ctl talks to: this test's socket

# the module and the libraries it links, inside the chroot
my $so = "$root/modlib/dnswarden.so";
make_path(dirname($so));
copy($DWTest::MODULE, $so) or die "copy module: $!";
for my $lib (`ldd "$DWTest::MODULE"` =~ m{(/\S+)}g) {
	make_path(dirname("$root$lib"));
	copy($lib, "$root$lib") or die "copy $lib: $!";
}
# Unbound's conf with the module named as Unbound's dlopen() sees it (after
# chroot), and the chroot itself
system("\"$DWTest::SRCDIR/tools/dev/world\" resolver-conf \"$root\" ${\$w->port} /modlib/dnswarden.so >/dev/null") == 0 or die;
$w->write_file("$root/unbound/extra.conf", "chroot: \"$root\"\n");

$w->start;
ok(scalar $w->wait_log(qr/dnswarden: event=loaded version=\S+ config=\/dnswarden\.yaml /),
	'the module starts inside the chroot and reads its YAML there') or diag $w->log_text;
is($w->ask('127.0.15.1', 'portal.campus.test'), 'NOERROR 192.0.2.81', 'Unbound answers');
ok(scalar $w->wait_log(qr/event=query client=127\.0\.15\.1 qname=portal\.campus\.test\. /), 'the module observes');

# the control socket, seen from outside the chroot
my @st = lstat("$root/dnswarden.ctl");
ok(@st && -S _, 'the control socket is there, seen from outside');
is(($st[2] // 0) & 07777, 0660, 'mode 0660 (control.group set)');
is($st[5], 0, 'group 0');
my $out = `"$DWTest::BUILDDIR/tools/dnswarden-control" -c "${\$w->yaml}" status 2>&1`;
is($? >> 8, 0, 'dnswarden-control -c YAML finds the socket from outside') or diag $out;

# blocks and the state file
my ($st, $o, $err) = $w->ctl('block', '127.0.15.2', '1h', 'nxdomain');
is($st, 0, 'manual block inside the chroot') or diag $err;
is(wait_answer($w, '127.0.15.2', 'www.campus.test', 'A', 'NXDOMAIN', 3), 'NXDOMAIN', 'the block holds');
my $deadline = time + 5;
sleep 0.1 while time < $deadline && !-s $w->state;
ok(-s $w->state, 'the state file is written inside the chroot');

# reloads inside the chroot
($st, $o, $err) = $w->ctl('reload');
is($st, 0, 'dnswarden-control reload inside the chroot') or diag "$o$err";
is(scalar $w->wait_log(qr/dnswarden: event=loaded /, 2), 2, 'the module came back');
like($w->control('reload'), qr/^ok/, 'unbound-control reload');
is(scalar $w->wait_log(qr/dnswarden: event=loaded /, 3), 3, 'the module came back again');
is(wait_answer($w, '127.0.15.2', 'www.campus.test', 'A', 'NXDOMAIN', 3), 'NXDOMAIN', 'the block survived both reloads');
is($w->ask('127.0.15.3', 'portal.campus.test'), 'NOERROR 192.0.2.81', 'Unbound answers after the reloads');

# the same files named as seen inside the chroot
$w->stop_unbound;
truncate($w->logfile, 0);
$w->write_file($w->yaml, "mode: observe\nenforcement: rpz\nstate_file: /dnswarden.state\n"
	. "control:\n  socket: /dnswarden.ctl\n  group: \"\"\n");
$w->start(config => '/dnswarden.yaml');
ok(scalar $w->wait_log(qr/dnswarden: event=loaded version=\S+ config=\/dnswarden\.yaml /),
	'paths as seen inside the chroot work too') or diag $w->log_text;
is(($w->ctl('status'))[0], 0, 'the control socket answers');
is((lstat("$root/dnswarden.ctl"))[2] & 07777, 0600, 'mode 0600 (no control.group)');
is(wait_answer($w, '127.0.15.2', 'www.campus.test', 'A', 'NXDOMAIN', 3), 'NXDOMAIN', 'the block is back from the state file');

$w->stop;
is_deeply([$w->leftover_pids], [], 'no process of this test left running');
done_testing;
