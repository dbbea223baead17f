package DWTest;
# Test harness for dnswarden's integration tests: starts the DNS world
# (tools/dev/world), a real Unbound with the dnswarden module on a free loopback
# port, and queries it with Net::DNS from distinct 127.x.y.z source addresses.
# Everything it starts it stops again, by PID, even when a test dies.
use strict;
use warnings;
use Cwd qw(abs_path);
use File::Basename qw(dirname basename);
use File::Path qw(make_path remove_tree);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use Net::DNS;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);
use Test::More;

# Every test that uses this module starts the test DNS world, whose servers
# listen on port 53 of DW_WORLD_NET.x: as another user it is reported as
# skipped, with the reason (make check as non-root still runs the unit tests).
plan skip_all => 'needs root: the test DNS world listens on port 53 of '
	. ($ENV{DW_WORLD_NET} || '127.0.53') . '.x (run make check as root)'
	if $> != 0;
plan skip_all => $ENV{DW_SKIP_INTEGRATION} if $ENV{DW_SKIP_INTEGRATION};

our $SRCDIR   = $ENV{DW_SRCDIR}   || abs_path(dirname(__FILE__) . '/../..');
our $BUILDDIR = $ENV{DW_BUILDDIR} || $SRCDIR;
our $UNBOUND  = $ENV{UNBOUND_PREFIX} || "$SRCDIR/_deps/unbound";
our $MODULE   = "$BUILDDIR/module/dnswarden.so";

my @live;    # every DWTest object not yet stopped, for the END block
my @dirs;    # every test directory, removed at the end when the test passed

# A test killed by a signal must still stop what it started: turn INT/TERM
# into a normal exit (END runs); a peer closing a socket is not fatal.
$SIG{INT} = $SIG{TERM} = sub { exit 1 };
$SIG{PIPE} = 'IGNORE';

# A minimal test config: observe mode, per-query log lines on.
our $BASE_YAML = <<'EOF';
mode: observe
enforcement: rpz
debug:
  log_queries: true
EOF

# A free port on 127.0.0.1 for both UDP and TCP.
sub free_port {
	for (1 .. 50) {
		my $u = IO::Socket::INET->new(Proto => 'udp', LocalAddr => '127.0.0.1', LocalPort => 0) or next;
		my $port = $u->sockport;
		my $t = IO::Socket::INET->new(Proto => 'tcp', LocalAddr => '127.0.0.1', LocalPort => $port, Listen => 1, ReuseAddr => 1);
		return $port if $t;
	}
	die "no free port on 127.0.0.1";
}

# new(yaml => TEXT, extra_conf => TEXT, name => STR, world_of => DWTest):
# world up (or the world of another instance used), files written, Unbound
# not started yet (call start()).
sub new {
	my ($class, %o) = @_;
	my $name = $o{name} || basename($0, '.t');
	my $dir  = "$BUILDDIR/t/tmp/$name-$$";
	remove_tree($dir);
	make_path($dir);
	# The control socket lives in a short directory under /tmp that any user
	# may traverse (0711), wherever the clone is (a 0700 home, a long path).
	my $pub = tempdir('dwtest-XXXXXX', TMPDIR => 1);
	chmod 0711, $pub;
	push @dirs, $dir, $pub;
	my $self = bless { dir => $dir, pub => $pub, port => free_port(), pids => [], world => 0, syslog => $o{syslog} }, $class;
	make_path("$dir/syslog") if $o{syslog};
	push @live, $self;
	if ($o{world_of}) {    # a second resolver in the world of another instance
		system('cp', $o{world_of}->dir . '/root.hints', "$dir/root.hints") == 0 or die "root.hints";
	} else {
		$self->start_world;
	}
	$self->{yaml} = "$dir/dnswarden.yaml";
	$self->{socket} = "$pub/dnswarden.ctl";
	$self->{state} = "$dir/dnswarden.state";
	$self->write_file($self->{yaml}, $self->with_paths(exists $o{yaml} ? $o{yaml} : $BASE_YAML));
	my $conf = `"$SRCDIR/tools/dev/world" resolver-conf "$dir" $self->{port} "$MODULE"`;
	die "resolver-conf failed" if $?;
	chomp $conf;
	$self->{conf} = $conf;
	$self->{log}  = "$dir/unbound/unbound.log";
	$self->write_file("$dir/unbound/extra.conf", $o{extra_conf} // '');
	return $self;
}

# The test's own control socket and state file, unless the YAML sets them.
sub with_paths {
	my ($self, $yaml) = @_;
	$yaml .= "\nstate_file: $self->{state}\n" unless $yaml =~ /^state_file:/m;
	$yaml .= "control:\n  socket: $self->{socket}\n  group: \"\"\n" unless $yaml =~ /^control:/m;
	$yaml .= "incidents:\n  database: $self->{dir}/incidents.db\n" unless $yaml =~ /^incidents:/m;
	# the world's victim domains dN.victim.lab stand for different domains
	# (victim1.example, ...): each is its own registrable domain; the world's
	# TLD "test" stands for a real one (names under a TLD nobody lists share
	# one pseudo base for dns_tunnel and the MX rule)
	$yaml .= "public_suffixes: [victim.lab, test]\n" unless $yaml =~ /^public_suffixes:/m;
	return $yaml;
}

sub socket { $_[0]{socket} }
# A directory every user can reach (for files an unprivileged peer needs).
sub public_dir { $_[0]{pub} }
sub state  { $_[0]{state} }

# Run dnswarden-control against this instance; returns (exit status,
# stdout, stderr).
sub ctl {
	my ($self, @args) = @_;
	my ($out, $err) = ("$self->{dir}/ctl.out", "$self->{dir}/ctl.err");
	system("\"$BUILDDIR/tools/dnswarden-control\" -s \"$self->{socket}\" "
		. join(' ', map { "'$_'" } @args) . " >\"$out\" 2>\"$err\"");
	my $st = $? == -1 ? 127 : $? >> 8;
	local $/;
	open(my $o, '<', $out) or die;
	open(my $e, '<', $err) or die;
	return ($st, scalar(<$o>) // '', scalar(<$e>) // '');
}

sub dir  { $_[0]{dir} }
sub port { $_[0]{port} }
sub conf { $_[0]{conf} }
sub yaml { $_[0]{yaml} }
sub logfile { $_[0]{log} }

sub write_file {
	my ($self, $path, $text) = @_;
	open(my $fh, '>', $path) or die "$path: $!";
	print $fh $text;
	close $fh or die "$path: $!";
}

sub start_world {
	my ($self) = @_;
	my $out = `"$SRCDIR/tools/dev/world" start "$self->{dir}" 2>&1`;
	die "world did not start: $out" if $?;
	$self->{world} = 1;
}

# Start Unbound in the foreground (-d) as our child; env DNSWARDEN_CONF points
# at the test's YAML unless overridden. Returns when it answers, or dies.
sub start {
	my ($self, %o) = @_;
	my $conf_env = exists $o{config} ? $o{config} : $self->{yaml};
	my $pid = fork();
	die "fork: $!" unless defined $pid;
	if ($pid == 0) {
		if (defined $conf_env) { $ENV{DNSWARDEN_CONF} = $conf_env } else { delete $ENV{DNSWARDEN_CONF} }
		open(STDOUT, '>>', "$self->{dir}/unbound/stdout") or die;
		open(STDERR, '>&', \*STDOUT) or die;
		my @cmd = ("$UNBOUND/sbin/unbound", '-d', '-c', $self->{conf});
		unshift @cmd, "$SRCDIR/t/lib/with-syslog", "$self->{dir}/syslog" if $self->{syslog};
		exec(@cmd) or die "exec unbound: $!";
	}
	$self->{unbound} = $pid;
	return $pid if $o{no_wait};
	my $deadline = time + 20;
	while (time < $deadline) {
		if (waitpid($pid, WNOHANG) == $pid) {
			delete $self->{unbound};
			die "unbound exited (status $?) at start:\n" . $self->start_errors;
		}
		return $pid if $self->control('status') =~ /is running/;
		sleep 0.1;
	}
	die "unbound did not come up in 20 s:\n" . $self->start_errors;
}

# What Unbound said at start: its stderr (errors before the log file is
# open: config, dlopen, bind) and its log file.
sub start_errors {
	my ($self) = @_;
	my $err = '';
	if (open(my $fh, '<', "$self->{dir}/unbound/stdout")) { local $/; $err = <$fh> // '' }
	return "--- unbound's stderr ($self->{dir}/unbound/stdout):\n$err"
		. "--- $self->{log}:\n" . $self->log_text;
}

# Wait for a started-with-no_wait Unbound to exit; returns its exit status or
# undef if it is still running after $secs.
sub wait_exit {
	my ($self, $secs) = @_;
	my $deadline = time + ($secs // 10);
	while (time < $deadline) {
		if (waitpid($self->{unbound}, WNOHANG) == $self->{unbound}) {
			delete $self->{unbound};
			return $? >> 8;
		}
		sleep 0.05;
	}
	return undef;
}

# unbound-control against this instance; returns its output.
sub control {
	my ($self, @args) = @_;
	my @cmd = ("$UNBOUND/sbin/unbound-control", '-c', $self->{conf}, @args);
	my $out = '';
	if (open(my $fh, '-|')) { local $/; $out = <$fh> // ''; close $fh }
	else { open(STDERR, '>&', \*STDOUT); exec @cmd or exit 127 }
	return $out;
}

# Ask $name/$type from source address $src; returns the Net::DNS::Packet or
# undef on timeout.
sub query {
	my ($self, $src, $name, $type, %o) = @_;
	my $res = Net::DNS::Resolver->new(
		nameservers => ['127.0.0.1'], port => $self->{port}, srcaddr => $src,
		recurse => 1, retry => 1, retrans => $o{timeout} // 3,
		udp_timeout => $o{timeout} // 3, tcp_timeout => $o{timeout} // 3,
		usevc => $o{tcp} ? 1 : 0,
	);
	return $res->send($name, $type // 'A');
}

# The rcode and first A/AAAA/PTR/MX answer as "RCODE data", or "TIMEOUT".
sub ask {
	my ($self, @a) = @_;
	my $p = $self->query(@a) or return 'TIMEOUT';
	my ($rr) = grep { $_->type =~ /^(A|AAAA|PTR|MX)$/ } $p->answer;
	my $data = !$rr ? '' : $rr->type eq 'MX' ? $rr->exchange : $rr->type eq 'PTR' ? $rr->ptrdname : $rr->address;
	return $p->header->rcode . ($data ne '' ? " $data" : '');
}

# Run the traffic simulator against this resolver; returns its summary line.
sub dwsim {
	my ($self, @args) = @_;
	my $out = `"$BUILDDIR/tools/dwsim" -q -s 127.0.0.1:$self->{port} @args 2>&1`;
	die "dwsim @args failed ($?): $out" if $? >> 8;
	my @l = split /\n/, $out;
	return $l[-1] // '';
}

# A file's whole text ('' while it cannot be read).
sub file_text {
	my ($path) = @_;
	open(my $fh, '<', $path) or return '';
	local $/;
	return <$fh> // '';
}

# Unbound's log so far.
sub log_text {
	my ($self) = @_;
	return file_text($self->{log});
}

# Log lines matching $re.
sub log_grep {
	my ($self, $re) = @_;
	return grep { /$re/ } split /\n/, $self->log_text;
}

# Wait until at least $n log lines match $re (default 1); returns them.
sub wait_log {
	my ($self, $re, $n, $secs) = @_;
	$n //= 1;
	my @l;
	wait_until($secs // 10, sub { @l = $self->log_grep($re); @l >= $n });
	return @l;
}

# Wait for an event the test cannot be told of otherwise: call $cond every
# 0.1 s until it returns true (that value is returned) or $secs pass (its
# last value is returned). The bound is generous (a loaded machine is slow);
# a test asserts on what comes back, never on how long it took.
sub wait_until {
	my ($secs, $cond) = @_;
	my $deadline = time + $secs;
	my $v;
	while (1) {
		$v = $cond->();
		return $v if $v || time >= $deadline;
		sleep 0.1;
	}
}

# The state file's text ('' while there is none).
sub state_text {
	my ($self) = @_;
	return file_text($self->{state});
}

# Wait until the state file matches $re (the module's thread writes it at
# most once a second): true when it does, false after $secs (default 60).
sub wait_state {
	my ($self, $re, $secs) = @_;
	return wait_until($secs // 60, sub { $self->state_text =~ $re }) ? 1 : 0;
}

# with syslog => 1: the lines our private rsyslogd received.
sub syslog_grep {
	my ($self, $re) = @_;
	open(my $fh, '<', "$self->{dir}/syslog/syslog.log") or return ();
	return grep { /$re/ } map { chomp; $_ } <$fh>;
}

sub stop_unbound {
	my ($self) = @_;
	my $pid = delete $self->{unbound} or return;
	kill 'TERM', $pid;
	my $deadline = time + 10;
	while (time < $deadline) {
		if (waitpid($pid, WNOHANG) == $pid) { $self->stop_syslog; return }
		sleep 0.05;
	}
	kill 'KILL', $pid;
	waitpid($pid, 0);
	$self->stop_syslog;
}

# Stop the private rsyslogd of a syslog => 1 instance (after Unbound).
sub stop_syslog {
	my ($self) = @_;
	return unless $self->{syslog};
	open(my $fh, '<', "$self->{dir}/syslog/rsyslog.pid") or return;
	my $pid = <$fh>;
	close $fh;
	chomp $pid if defined $pid;
	return unless $pid && kill(0, $pid);
	kill 'TERM', $pid;
	for (1 .. 100) { return unless kill(0, $pid); sleep 0.05 }
	kill 'KILL', $pid;
}

sub stop {
	my ($self) = @_;
	$self->stop_unbound;
	$self->stop_syslog;    # also when Unbound never came up
	if ($self->{world}) {
		system("\"$SRCDIR/tools/dev/world\" stop \"$self->{dir}\" >/dev/null 2>&1");
		$self->{world} = 0;
	}
	@live = grep { $_ != $self } @live;
}

# Every process this test started, as "pid" strings, that is still alive.
sub leftover_pids {
	my ($self) = @_;
	my @p;
	push @p, $self->{unbound} if $self->{unbound} && kill(0, $self->{unbound});
	if (open(my $fh, '<', "$self->{dir}/syslog/rsyslog.pid")) {
		my $pid = <$fh>;
		chomp $pid if defined $pid;
		push @p, $pid if $pid && kill(0, $pid);
	}
	for my $pf (glob "$self->{dir}/nsd-*/pid") {
		open(my $fh, '<', $pf) or next;
		my $pid = <$fh>;
		chomp $pid;
		push @p, $pid if $pid && kill(0, $pid);
	}
	return @p;
}

END {
	my $status = $?;
	$_->stop for (my @copy = @live);
	# A passing test leaves nothing behind; a failing one keeps its files.
	if ($status == 0 && Test::More->builder->is_passing) {
		remove_tree($_) for @dirs;
	} elsif (@dirs) {
		print STDERR "# test files kept in @dirs\n";
	}
	$? = $status;
}

1;
